package cookiesession

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// The session payload (SPEC.md §13): what the session layer seals with the
// codec. Values stay in their serialized form, so a request decodes only
// the values it reads and serializes only the values it sets.
//
//	payload = version(0x01) || id[16] || created i64 || deadline i64 || flags u8
//	          || [uvarint(idle) if flags&0x04] || uvarint(count)
//	          || count × (uvarint(len k) || k || uvarint(len v) || v)
//
// Keys are unique and in increasing byte order.
const (
	payloadVersion  = 0x01
	payloadFixed    = 1 + 16 + 8 + 8 + 1
	payloadExplicit = 0x01 // flags: the session has its own expiry (SetExpiry)
	payloadBrowser  = 0x02 // flags: its own expiry ends at browser close
	payloadIdle     = 0x04 // flags: its own idle timeout follows, in seconds
	payloadFlags    = payloadExplicit | payloadBrowser | payloadIdle
)

// appendPayload appends the payload form of st to dst.
func (st *state) appendPayload(dst []byte) []byte {
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
		}
	}
	dst = append(dst, flags)
	if flags&payloadIdle != 0 {
		dst = binary.AppendUvarint(dst, uint64(st.idle))
	}
	dst = binary.AppendUvarint(dst, uint64(len(st.values)))
	for _, e := range st.values { // in key order already
		dst = binary.AppendUvarint(dst, uint64(len(e.key)))
		dst = append(dst, e.key...)
		dst = binary.AppendUvarint(dst, uint64(len(e.val)))
		dst = append(dst, e.val...)
	}
	return dst
}

// decodePayload fills st from p. The values alias one copy of p, and the
// keys one string, both made here, so p may be reused afterwards. Every
// error wraps ErrMalformed, or ErrUnsupportedVersion for an unknown version
// or flags.
func (st *state) decodePayload(p []byte) error {
	if len(p) < payloadFixed+1 {
		return fmt.Errorf("%w: session payload of %d bytes is too short", ErrMalformed, len(p))
	}
	if p[0] != payloadVersion {
		return fmt.Errorf("%w: session payload version %d", ErrUnsupportedVersion, p[0])
	}
	flags := p[33]
	if flags&^payloadFlags != 0 || flags&payloadExplicit == 0 && flags != 0 {
		return fmt.Errorf("%w: session payload flags %#02x", ErrUnsupportedVersion, p[33])
	}
	copy(st.id[:], p[1:17])
	st.hasID = true
	st.created = int64(binary.BigEndian.Uint64(p[17:25]))
	st.deadline = int64(binary.BigEndian.Uint64(p[25:33]))
	st.explicit = flags&payloadExplicit != 0
	st.browserClose = flags&payloadBrowser != 0
	if st.created < 0 || st.created > maxUnixTime || st.deadline < 0 || st.deadline > maxUnixTime {
		return fmt.Errorf("%w: session times out of range", ErrMalformed)
	}
	start := payloadFixed
	if flags&payloadIdle != 0 {
		idle, n := binary.Uvarint(p[start:])
		if n <= 0 || idle == 0 || idle > maxCookieAge {
			return fmt.Errorf("%w: session idle timeout", ErrMalformed)
		}
		st.idle, start = int64(idle), start+n
	}
	count, n := binary.Uvarint(p[start:])
	// Each entry takes at least two bytes, which bounds count before any
	// allocation.
	if n <= 0 || count > uint64(len(p)-start-n)/2 {
		return fmt.Errorf("%w: session payload count", ErrMalformed)
	}
	start += n

	// First pass: check the layout and measure the keys.
	pos, keyLen := start, 0
	for i := range count {
		ks, ke, ok := field(p, pos)
		if !ok {
			return fmt.Errorf("%w: session payload key %d", ErrMalformed, i)
		}
		_, ve, ok := field(p, ke)
		if !ok {
			return fmt.Errorf("%w: session payload value %d", ErrMalformed, i)
		}
		keyLen, pos = keyLen+ke-ks, ve
	}
	if pos != len(p) {
		return fmt.Errorf("%w: %d bytes after the session payload", ErrMalformed, len(p)-pos)
	}

	// Second pass: the keys become substrings of one string, and the
	// values slices of one copy of the payload (p is a pooled buffer).
	var kb strings.Builder
	kb.Grow(keyLen)
	for i, pos := uint64(0), start; i < count; i++ {
		ks, ke, _ := field(p, pos)
		_, pos, _ = field(p, ke)
		kb.Write(p[ks:ke])
	}
	keys, own := kb.String(), slices.Clone(p)
	st.values = make(values, count)
	for i, pos, off := 0, start, 0; i < int(count); i++ {
		ks, ke, _ := field(own, pos)
		vs, ve, _ := field(own, ke)
		key := keys[off : off+ke-ks]
		if i > 0 && key <= st.values[i-1].key {
			return fmt.Errorf("%w: session payload keys out of order", ErrMalformed)
		}
		st.values[i] = entry{key, own[vs:ve:ve]}
		pos, off = ve, off+ke-ks
	}
	return nil
}

// field returns the bounds of the uvarint-length-prefixed field at p[pos:].
func field(p []byte, pos int) (start, end int, ok bool) {
	l, n := binary.Uvarint(p[pos:])
	if n <= 0 || l > uint64(len(p)-pos-n) {
		return 0, 0, false
	}
	start = pos + n
	return start, start + int(l), true
}
