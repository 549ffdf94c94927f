package cookiesession

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// deflateLevel is the compress/flate level used for sealing. SPEC.md §12
// gives the measurements behind it. Any level produces a valid raw DEFLATE
// stream; the level is not part of the format.
const deflateLevel = flate.DefaultCompression

// deflates and inflates count the calls to appendDeflate and inflate, so
// that tests and benchmarks can show which requests compress: one atomic
// add per call, next to tens of microseconds of DEFLATE.
var deflates, inflates atomic.Int64

// appendWriter appends everything written to it to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// deflater is a pooled flate writer with the sink it writes to. A fresh
// flate.Writer allocates about 1 MB, so they are always reused.
type deflater struct {
	w    *flate.Writer
	sink appendWriter
}

var deflaterPool = sync.Pool{New: func() any {
	d := new(deflater)
	d.w, _ = flate.NewWriter(&d.sink, deflateLevel) // the level is valid
	return d
}}

// appendDeflate appends the raw DEFLATE compression of src to dst.
func appendDeflate(dst, src []byte) []byte {
	deflates.Add(1)
	d := deflaterPool.Get().(*deflater)
	d.sink.b = dst
	d.w.Reset(&d.sink)
	// Writes to an appendWriter cannot fail, so neither can these.
	d.w.Write(src)
	d.w.Close()
	out := d.sink.b
	d.sink.b = nil
	deflaterPool.Put(d)
	return out
}

// inflater is a pooled flate reader with the source it reads from.
type inflater struct {
	r   io.ReadCloser
	src bytes.Reader
}

var inflaterPool = sync.Pool{New: func() any {
	f := new(inflater)
	f.r = flate.NewReader(&f.src)
	return f
}}

// inflate appends the decompression of the raw DEFLATE stream src to dst.
// It stops with ErrTooLarge as soon as the output would pass max bytes, and
// fails with ErrMalformed on an invalid stream or on bytes after its end.
func inflate(dst, src []byte, max int) ([]byte, error) {
	inflates.Add(1)
	f := inflaterPool.Get().(*inflater)
	defer func() {
		f.src.Reset(nil) // do not keep session data reachable from the pool
		inflaterPool.Put(f)
	}()
	f.src.Reset(src)
	if err := f.r.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return dst, fmt.Errorf("%w: deflate: %w", ErrMalformed, err)
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		// Never read more than one byte past the cap.
		room := cap(dst) - len(dst)
		if left := max + 1 - (len(dst) - start); room > left {
			room = left
		}
		n, err := f.r.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > max {
			return dst[:start], fmt.Errorf("%w: payload inflates to over MaxPayloadSize %d", ErrTooLarge, max)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return dst[:start], fmt.Errorf("%w: deflate: %w", ErrMalformed, err)
		}
	}
	if f.src.Len() != 0 {
		return dst[:start], fmt.Errorf("%w: %d bytes after the end of the deflate stream", ErrMalformed, f.src.Len())
	}
	return dst, nil
}

// inflateExact returns the decompression of the raw DEFLATE stream src,
// which must be exactly n bytes long: a session value's stored inflated
// length (SPEC.md §13). Anything else, like an invalid stream or bytes
// after its end, fails with ErrMalformed. It allocates the result once.
func inflateExact(src []byte, n int) ([]byte, error) {
	// One byte of room past n, so that inflate sees a longer stream
	// without growing the slice.
	out, err := inflate(make([]byte, 0, n+1), src, n)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%w: value inflates to more than its stored length %d", ErrMalformed, n)
	case err != nil:
		return nil, err
	case len(out) != n:
		return nil, fmt.Errorf("%w: value inflates to %d bytes, not its stored length %d", ErrMalformed, len(out), n)
	}
	return out[:n:n], nil
}
