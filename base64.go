package cookiesession

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// The text form of a sealed value is unpadded base64url (SPEC.md §3).
// Encoding is a sizable part of a save: as much as the encryption for a
// session of a few hundred bytes. appendBase64 writes exactly what
// base64.RawURLEncoding does, six bytes to eight characters at a time, with
// a table that gives two characters for each 12 bits.

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// base64Pairs[v] is the two characters of the 12-bit value v, the first in
// the high byte.
var base64Pairs = func() *[4096]uint16 {
	var t [4096]uint16
	for v := range t {
		t[v] = uint16(base64URLAlphabet[v>>6])<<8 | uint16(base64URLAlphabet[v&63])
	}
	return &t
}()

// appendBase64 appends the unpadded base64url form of src to dst, as
// base64.RawURLEncoding.AppendEncode does.
func appendBase64(dst, src []byte) []byte {
	n := base64.RawURLEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	t := base64Pairs
	s, o := src, out
	// Each step reads 8 bytes and encodes the first 6 of them.
	for len(s) >= 8 && len(o) >= 8 {
		v := binary.BigEndian.Uint64(s)
		w := uint64(t[v>>52])<<48 | uint64(t[v>>40&0xfff])<<32 |
			uint64(t[v>>28&0xfff])<<16 | uint64(t[v>>16&0xfff])
		binary.BigEndian.PutUint64(o, w)
		s, o = s[6:], o[8:]
	}
	// What was read is a multiple of 3 bytes: the rest encodes on its own.
	base64.RawURLEncoding.Encode(o, s)
	return dst[:len(dst)+n]
}
