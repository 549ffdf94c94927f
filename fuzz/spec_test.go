package fuzz

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"io"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"golang.org/x/crypto/chacha20poly1305"
)

// This file holds an independent encoder and decoder, written from SPEC.md
// alone, that the fuzz targets compare the library with.

// The kinds of value of SPEC.md §4.1.
const (
	kindValue   = 0x01
	kindSession = 0x02
)

// specAD is the associated data of SPEC.md §4.1 for a value of the given
// kind, with the empty purpose.
func specAD(header []byte, kind byte, name string) []byte {
	ad := append([]byte(nil), header...)
	ad = append(ad, kind)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	ad = append(ad, name...)
	return binary.BigEndian.AppendUint32(ad, 0)
}

func specPlaintext(iat, exp int64, body []byte) []byte {
	p := binary.BigEndian.AppendUint64(nil, uint64(iat))
	p = binary.BigEndian.AppendUint64(p, uint64(exp))
	return append(p, body...)
}

// specSeal seals plaintext (times and body) under key id with the given flags
// byte, as a Codec value for cookie name, with a fixed nonce. It checks
// nothing, so it can make authenticated values that the library would never
// produce.
func specSeal(id cs.KeyID, flags byte, plaintext []byte, name string) string {
	return specSealKind(id, flags, kindValue, plaintext, name)
}

// specSealKind is specSeal for a value of either kind.
func specSealKind(id cs.KeyID, flags, kind byte, plaintext []byte, name string) string {
	aead, err := chacha20poly1305.NewX(secretFor(id))
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, 24)
	for i := range nonce {
		nonce[i] = byte(0xa0 + i)
	}
	header := []byte{0x02, flags}
	header = binary.BigEndian.AppendUint32(header, uint32(id))
	header = append(header, nonce...)
	sealed := aead.Seal(header, nonce, plaintext, specAD(header, kind, name))
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// specResult is what the spec decoder makes of a value.
type specResult struct {
	err     error   // the sentinel of the first failing check; nil if the payload was reached
	authed  bool    // authentication succeeded
	info    cs.Info // set once the timestamps were validated
	payload []byte  // set when err is nil
}

// specOpen runs steps 1-9 of SPEC.md §6, for a Codec value, against the
// fixed keyring and clock.
func specOpen(name, text string) specResult {
	// 1. Length.
	if len(text) > maxText {
		return specResult{err: cs.ErrTooLarge}
	}
	// 2. Strict base64url, no padding, canonical, at least 62 bytes.
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return specResult{err: cs.ErrMalformed}
		}
	}
	if len(text)%4 == 1 {
		return specResult{err: cs.ErrMalformed}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(raw) < overhead {
		return specResult{err: cs.ErrMalformed}
	}
	// 3. Version.
	if raw[0] != 0x02 {
		return specResult{err: cs.ErrUnsupportedVersion}
	}
	// 4. Key lookup.
	id := cs.KeyID(binary.BigEndian.Uint32(raw[2:6]))
	st, ok := keyStates[id]
	switch {
	case !ok:
		return specResult{err: cs.ErrUnknownKey}
	case st == cs.KeyDisabled:
		return specResult{err: cs.ErrKeyDisabled}
	}
	// 5. Authenticate.
	aead, err := chacha20poly1305.NewX(secretFor(id))
	if err != nil {
		panic(err)
	}
	plain, err := aead.Open(nil, raw[6:30], raw[30:], specAD(raw[:30], kindValue, name))
	if err != nil {
		return specResult{err: cs.ErrAuthFailed}
	}
	// 6. Flags.
	flags := raw[1]
	if flags&0xf0 != 0 || flags&0x0f > 1 {
		return specResult{err: cs.ErrUnsupportedVersion, authed: true}
	}
	// 7. Timestamps.
	iat := int64(binary.BigEndian.Uint64(plain[0:8]))
	exp := int64(binary.BigEndian.Uint64(plain[8:16]))
	if iat < 0 || iat > maxUnix || exp < 0 || exp > maxUnix || exp < iat {
		return specResult{err: cs.ErrMalformed, authed: true}
	}
	res := specResult{authed: true, info: cs.Info{
		KeyID:      id,
		Primary:    st == cs.KeyPrimary,
		IssuedAt:   time.Unix(iat, 0).UTC(),
		ExpiresAt:  time.Unix(exp, 0).UTC(),
		Compressed: flags == 1,
	}}
	// 8. Expiry.
	if fuzzNow.Unix() >= exp+skewSecs {
		res.err = cs.ErrExpired
		return res
	}
	// 9. Body.
	body := plain[16:]
	if flags == 0 {
		if len(body) > maxPayload {
			res.err = cs.ErrTooLarge
			return res
		}
		res.payload = body
		return res
	}
	src := bytes.NewReader(body)
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(src), maxPayload+1))
	switch {
	case len(out) > maxPayload:
		res.err = cs.ErrTooLarge
	case err != nil, src.Len() != 0:
		res.err = cs.ErrMalformed
	default:
		res.payload = out
	}
	return res
}

// specSession is what the spec decoder makes of a session payload (SPEC.md
// §13).
type specSession struct {
	err     error // the sentinel of the first failing check; nil if the payload decodes
	id      [16]byte
	subject string
	entries []specEntry
}

// specEntry is one session value.
type specEntry struct {
	key        string
	value      []byte // the value, inflated if it was compressed
	compressed bool
	inflated   uint64 // its stated length, inflated
	err        error  // reading a compressed value that does not inflate to its stated length
}

// specUvarint reads a uvarint of SPEC.md §13: 1 to 10 bytes, seven bits
// each, least significant first, the high bit set on all but the last; the
// value below 2^64; and minimal, so a last byte of zero only alone.
func specUvarint(p []byte) (v uint64, n int, ok bool) {
	for i := 0; i < len(p) && i < 10; i++ {
		b := p[i]
		if i == 9 && b > 1 {
			return 0, 0, false
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, i + 1, i == 0 || b != 0
		}
	}
	return 0, 0, false
}

// specPayload decodes a session payload in the order of checks of SPEC.md
// §13.4, with max as max_values and ratio as max_ratio, then runs the
// checks of §13.5 against the default configuration (Lifetime 14 days, no
// idle timeout, no created_after, skew 10 s) at now.
func specPayload(p []byte, max, ratio int, now int64) specSession {
	bad := specSession{err: cs.ErrMalformed}
	switch {
	case len(p) == 0:
		return bad
	case p[0] != 0x02:
		return specSession{err: cs.ErrUnsupportedVersion}
	case len(p) < 35:
		return bad
	case p[33]&0x80 != 0, p[33]&0x01 == 0 && p[33]&0x0e != 0, p[33]&0x0c == 0x0c, p[33]&0x20 != 0 && p[33]&0x10 == 0:
		return specSession{err: cs.ErrUnsupportedVersion}
	}
	var s specSession
	copy(s.id[:], p[1:17])
	created := int64(binary.BigEndian.Uint64(p[17:25]))
	deadline := int64(binary.BigEndian.Uint64(p[25:33]))
	if created < 0 || created > maxUnix || deadline < 0 || deadline > maxUnix {
		return bad
	}
	pos := 34
	if p[33]&0x04 != 0 {
		idle, n, ok := specUvarint(p[pos:])
		if !ok || idle == 0 || idle > 34560000 {
			return bad
		}
		pos += n
	}
	if p[33]&0x10 != 0 { // the subject and its login time
		slen, n, ok := specUvarint(p[pos:])
		if !ok || slen == 0 || slen > 256 || slen+8 > uint64(len(p)-pos-n) {
			return bad
		}
		s.subject = string(p[pos+n : pos+n+int(slen)])
		pos += n + int(slen)
		if int64(binary.BigEndian.Uint64(p[pos:])) <= 0 {
			return bad
		}
		pos += 8
	}
	if p[33]&0x20 != 0 { // the last revocation check
		if len(p)-pos < 8 || int64(binary.BigEndian.Uint64(p[pos:])) <= 0 {
			return bad
		}
		pos += 8
	}
	if p[33]&0x40 != 0 { // a device key, x || y
		if len(p)-pos < 64 {
			return bad
		}
		pos += 64
	}
	count, n, ok := specUvarint(p[pos:])
	pos += n
	if !ok || count > uint64(len(p)-pos)/3 {
		return bad
	}
	var total uint64
	var stored [][]byte
	for i := range count {
		var e specEntry
		klen, n, ok := specUvarint(p[pos:])
		if !ok || klen > uint64(len(p)-pos-n) {
			return bad
		}
		e.key = string(p[pos+n : pos+n+int(klen)])
		pos += n + int(klen)
		if i > 0 && e.key <= s.entries[i-1].key {
			return bad
		}
		if pos == len(p) {
			return bad
		}
		method := p[pos]
		pos++
		var inflated uint64
		switch method {
		case 0:
		case 1:
			if inflated, n, ok = specUvarint(p[pos:]); !ok {
				return bad
			}
			pos += n
			e.compressed = true
		default:
			return specSession{err: cs.ErrUnsupportedVersion}
		}
		vlen, n, ok := specUvarint(p[pos:])
		if !ok || vlen > uint64(len(p)-pos-n) {
			return bad
		}
		v := p[pos+n : pos+n+int(vlen)]
		pos += n + int(vlen)
		if !e.compressed {
			inflated = vlen
		} else if vlen >= inflated {
			return bad
		} else if inflated/uint64(ratio) > vlen || inflated/uint64(ratio) == vlen && inflated%uint64(ratio) != 0 {
			return specSession{err: cs.ErrTooLarge} // over max_ratio times its stored length
		}
		total = min(total+min(inflated, 1<<40), 1<<50)
		e.inflated = inflated
		s.entries = append(s.entries, e)
		stored = append(stored, v)
	}
	if pos != len(p) {
		return bad
	}
	if total > uint64(max) {
		return specSession{err: cs.ErrTooLarge}
	}
	// §13.5: without a policy of its own, the configured Lifetime.
	if p[33]&0x01 == 0 && now >= created+14*86400+10 {
		return specSession{err: cs.ErrExpired}
	}
	for i := range s.entries {
		e := &s.entries[i]
		if !e.compressed {
			e.value = stored[i]
			continue
		}
		src := bytes.NewReader(stored[i])
		out, err := io.ReadAll(io.LimitReader(flate.NewReader(src), int64(e.inflated)+1))
		if err != nil || uint64(len(out)) != e.inflated || src.Len() != 0 {
			e.err = cs.ErrMalformed
		} else {
			e.value = out
		}
	}
	return s
}
