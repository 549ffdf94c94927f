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

// specAD is the associated data of SPEC.md §4.1, with the empty purpose.
func specAD(header []byte, name string) []byte {
	ad := append([]byte(nil), header...)
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
// byte, for cookie name, with a fixed nonce. It checks nothing, so it can make
// authenticated values that the library would never produce.
func specSeal(id cs.KeyID, flags byte, plaintext []byte, name string) string {
	aead, err := chacha20poly1305.NewX(secretFor(id))
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, 24)
	for i := range nonce {
		nonce[i] = byte(0xa0 + i)
	}
	header := []byte{0x01, flags}
	header = binary.BigEndian.AppendUint32(header, uint32(id))
	header = append(header, nonce...)
	sealed := aead.Seal(header, nonce, plaintext, specAD(header, name))
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// specResult is what the spec decoder makes of a value.
type specResult struct {
	err     error   // the sentinel of the first failing check; nil if the payload was reached
	authed  bool    // authentication succeeded
	info    cs.Info // set once the timestamps were validated
	payload []byte  // set when err is nil
}

// specOpen runs steps 1-9 of SPEC.md §6 against the fixed keyring and clock.
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
	if raw[0] != 0x01 {
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
	plain, err := aead.Open(nil, raw[6:30], raw[30:], specAD(raw[:30], name))
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
