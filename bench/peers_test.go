package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// The token peers: what a Go developer reaches for instead of a session
// library. golang-jwt/jwt v5 signs the session as a JWT with HS256 (signed,
// not encrypted: the values are readable by the client); go-jose v4 encrypts
// it as a compact JWE with "dir" key management and A256GCM. Both carry the
// expiry as an "exp" claim, checked on decode, and neither compresses (JWE's
// "zip" is off by default, and RFC 8725 advises against it).

// Fixed keys, like the others in fixtures_test.go.
var (
	jwtKey = bytes.Repeat([]byte{0x4a}, 32)
	jweKey = bytes.Repeat([]byte{0x6b}, 32)
)

// tokenCodec turns session values into a token and back, the way the
// library's users write it. encode sets exp in the values it is given.
type tokenCodec struct {
	encode func(vals map[string]any) (string, error)
	decode func(text string) (map[string]any, error)
}

// expiry is the exp claim of a token sealed now.
func expiry() int64 { return time.Now().Add(lifetime).Unix() }

// newJWTCodec signs jwt.MapClaims with HS256, and parses with the method
// pinned and exp required.
func newJWTCodec() tokenCodec {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return jwtKey, nil }
	return tokenCodec{
		encode: func(vals map[string]any) (string, error) {
			vals["exp"] = expiry()
			return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(vals)).SignedString(jwtKey)
		},
		decode: func(text string) (map[string]any, error) {
			claims := jwt.MapClaims{}
			if _, err := parser.ParseWithClaims(text, claims, keyFunc); err != nil {
				return nil, err
			}
			return claims, nil
		},
	}
}

// newJWECodec encrypts the JSON of the values as a compact JWE (dir,
// A256GCM), and decrypts with only those algorithms allowed.
func newJWECodec(tb testing.TB) tokenCodec {
	enc := newJWEEncrypter(tb)
	return tokenCodec{
		encode: func(vals map[string]any) (string, error) {
			vals["exp"] = expiry()
			return jweSeal(enc, vals)
		},
		decode: func(text string) (map[string]any, error) {
			var vals map[string]any
			if err := jweOpen(text, &vals); err != nil {
				return nil, err
			}
			if exp, ok := vals["exp"].(float64); !ok || int64(exp) <= time.Now().Unix() {
				return nil, errors.New("jwe: expired or no exp")
			}
			return vals, nil
		},
	}
}

func newJWEEncrypter(tb testing.TB) jose.Encrypter {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: jweKey}, (&jose.EncrypterOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// jweSeal encrypts the JSON of v.
func jweSeal(enc jose.Encrypter, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt(plain)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// jweOpen decrypts text and decodes its JSON into v.
func jweOpen(text string, v any) error {
	obj, err := jose.ParseEncryptedCompact(text, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return err
	}
	plain, err := obj.Decrypt(jweKey)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// tokenOps are a token codec's ops on the fixture's values, as a map: the
// whole token is decoded into a map[string]any, as gorilla's are.
func tokenOps(newCodec func(testing.TB) tokenCodec) func(testing.TB, fixture) codecOps {
	return func(tb testing.TB, f fixture) codecOps {
		c := newCodec(tb)
		vals := maps.Clone(f.values)
		var out map[string]any
		encode, input := stringEncoder(tb, func() (string, error) { return c.encode(vals) })
		return codecOps{
			encode: encode,
			decode: func() error {
				var err error
				out, err = c.decode(input)
				return err
			},
			result: func() (map[string]any, error) { return withoutExp(out), nil },
		}
	}
}

// withoutExp returns the values of a token, less the exp claim.
func withoutExp(vals map[string]any) map[string]any {
	if vals == nil {
		return nil
	}
	out := maps.Clone(vals)
	delete(out, "exp")
	return out
}

// The typed peers decode into a struct per session shape, as users of a
// token library usually declare their claims: the claims types embed the
// session's struct and jwt.RegisteredClaims, for exp.
type (
	smallClaims struct {
		smallSession
		jwt.RegisteredClaims
	}
	cartClaims struct {
		cartSession
		jwt.RegisteredClaims
	}
)

// newClaims returns a new claims value for a fixture size, as a pointer.
func newClaims(size string) jwt.Claims {
	if size == "small" {
		return new(smallClaims)
	}
	return new(cartClaims)
}

// setExp sets the expiry of claims made by newClaims.
func setExp(c jwt.Claims, exp time.Time) {
	d := jwt.NewNumericDate(exp)
	switch c := c.(type) {
	case *smallClaims:
		c.ExpiresAt = d
	case *cartClaims:
		c.ExpiresAt = d
	}
}

// structTokenOps are the typed peers' ops: encode a claims struct, decode
// the whole token into a new one.
func structTokenOps(jwe bool) func(testing.TB, fixture) codecOps {
	return func(tb testing.TB, f fixture) codecOps {
		in := newClaims(f.size)
		if err := json.Unmarshal(f.json, in); err != nil {
			tb.Fatal(err)
		}
		var seal func() (string, error)
		var open func(string) (jwt.Claims, error)
		if jwe {
			enc := newJWEEncrypter(tb)
			seal = func() (string, error) {
				setExp(in, time.Now().Add(lifetime))
				return jweSeal(enc, in)
			}
			open = func(text string) (jwt.Claims, error) {
				out := newClaims(f.size)
				if err := jweOpen(text, out); err != nil {
					return nil, err
				}
				if exp, err := out.GetExpirationTime(); err != nil || exp == nil || !exp.After(time.Now()) {
					return nil, fmt.Errorf("jwe: expired or no exp (%v)", err)
				}
				return out, nil
			}
		} else {
			parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
			keyFunc := func(*jwt.Token) (any, error) { return jwtKey, nil }
			seal = func() (string, error) {
				setExp(in, time.Now().Add(lifetime))
				return jwt.NewWithClaims(jwt.SigningMethodHS256, in).SignedString(jwtKey)
			}
			open = func(text string) (jwt.Claims, error) {
				out := newClaims(f.size)
				_, err := parser.ParseWithClaims(text, out, keyFunc)
				return out, err
			}
		}
		var out jwt.Claims
		encode, input := stringEncoder(tb, seal)
		return codecOps{
			encode: encode,
			decode: func() error {
				var err error
				out, err = open(input)
				return err
			},
			result: func() (map[string]any, error) {
				b, err := json.Marshal(out)
				if err != nil {
					return nil, err
				}
				vals, err := unmarshalValues(b)
				return withoutExp(vals), err
			},
		}
	}
}
