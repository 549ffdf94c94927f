package cookiesession

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// The session payload (SPEC.md §13): what the session layer seals with the
// codec. Values stay in their serialized form, so a request decodes only
// the values it reads and serializes only the values it sets. A large value
// is compressed on its own, never together with another, so that no value's
// compressed length depends on another's contents.
//
//	payload = version(0x02) || id[16] || created i64 || deadline i64 || flags u8
//	          || [uvarint(idle) if flags&0x04]
//	          || [uvarint(len s) || s || login i64 if flags&0x10]
//	          || [checked i64 if flags&0x20] || [x[32] || y[32] if flags&0x40]
//	          || uvarint(count) || count × entry
//
// (flags bit 3, 0x08: the session's own policy turns the idle timeout off.)
//
//	entry   = uvarint(len k) || k || 0x00 || uvarint(len v) || v
//	        | uvarint(len k) || k || 0x01 || uvarint(len v) || uvarint(len z) || z
//
// where z is the raw DEFLATE form of v. Keys are unique and in increasing
// byte order; uvarints are minimal.
const (
	payloadVersion  = 0x02
	payloadFixed    = 1 + 16 + 8 + 8 + 1
	payloadExplicit = 0x01 // flags: the session has its own expiry (SetExpiry)
	payloadBrowser  = 0x02 // flags: its own expiry ends at browser close
	payloadIdle     = 0x04 // flags: its own idle timeout follows, in seconds
	payloadNoIdle   = 0x08 // flags: its own expiry has no idle timeout at all
	payloadSubject  = 0x10 // flags: the subject and its login time follow (revocation.go)
	payloadChecked  = 0x20 // flags: the time of the last revocation check follows
	payloadBound    = 0x40 // flags: the device key of a bound session follows (dbsc.go)
	payloadFlags    = payloadExplicit | payloadBrowser | payloadIdle | payloadNoIdle | payloadSubject | payloadChecked | payloadBound
	payloadPolicy   = payloadBrowser | payloadIdle | payloadNoIdle // flags that need payloadExplicit

	entryPlain   = 0x00 // the value is stored as it is
	entryDeflate = 0x01 // the value is stored raw-DEFLATE-compressed
	minEntrySize = 3    // empty key, method, empty value

	// DefaultValueCompressThreshold is the default
	// Config.ValueCompressThreshold: 1024 bytes.
	DefaultValueCompressThreshold = 1024
)

// appendPayload appends the payload form of st to dst. Values set since the
// last save that are at least threshold bytes long are compressed here,
// once: the result is kept in the entry, so a later save writes the same
// bytes again without compressing; a value that would inflate by more than
// ratio times is stored as it is. A session whose values add up to more
// than max bytes, inflated, gives ErrTooLarge before anything is compressed.
func (st *state) appendPayload(dst []byte, threshold, max, ratio int) ([]byte, error) {
	total := 0
	for _, e := range st.values {
		total += e.n
	}
	if total > max {
		return dst, fmt.Errorf("%w: session values of %d bytes in all are over MaxSessionSize %d", ErrTooLarge, total, max)
	}
	st.ensureID()
	dst = append(dst, payloadVersion)
	dst = append(dst, st.id[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(st.created))
	dst = binary.BigEndian.AppendUint64(dst, uint64(st.deadline))
	var flags byte
	if st.explicit {
		flags |= payloadExplicit
		if st.browserClose {
			flags |= payloadBrowser
		}
		if st.idle > 0 {
			flags |= payloadIdle
		} else if st.noIdle {
			flags |= payloadNoIdle
		}
	}
	if st.subject != "" {
		flags |= payloadSubject
		if st.checked != 0 {
			flags |= payloadChecked
		}
	}
	if st.bound {
		flags |= payloadBound
	}
	dst = append(dst, flags)
	if flags&payloadIdle != 0 {
		dst = binary.AppendUvarint(dst, uint64(st.idle))
	}
	dst = st.appendSubject(dst, flags)
	if st.bound {
		dst = append(dst, st.devKey[:]...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(st.values)))
	for i := range st.values { // in key order already
		e := &st.values[i]
		if e.fresh {
			e.pack(threshold, ratio)
		}
		dst = binary.AppendUvarint(dst, uint64(len(e.key)))
		dst = append(dst, e.key...)
		if e.z != nil {
			dst = append(dst, entryDeflate)
			dst = binary.AppendUvarint(dst, uint64(e.n))
			dst = binary.AppendUvarint(dst, uint64(len(e.z)))
			dst = append(dst, e.z...)
		} else {
			dst = append(dst, entryPlain)
			dst = binary.AppendUvarint(dst, uint64(len(e.val)))
			dst = append(dst, e.val...)
		}
	}
	return dst, nil
}

// pack decides how a value set since the last save is stored: compressed,
// if it is at least threshold bytes long and DEFLATE makes it shorter, but
// not by more than ratio times (a reader refuses that); otherwise as it
// is. The flash messages (FlashKey) are never compressed: they hold
// messages of different origins in one value (see Session.AddFlash).
func (e *entry) pack(threshold, ratio int) {
	e.fresh = false
	if len(e.val) < threshold || e.key == FlashKey {
		return
	}
	buf := getBuf()
	z := appendDeflate((*buf)[:0], e.val)
	if len(z) < len(e.val) && !overRatio(len(e.val), len(z), ratio) {
		e.z = bytes.Clone(z)
	}
	*buf = z
	putBuf(buf)
}

// decodePayload fills st from p, in the order of checks of SPEC.md §13.
// Values that are stored compressed stay compressed until they are read.
// The values alias one copy of p, and the keys one string, both made here,
// so p may be reused afterwards. Every error wraps ErrMalformed,
// ErrUnsupportedVersion (an unknown version, flags or entry method), or
// ErrInflateLimit and ErrTooLarge (values that would inflate to more than
// max bytes in all, or a value that would inflate by more than ratio
// times); the limits are checked on the stated lengths, before anything is
// inflated.
func (st *state) decodePayload(p []byte, max, ratio int) error {
	switch {
	case len(p) == 0:
		return fmt.Errorf("%w: empty session payload", ErrMalformed)
	case p[0] != payloadVersion:
		return fmt.Errorf("%w: session payload version %d", ErrUnsupportedVersion, p[0])
	case len(p) < payloadFixed+1:
		return fmt.Errorf("%w: session payload of %d bytes is too short", ErrMalformed, len(p))
	}
	flags := p[33]
	if flags&^payloadFlags != 0 ||
		flags&payloadExplicit == 0 && flags&payloadPolicy != 0 ||
		flags&payloadIdle != 0 && flags&payloadNoIdle != 0 ||
		flags&payloadChecked != 0 && flags&payloadSubject == 0 {
		return fmt.Errorf("%w: session payload flags %#02x", ErrUnsupportedVersion, flags)
	}
	copy(st.id[:], p[1:17])
	st.hasID = true
	st.created = int64(binary.BigEndian.Uint64(p[17:25]))
	st.deadline = int64(binary.BigEndian.Uint64(p[25:33]))
	st.explicit = flags&payloadExplicit != 0
	st.browserClose = flags&payloadBrowser != 0
	st.noIdle = flags&payloadNoIdle != 0
	if st.created < 0 || st.created > maxUnixTime || st.deadline < 0 || st.deadline > maxUnixTime {
		return fmt.Errorf("%w: session times out of range", ErrMalformed)
	}
	start := payloadFixed
	if flags&payloadIdle != 0 {
		idle, n := uvarint(p[start:])
		if n <= 0 || idle == 0 || idle > maxCookieAge {
			return fmt.Errorf("%w: session idle timeout", ErrMalformed)
		}
		st.idle, start = int64(idle), start+n
	}
	start, subject, err := st.readSubject(p, start, flags)
	if err != nil {
		return err
	}
	if flags&payloadBound != 0 {
		// The key was checked when the session was bound; here it is
		// authenticated data, and is parsed only when a proof is verified.
		if len(p)-start < len(st.devKey) {
			return fmt.Errorf("%w: session device key", ErrMalformed)
		}
		st.bound = true
		copy(st.devKey[:], p[start:])
		start += len(st.devKey)
	}
	count, n := uvarint(p[start:])
	// Each entry takes at least minEntrySize bytes, which bounds count
	// before any allocation.
	if n <= 0 || count > uint64(len(p)-start-n)/minEntrySize {
		return fmt.Errorf("%w: session payload count", ErrMalformed)
	}
	start += n

	// One pass checks the layout and locates every entry; the fields of a
	// session of up to len(small) entries stay on the stack.
	var small [16]entryFields
	fields := small[:0]
	if count > uint64(len(small)) {
		fields = make([]entryFields, 0, count)
	}
	pos, keyLen, total := start, 0, uint64(0)
	var prev []byte
	for i := range count {
		fields = fields[:i+1]
		f := &fields[i]
		next, err := readEntry(p, pos, prev, ratio, f)
		if err != nil {
			return fmt.Errorf("%w (entry %d)", err, i)
		}
		pos, prev, keyLen = next, p[f.ks:f.ke], keyLen+f.ke-f.ks
		total += min(f.n, uint64(max)+1) // cannot overflow: count is small
	}
	if pos != len(p) {
		return fmt.Errorf("%w: %d bytes after the session payload", ErrMalformed, len(p)-pos)
	}
	if total > uint64(max) {
		return fmt.Errorf("%w: %w: session values would inflate to over MaxSessionSize %d", ErrInflateLimit, ErrTooLarge, max)
	}

	// The subject and the keys become substrings of one string, and the
	// values slices of one copy of the payload (p is a pooled buffer).
	var kb strings.Builder
	kb.Grow(keyLen + len(subject))
	kb.Write(subject)
	for _, f := range fields {
		kb.Write(p[f.ks:f.ke])
	}
	keys, own := kb.String(), slices.Clone(p)
	st.subject, keys = keys[:len(subject)], keys[len(subject):]
	st.values = make(values, count)
	off := 0
	for i, f := range fields {
		e := &st.values[i]
		e.key, e.n = keys[off:off+f.ke-f.ks], int(f.n)
		if f.method == entryDeflate {
			e.z = own[f.vs:f.ve:f.ve]
		} else {
			e.val = own[f.vs:f.ve:f.ve]
		}
		off += f.ke - f.ks
	}
	return nil
}

// entryFields locates one entry's fields in a payload.
type entryFields struct {
	ks, ke int    // the key
	method byte   // entryPlain or entryDeflate
	n      uint64 // the value's length, inflated
	vs, ve int    // the value as stored
}

// readEntry reads the entry at p[pos:] into *f, checking each field as it
// comes, and returns the position after it. prev is the previous entry's
// key, which must sort before this one's; nil for the first entry. A
// compressed value may inflate by at most ratio times.
func readEntry(p []byte, pos int, prev []byte, ratio int, f *entryFields) (int, error) {
	*f = entryFields{}
	var ok bool
	if f.ks, f.ke, ok = field(p, pos); !ok {
		return 0, fmt.Errorf("%w: session payload key", ErrMalformed)
	}
	if prev != nil && bytes.Compare(prev, p[f.ks:f.ke]) >= 0 {
		return 0, fmt.Errorf("%w: session payload keys out of order", ErrMalformed)
	}
	pos = f.ke
	if pos == len(p) {
		return 0, fmt.Errorf("%w: session payload entry method missing", ErrMalformed)
	}
	f.method = p[pos]
	pos++
	switch f.method {
	case entryPlain:
	case entryDeflate:
		l, n := uvarint(p[pos:])
		if n <= 0 {
			return 0, fmt.Errorf("%w: session payload inflated length", ErrMalformed)
		}
		f.n, pos = l, pos+n
	default:
		return 0, fmt.Errorf("%w: session payload entry method %d", ErrUnsupportedVersion, f.method)
	}
	if f.vs, f.ve, ok = field(p, pos); !ok {
		return 0, fmt.Errorf("%w: session payload value", ErrMalformed)
	}
	stored := uint64(f.ve - f.vs)
	if f.method == entryPlain {
		f.n = stored
	} else if stored >= f.n {
		return 0, fmt.Errorf("%w: compressed session value not shorter than its inflated length", ErrMalformed)
	} else if overRatio64(f.n, stored, ratio) {
		return 0, fmt.Errorf("%w: %w: compressed session value of %d bytes would inflate to %d, over MaxCompressionRatio %d",
			ErrInflateLimit, ErrTooLarge, stored, f.n, ratio)
	}
	return f.ve, nil
}

// overRatio reports whether a value of n bytes, stored in z bytes,
// inflates by more than ratio times.
func overRatio(n, z, ratio int) bool { return overRatio64(uint64(n), uint64(z), ratio) }

func overRatio64(n, z uint64, ratio int) bool {
	// n > ratio*z, without overflow: n can be up to 2^64-1.
	return n/uint64(ratio) > z || n/uint64(ratio) == z && n%uint64(ratio) != 0
}

// field returns the bounds of the uvarint-length-prefixed field at p[pos:].
func field(p []byte, pos int) (start, end int, ok bool) {
	l, n := uvarint(p[pos:])
	if n <= 0 || l > uint64(len(p)-pos-n) {
		return 0, 0, false
	}
	start = pos + n
	return start, start + int(l), true
}

// uvarint decodes the uvarint at the start of p (SPEC.md §13): at most 10
// bytes, in minimal form. It returns the value and the number of bytes
// read, or n <= 0 if p does not start with a valid, minimal uvarint.
func uvarint(p []byte) (v uint64, n int) {
	v, n = binary.Uvarint(p) // rejects more than 10 bytes and values past 2^64-1
	if n > 1 && p[n-1] == 0 {
		return 0, 0 // overlong: a final group of zero bits
	}
	return v, n
}
