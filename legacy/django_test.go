package legacy

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession/internal/djangotest"
	"github.com/google/go-cmp/cmp"
)

// testNow is the time the tests run at: the readers' clock, the time
// cookies are signed at.
var testNow = time.Now().Truncate(time.Second)

// testDjango is the reader with the secret of the cookies Django made.
func testDjango(t testing.TB) *Django {
	t.Helper()
	d, err := NewDjango(DjangoConfig{SecretKey: djangotest.Secret, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The Go check agrees with Django's on every cookie Django made, and reads
// the same data.
func TestDjangoAgreesWithDjango(t *testing.T) {
	d := djangotest.Make(t, testNow)
	t.Logf("Django %s", d.Django)
	if d.MaxAge != int64(14*24*time.Hour/time.Second) {
		t.Errorf("SESSION_COOKIE_AGE %d, want two weeks", d.MaxAge)
	}
	if !strings.HasPrefix(d.Compressed, ".") || strings.HasPrefix(d.Plain, ".") {
		t.Errorf("compressed %q, plain %q: want only the first with '.'", d.Compressed, d.Plain)
	}
	ds := testDjango(t)
	for name, value := range map[string]string{
		"plain": d.Plain, "compressed": d.Compressed, "expired": d.Expired,
		"tampered": d.Tampered, "wrongkey": d.Wrongkey,
	} {
		data, err := ds.Verify(value)
		if got, want := err == nil, d.Accepts[name]; got != want {
			t.Errorf("%s: Go accepts %v (%v), Django %v", name, got, err, want)
		}
		if err != nil {
			continue
		}
		if got := string(data["visits"]) + " " + string(data["user"]); got != `41 "ada"` {
			t.Errorf("%s: visits and user %s", name, got)
		}
		if name == "compressed" && !strings.HasPrefix(string(data["note"]), `"all work and no play`) {
			t.Errorf("compressed: note %s", data["note"])
		}
	}
}

// djangoSign signs payload as Django's TimestampSigner does, for values
// Django would never make. TestDjangoSignMatchesDjango shows it is right.
func djangoSign(secret, payload string, ts int64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var stamp []byte
	for ; ts > 0; ts /= 62 {
		stamp = append([]byte{digits[ts%62]}, stamp...)
	}
	signed := payload + ":" + string(stamp)
	key := sha256.Sum256([]byte(djangoSalt + "signer" + secret))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(signed))
	return signed + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestDjangoSignMatchesDjango(t *testing.T) {
	d := djangotest.Make(t, testNow)
	payload, _, _ := strings.Cut(d.Plain, ":")
	if got := djangoSign(djangotest.Secret, payload, testNow.Unix()); got != d.Plain {
		t.Errorf("djangoSign = %q, Django made %q", got, d.Plain)
	}
}

func TestDjangoVerify(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	deflate := func(b []byte) string {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return "." + b64(buf.Bytes())
	}
	now := testNow.Unix()
	maxAge := int64(14 * 24 * 60 * 60)
	session := b64([]byte(`{"visits":41}`))
	for _, tc := range []struct {
		name, value string
		want        error
	}{
		{"valid", djangoSign(djangotest.Secret, session, now), nil},
		{"at the max age", djangoSign(djangotest.Secret, session, now-maxAge), nil},
		{"a second past it", djangoSign(djangotest.Secret, session, now-maxAge-1), ErrExpired},
		{"no separator", "abc", ErrMalformed},
		{"signature not base64", session + ":1xUuzw:***", ErrSignature},
		// The same bytes as the right signature, but not Django's spelling.
		{"signature with other trailing bits", respell(djangoSign(djangotest.Secret, session, now)), ErrSignature},
		{"empty", "", ErrMalformed},
		{"signed, no timestamp", signRaw(session), ErrPayload},
		{"signed, bad timestamp", signRaw(session + ":!!"), ErrPayload},
		{"signed, not JSON", djangoSign(djangotest.Secret, b64([]byte("41 ada")), now), ErrPayload},
		{"signed, a JSON list", djangoSign(djangotest.Secret, b64([]byte("[41]")), now), ErrPayload},
		{"signed, bad zlib", djangoSign(djangotest.Secret, "."+session, now), ErrPayload},
		// A bomb, even a signed one, inflates no further than the cap.
		{"signed zlib bomb", djangoSign(djangotest.Secret, deflate(bytes.Repeat([]byte(" "), 2<<20)), now), ErrPayload},
		{"too large", djangoSign(djangotest.Secret, b64(bytes.Repeat([]byte(" "), 3<<10)), now), ErrTooLarge},
		{"signed, compressed", djangoSign(djangotest.Secret, deflate([]byte(`{"visits":41}`)), now), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := testDjango(t).Verify(tc.value)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && string(data["visits"]) != "41" {
				t.Errorf("visits %s", data["visits"])
			}
		})
	}
}

// respell changes the last character of a value's signature to one that
// decodes to the same bytes: 32 bytes in base64 leave 2 bits unused.
func respell(value string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, value[len(value)-1])
	return value[:len(value)-1] + string(alphabet[last^1])
}

// signRaw signs value (payload and timestamp) with the test secret.
func signRaw(value string) string {
	key := sha256.Sum256([]byte(djangoSalt + "signer" + djangotest.Secret))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(value))
	return value + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestBase62(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"z", 61, true}, {"10", 62, true}, {"1xUuzw", 1795305600, true},
		{"", 0, false}, {"-1", 0, false}, {"a b", 0, false}, {"zzzzzzzzzzz", 0, false},
	} {
		got, ok := base62(tc.in)
		if diff := cmp.Diff([2]any{tc.want, tc.ok}, [2]any{got, ok}); diff != "" {
			t.Errorf("base62(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// FuzzDjangoVerify: the check never panics, and accepts only values signed
// with the key, whatever their payload.
func FuzzDjangoVerify(f *testing.F) {
	now := testNow.Unix()
	f.Add(djangoSign(djangotest.Secret, base64.RawURLEncoding.EncodeToString([]byte(`{"visits":41}`)), now), false)
	f.Add("eyJ2aXNpdHMiOjQxLCJ1c2VyIjoiYWRhIn0:1xUuzw:UbfGDwukHaOU1-7fRDreltLQB9S1MQfjy2z_X2M_u5Y", false)
	f.Add(".eJyrVirLLM4sKVayMjHUUSotTi1SslJKTElU0lHKyy9JBXFychTK84uyFRLzUhTy8hUKchIrFUYFRwVHBUkSVKoFAJFGMlQ", true)
	f.Add("", true)
	ds := testDjango(f)
	f.Fuzz(func(t *testing.T, value string, sign bool) {
		if sign {
			// Sign the fuzzed text, to reach the code after the signature.
			value = signRaw(value)
		}
		_, err := ds.Verify(value)
		if err == nil {
			signed, sig, _ := cut(value)
			if signRaw(signed) != signed+":"+sig {
				t.Fatalf("accepted a value with a wrong signature: %q", value)
			}
		}
	})
}
