// Package compress measures candidate compressors for sealed session cookies.
//
// It lives in its own module so that the compressor libraries under test do
// not become dependencies of the main module. Run it with
//
//	go test ./...
//	go test -run '^$' -bench . -benchmem -count 3
package compress

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// codec is one candidate. Both functions may reuse the storage of dst (its
// contents are ignored) and return the result, which may alias dst.
type codec struct {
	compress   func(dst, src []byte) ([]byte, error)
	decompress func(dst, src []byte) ([]byte, error)
}

// candidate builds a codec. Construction is separate so that the one-time
// setup cost (pools, encoder state) can be measured on its own.
type candidate struct {
	name string
	new  func() (codec, error)
}

var candidates = []candidate{
	{"std-flate-1", func() (codec, error) { return stdFlate(stdflate.BestSpeed), nil }},
	{"std-flate-6", func() (codec, error) { return stdFlate(stdflate.DefaultCompression), nil }},
	{"std-flate-6-fresh", func() (codec, error) { return stdFlateFresh(stdflate.DefaultCompression), nil }},
	{"std-flate-9", func() (codec, error) { return stdFlate(stdflate.BestCompression), nil }},
	{"kp-flate-1", func() (codec, error) { return kpFlate(kpflate.BestSpeed), nil }},
	{"kp-flate-6", func() (codec, error) { return kpFlate(kpflate.DefaultCompression), nil }},
	{"kp-flate-9", func() (codec, error) { return kpFlate(kpflate.BestCompression), nil }},
	{"s2", func() (codec, error) { return s2Codec(s2.Encode), nil }},
	{"s2-better", func() (codec, error) { return s2Codec(s2.EncodeBetter), nil }},
	{"zstd-fastest", func() (codec, error) { return zstdCodec(zstd.SpeedFastest, false, true) }},
	{"zstd-default", func() (codec, error) { return zstdCodec(zstd.SpeedDefault, false, true) }},
	{"zstd-fastest-lowmem", func() (codec, error) { return zstdCodec(zstd.SpeedFastest, true, true) }},
	{"zstd-default-lowmem", func() (codec, error) { return zstdCodec(zstd.SpeedDefault, true, true) }},
	{"zstd-default-lowmem-nocrc", func() (codec, error) { return zstdCodec(zstd.SpeedDefault, true, false) }},
}

// --- DEFLATE (stdlib and klauspost) with pooled writers and readers ---

// flateWriter is the method set shared by the stdlib and klauspost writers.
type flateWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// flateResetter matches both stdlib and klauspost flate.Resetter.
type flateResetter interface {
	Reset(r io.Reader, dict []byte) error
}

// flateReader couples a pooled decompressor with the bytes.Reader it reads.
type flateReader struct {
	src bytes.Reader
	rc  io.ReadCloser
}

// bufPool holds scratch buffers shared by every DEFLATE codec.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func pooledFlate(newWriter func(io.Writer) (flateWriter, error), newReader func(io.Reader) io.ReadCloser) codec {
	var writers, readers sync.Pool
	return codec{
		compress: func(dst, src []byte) ([]byte, error) {
			buf := bufPool.Get().(*bytes.Buffer)
			defer bufPool.Put(buf)
			buf.Reset()
			w, _ := writers.Get().(flateWriter)
			if w == nil {
				var err error
				if w, err = newWriter(buf); err != nil {
					return nil, err
				}
			} else {
				w.Reset(buf)
			}
			if _, err := w.Write(src); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			writers.Put(w)
			return append(dst[:0], buf.Bytes()...), nil
		},
		decompress: func(dst, src []byte) ([]byte, error) {
			r, _ := readers.Get().(*flateReader)
			if r == nil {
				r = new(flateReader)
				r.src.Reset(src)
				r.rc = newReader(&r.src)
			} else {
				r.src.Reset(src)
				if err := r.rc.(flateResetter).Reset(&r.src, nil); err != nil {
					return nil, err
				}
			}
			buf := bufPool.Get().(*bytes.Buffer)
			defer bufPool.Put(buf)
			buf.Reset()
			_, err := buf.ReadFrom(r.rc)
			r.src.Reset(nil)
			if err != nil {
				return nil, err
			}
			readers.Put(r)
			return append(dst[:0], buf.Bytes()...), nil
		},
	}
}

func stdFlate(level int) codec {
	return pooledFlate(
		func(w io.Writer) (flateWriter, error) { return stdflate.NewWriter(w, level) },
		stdflate.NewReader,
	)
}

func kpFlate(level int) codec {
	return pooledFlate(
		func(w io.Writer) (flateWriter, error) { return kpflate.NewWriter(w, level) },
		kpflate.NewReader,
	)
}

// stdFlateFresh builds a new stdlib writer and reader for every call (scratch
// buffers are still pooled), to show what pooling saves.
func stdFlateFresh(level int) codec {
	return codec{
		compress: func(dst, src []byte) ([]byte, error) {
			buf := bufPool.Get().(*bytes.Buffer)
			defer bufPool.Put(buf)
			buf.Reset()
			w, err := stdflate.NewWriter(buf, level)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(src); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			return append(dst[:0], buf.Bytes()...), nil
		},
		decompress: func(dst, src []byte) ([]byte, error) {
			buf := bufPool.Get().(*bytes.Buffer)
			defer bufPool.Put(buf)
			buf.Reset()
			if _, err := buf.ReadFrom(stdflate.NewReader(bytes.NewReader(src))); err != nil {
				return nil, err
			}
			return append(dst[:0], buf.Bytes()...), nil
		},
	}
}

// --- S2 (block format) ---

func s2Codec(encode func(dst, src []byte) []byte) codec {
	return codec{
		compress:   func(dst, src []byte) ([]byte, error) { return encode(dst, src), nil },
		decompress: s2.Decode,
	}
}

// --- zstd with one shared Encoder and Decoder ---

// zstdCodec shares one Encoder and one Decoder across all calls. lowMem
// keeps the encoder small: a single encoder state, a 32 KiB window (larger
// than any cookie) and the smaller-allocation mode. crc=false drops the
// 4-byte frame checksum, which an AEAD-sealed cookie does not need.
func zstdCodec(level zstd.EncoderLevel, lowMem, crc bool) (codec, error) {
	opts := []zstd.EOption{zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(crc)}
	if lowMem {
		opts = append(opts,
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<15),
			zstd.WithLowerEncoderMem(true))
	}
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return codec{}, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return codec{}, err
	}
	return codec{
		compress: func(dst, src []byte) ([]byte, error) {
			return enc.EncodeAll(src, dst[:0]), nil
		},
		decompress: func(dst, src []byte) ([]byte, error) {
			return dec.DecodeAll(src, dst[:0])
		},
	}, nil
}

// --- fixtures ---

type fixture struct {
	name string
	data []byte
}

// loadFixtures reads the session fixtures, smallest first.
func loadFixtures(tb testing.TB) []fixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "sessions", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatal("no fixtures match ../../testdata/sessions/*.json")
	}
	fixtures := make([]fixture, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		fixtures = append(fixtures, fixture{strings.TrimSuffix(filepath.Base(p), ".json"), data})
	}
	slices.SortFunc(fixtures, func(a, b fixture) int { return len(a.data) - len(b.data) })
	return fixtures
}

func newCodec(tb testing.TB, c candidate) codec {
	tb.Helper()
	cd, err := c.new()
	if err != nil {
		tb.Fatalf("%s: %v", c.name, err)
	}
	return cd
}

// --- tests ---

func TestRoundTrip(t *testing.T) {
	fixtures := loadFixtures(t)
	for _, c := range candidates {
		t.Run(c.name, func(t *testing.T) {
			cd := newCodec(t, c)
			var comp, out []byte
			for _, f := range fixtures {
				// Two rounds, so the second one goes through pooled or
				// reused state.
				for round := range 2 {
					var err error
					comp, err = cd.compress(comp, f.data)
					if err != nil {
						t.Fatalf("%s round %d: compress: %v", f.name, round, err)
					}
					out, err = cd.decompress(out, comp)
					if err != nil {
						t.Fatalf("%s round %d: decompress: %v", f.name, round, err)
					}
					if !bytes.Equal(out, f.data) {
						t.Fatalf("%s round %d: round trip mismatch: got %d bytes, want %d", f.name, round, len(out), len(f.data))
					}
				}
				t.Logf("%-6s %6d -> %6d bytes (%5.1f%%)", f.name, len(f.data), len(comp), 100*float64(len(comp))/float64(len(f.data)))
			}
		})
	}
}

// TestSetupMemory checks one round trip of the largest fixture through a
// fresh codec, and logs the bytes allocated to build the codec and run it:
// the one-time cost that the per-op benchmark numbers leave out (SPEC.md
// §12 quotes it). The figures are logged, not asserted.
func TestSetupMemory(t *testing.T) {
	fixtures := loadFixtures(t)
	large := fixtures[len(fixtures)-1].data
	for _, c := range candidates {
		var before, after runtime.MemStats
		// Two collections empty sync.Pool (and its victim cache), so no
		// candidate inherits another's scratch buffers.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		cd := newCodec(t, c)
		comp, err := cd.compress(nil, large)
		if err != nil {
			t.Fatal(err)
		}
		out, err := cd.decompress(nil, comp)
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if !bytes.Equal(out, large) {
			t.Fatalf("%s: round trip mismatch", c.name)
		}
		t.Logf("%-26s setup+first round trip: %8d bytes in %5d allocs", c.name,
			after.TotalAlloc-before.TotalAlloc, after.Mallocs-before.Mallocs)
	}
}

// --- benchmarks ---

func BenchmarkCompress(b *testing.B) {
	fixtures := loadFixtures(b)
	for _, c := range candidates {
		cd := newCodec(b, c)
		b.Run(c.name, func(b *testing.B) {
			for _, f := range fixtures {
				b.Run(f.name, func(b *testing.B) {
					// Warm pools and size dst before timing starts.
					dst, err := cd.compress(nil, f.data)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.SetBytes(int64(len(f.data)))
					for b.Loop() {
						dst, err = cd.compress(dst, f.data)
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(dst)), "bytes")
				})
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	fixtures := loadFixtures(b)
	for _, c := range candidates {
		cd := newCodec(b, c)
		b.Run(c.name, func(b *testing.B) {
			for _, f := range fixtures {
				b.Run(f.name, func(b *testing.B) {
					comp, err := cd.compress(nil, f.data)
					if err != nil {
						b.Fatal(err)
					}
					compressedLen := len(comp)
					// Warm pools and size dst before timing starts.
					dst, err := cd.decompress(nil, comp)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.SetBytes(int64(len(f.data)))
					for b.Loop() {
						dst, err = cd.decompress(dst, comp)
						if err != nil {
							b.Fatal(err)
						}
					}
					if !bytes.Equal(dst, f.data) {
						b.Fatal("round trip mismatch")
					}
					b.ReportMetric(float64(compressedLen), "bytes")
				})
			}
		})
	}
}
