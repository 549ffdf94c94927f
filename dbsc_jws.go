package cookiesession

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// The proof a browser sends in Secure-Session-Response (SPEC.md §15.2): a
// JWS in compact form, ES256 only, with header typ "dbsc+jwt". At
// registration the header carries the public key as a jwk; on refresh it
// must not. Every byte of it is attacker input, so parsing is strict and
// bounded, and the signature is checked before the payload is parsed.

// ErrDeviceProof means a Secure-Session-Response proof was rejected:
// malformed, an algorithm other than ES256, a bad key or signature, or a
// challenge that is not fresh or not for this session.
var ErrDeviceProof = errors.New("cookiesession: device proof rejected")

const (
	// maxProofLen is the longest proof read: Chromium's registration proof
	// is about 450 characters.
	maxProofLen = 2048
	// maxProofPart is the longest decoded header or payload.
	maxProofPart = 1024
)

// deviceProof is a verified proof: the key it was signed with (as x || y)
// and its challenge.
type deviceProof struct {
	key [64]byte
	jti string
}

// verifyProof checks a compact JWS from Secure-Session-Response. With key
// nil, the header must carry a P-256 jwk (registration), and the proof is
// verified with it; otherwise the header must carry no key, and the proof
// is verified with *key (refresh). Every error wraps ErrDeviceProof and
// quotes at most a few bytes of the input.
func verifyProof(text string, key *[64]byte) (deviceProof, error) {
	bad := func(format string, a ...any) (deviceProof, error) {
		return deviceProof{}, fmt.Errorf("%w: "+format, append([]any{ErrDeviceProof}, a...)...)
	}
	if len(text) > maxProofLen {
		return bad("proof of %d bytes is over %d", len(text), maxProofLen)
	}
	h64, rest, ok1 := strings.Cut(text, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return bad("not a compact JWS of three parts")
	}
	hdrJSON, err := decodePart(h64)
	if err != nil {
		return bad("header: %v", err)
	}
	var hdr struct {
		Alg string          `json:"alg"`
		Typ string          `json:"typ"`
		JWK json.RawMessage `json:"jwk"`
	}
	if err := strictJSON(hdrJSON, []string{"alg", "typ", "jwk"}, &hdr); err != nil {
		return bad("header: %v", err)
	}
	switch {
	case hdr.Alg != "ES256":
		return bad("algorithm %s is not ES256", quoteFew(hdr.Alg))
	case hdr.Typ != "dbsc+jwt":
		return bad("type %s is not dbsc+jwt", quoteFew(hdr.Typ))
	case key == nil && hdr.JWK == nil:
		return bad("registration proof without a jwk")
	case key != nil && hdr.JWK != nil:
		return bad("refresh proof with a jwk")
	}
	var proof deviceProof
	if key != nil {
		proof.key = *key
	} else if proof.key, err = parseJWK(hdr.JWK); err != nil {
		return bad("jwk: %v", err)
	}
	sig, err := decodePart(s64)
	if err != nil || len(sig) != 64 {
		return bad("signature is not 64 bytes of base64url")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append([]byte{4}, proof.key[:]...))
	if err != nil {
		return bad("key is not a P-256 point")
	}
	digest := sha256.Sum256([]byte(text[:len(h64)+1+len(p64)]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return bad("signature does not verify")
	}
	// Authentic from here on: the payload is parsed only now.
	payJSON, err := decodePart(p64)
	if err != nil {
		return bad("payload: %v", err)
	}
	var pay struct {
		JTI *string `json:"jti"`
	}
	if err := strictJSON(payJSON, []string{"jti"}, &pay); err != nil {
		return bad("payload: %v", err)
	}
	if pay.JTI == nil {
		return bad("payload without jti")
	}
	proof.jti = *pay.JTI
	return proof, nil
}

// decodePart decodes one base64url part of a JWS: no padding, no
// whitespace, at most maxProofPart bytes.
func decodePart(s string) ([]byte, error) {
	if b64.DecodedLen(len(s)) > maxProofPart {
		return nil, errors.New("too long")
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("not base64url without padding")
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64url without padding")
	}
	return b, nil
}

// parseJWK reads a public P-256 key in JWK form: exactly the members kty
// "EC", crv "P-256", and x and y, 32 bytes each. A private key (d), or any
// other member, is rejected. The point is checked by the caller.
func parseJWK(raw json.RawMessage) ([64]byte, error) {
	var key [64]byte
	var jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	if err := strictJSON(raw, []string{"kty", "crv", "x", "y"}, &jwk); err != nil {
		return key, err
	}
	if jwk.Kty != "EC" || jwk.Crv != "P-256" {
		return key, fmt.Errorf("kty %s crv %s is not EC P-256", quoteFew(jwk.Kty), quoteFew(jwk.Crv))
	}
	x, errX := b64.DecodeString(jwk.X)
	y, errY := b64.DecodeString(jwk.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return key, errors.New("x and y are not 32 bytes of base64url each")
	}
	copy(key[:32], x)
	copy(key[32:], y)
	return key, nil
}

// strictJSON decodes data, a JSON object, into v, after checking that it
// is one object whose members are all among allowed, each at most once,
// with nothing after it. encoding/json alone would keep the last of two
// equal members and ignore unknown ones.
func strictJSON(data []byte, allowed []string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	var seen uint32
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errors.New("bad JSON")
		}
		name, _ := t.(string)
		i := 0
		for i < len(allowed) && allowed[i] != name {
			i++
		}
		switch {
		case i == len(allowed):
			return fmt.Errorf("unexpected member %s", quoteFew(name))
		case seen&(1<<i) != 0:
			return fmt.Errorf("member %s twice", quoteFew(name))
		}
		seen |= 1 << i
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errors.New("bad JSON")
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("bad JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errors.New("bad JSON member type")
	}
	return nil
}
