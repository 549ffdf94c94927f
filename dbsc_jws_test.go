package cookiesession

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// proofKey is a fixed P-256 key for the verifier's tests.
func proofKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	d := sha256.Sum256([]byte("cookiesession dbsc test key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func rawKey(key *ecdsa.PrivateKey) [64]byte {
	var k [64]byte
	pub, _ := key.PublicKey.Bytes()
	copy(k[:], pub[1:])
	return k
}

// signRaw signs header and payload text as they are.
func signRaw(t testing.TB, key *ecdsa.PrivateKey, hdr, payload string) string {
	t.Helper()
	input := b64.EncodeToString([]byte(hdr)) + "." + b64.EncodeToString([]byte(payload))
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

func TestVerifyProof(t *testing.T) {
	key := proofKey(t)
	k := rawKey(key)
	jwk, _ := json.Marshal(jwkOf(key))
	regHdr := `{"alg":"ES256","jwk":` + string(jwk) + `,"typ":"dbsc+jwt"}`
	refHdr := `{"alg":"ES256","typ":"dbsc+jwt"}`
	good := signRaw(t, key, regHdr, `{"jti":"c1"}`)
	goodRefresh := signRaw(t, key, refHdr, `{"jti":"c2"}`)

	if p, err := verifyProof(good, nil); err != nil || p.jti != "c1" || p.key != k {
		t.Fatalf("registration proof: %+v, %v", p, err)
	}
	if p, err := verifyProof(goodRefresh, &k); err != nil || p.jti != "c2" {
		t.Fatalf("refresh proof: %+v, %v", p, err)
	}

	other := rawKey(func() *ecdsa.PrivateKey { o, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return o }())
	parts := strings.Split(good, ".")
	// ECDSA signatures are malleable: (r, n-s) is as valid as (r, s). That
	// is harmless here: a proof counts for the challenge it signs, and is
	// never compared as bytes.
	highS := func() string {
		sig, _ := b64.DecodeString(parts[2])
		s := new(big.Int).SetBytes(sig[32:])
		s.Sub(elliptic.P256().Params().N, s)
		s.FillBytes(sig[32:])
		return parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)
	}()
	if _, err := verifyProof(highS, nil); err != nil {
		t.Errorf("high-s signature: %v", err)
	}
	mutJWK := func(f func(m map[string]string)) string {
		m := jwkOf(key)
		f(m)
		j, _ := json.Marshal(m)
		return signRaw(t, key, `{"alg":"ES256","jwk":`+string(j)+`,"typ":"dbsc+jwt"}`, `{"jti":"c"}`)
	}
	for _, tc := range []struct {
		name  string
		proof string
		key   *[64]byte
	}{
		{"empty", "", nil},
		{"two parts", parts[0] + "." + parts[1], nil},
		{"four parts", good + ".x", nil},
		{"too long", strings.Repeat("a", maxProofLen+1), nil},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], nil},
		{"std base64", parts[0] + "." + parts[1] + "." + "+" + parts[2][1:], nil},
		{"newline", parts[0] + "\n." + parts[1] + "." + parts[2], nil},
		{"bad signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString(make([]byte, 64)), nil},
		{"short signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString(make([]byte, 63)), nil},
		{"DER signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString(make([]byte, 72)), nil},
		{"payload swapped", parts[0] + "." + b64.EncodeToString([]byte(`{"jti":"c9"}`)) + "." + parts[2], nil},
		{"wrong key", goodRefresh, &other},
		{"jwk on refresh", good, &k},
		{"no jwk at registration", goodRefresh, nil},
		{"alg none", signRaw(t, key, `{"alg":"none","jwk":`+string(jwk)+`,"typ":"dbsc+jwt"}`, `{"jti":"c"}`), nil},
		{"alg HS256", signRaw(t, key, `{"alg":"HS256","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"alg RS256", signRaw(t, key, `{"alg":"RS256","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"alg lower", signRaw(t, key, `{"alg":"es256","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"typ JWT", signRaw(t, key, `{"alg":"ES256","typ":"JWT"}`, `{"jti":"c"}`), &k},
		{"no typ", signRaw(t, key, `{"alg":"ES256"}`, `{"jti":"c"}`), &k},
		{"duplicate alg", signRaw(t, key, `{"alg":"ES256","alg":"none","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"member case", signRaw(t, key, `{"ALG":"ES256","alg":"ES256","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"crit", signRaw(t, key, `{"alg":"ES256","crit":["b64"],"typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"kid", signRaw(t, key, `{"alg":"ES256","kid":"1","typ":"dbsc+jwt"}`, `{"jti":"c"}`), &k},
		{"header array", signRaw(t, key, `["ES256"]`, `{"jti":"c"}`), &k},
		{"header trailing", signRaw(t, key, `{"alg":"ES256","typ":"dbsc+jwt"} {}`, `{"jti":"c"}`), &k},
		{"jwk private", mutJWK(func(m map[string]string) { m["d"] = "AAAA" }), nil},
		{"jwk P-384", mutJWK(func(m map[string]string) { m["crv"] = "P-384" }), nil},
		{"jwk RSA", mutJWK(func(m map[string]string) { m["kty"] = "RSA" }), nil},
		{"jwk short x", mutJWK(func(m map[string]string) { m["x"] = m["x"][:40] }), nil},
		{"jwk off curve", mutJWK(func(m map[string]string) { m["y"] = m["x"] }), nil},
		{"jwk identity", mutJWK(func(m map[string]string) {
			m["x"] = b64.EncodeToString(make([]byte, 32))
			m["y"] = m["x"]
		}), nil},
		{"payload no jti", signRaw(t, key, refHdr, `{}`), &k},
		{"payload jti number", signRaw(t, key, refHdr, `{"jti":1}`), &k},
		{"payload two jti", signRaw(t, key, refHdr, `{"jti":"a","jti":"b"}`), &k},
		{"payload authorization", signRaw(t, key, refHdr, `{"authorization":"x","jti":"a"}`), &k},
		{"payload not JSON", signRaw(t, key, refHdr, `jti`), &k},
	} {
		if _, err := verifyProof(tc.proof, tc.key); !errors.Is(err, ErrDeviceProof) {
			t.Errorf("%s: %v, want ErrDeviceProof", tc.name, err)
		} else if len(err.Error()) > 160 {
			t.Errorf("%s: error of %d bytes: %.80q", tc.name, len(err.Error()), err)
		}
	}
}

// FuzzVerifyProof feeds the verifier arbitrary proofs, with and without a
// key. It must never panic, must reject with ErrDeviceProof, and must
// accept only proofs that verify under the key they name.
func FuzzVerifyProof(f *testing.F) {
	key := proofKey(f)
	k := rawKey(key)
	jwk, _ := json.Marshal(jwkOf(key))
	f.Add(signRaw(f, key, `{"alg":"ES256","jwk":`+string(jwk)+`,"typ":"dbsc+jwt"}`, `{"jti":"c1"}`), false)
	f.Add(signRaw(f, key, `{"alg":"ES256","typ":"dbsc+jwt"}`, `{"jti":"c2"}`), true)
	f.Add("e30.e30.AAAA", true)
	f.Add("..", false)
	f.Fuzz(func(t *testing.T, proof string, refresh bool) {
		var want *[64]byte
		if refresh {
			want = &k
		}
		p, err := verifyProof(proof, want)
		if err != nil {
			if !errors.Is(err, ErrDeviceProof) {
				t.Fatalf("error %v does not wrap ErrDeviceProof", err)
			}
			return
		}
		// Accepted: an independent check of the signature.
		parts := strings.Split(proof, ".")
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append([]byte{4}, p.key[:]...))
		if err != nil {
			t.Fatalf("accepted a proof with a bad key: %v", err)
		}
		sig, _ := b64.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("accepted a proof whose signature does not verify")
		}
		if refresh && p.key != k {
			t.Fatal("refresh proof accepted under another key")
		}
	})
}
