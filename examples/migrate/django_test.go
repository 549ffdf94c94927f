package main

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fromDjango is what testdata/django_cookies.py prints: cookies made by
// Django's SessionMiddleware with the signed_cookies engine, Django's own
// verdict on each, and its settings.
type fromDjango struct {
	Plain, Compressed, Expired, Tampered, Wrongkey string
	Accepts                                        map[string]bool
	MaxAge                                         int64 `json:"max_age"`
	Django                                         string
}

var (
	djangoOnce sync.Once
	djangoOut  fromDjango
	djangoErr  error
	djangoSkip string
)

// realDjango runs the script once, signing at testNow. Without a Python
// that has Django, the test is skipped, except under CI (CI=true), where
// it fails: CI installs python3-django so that these cookies are real.
func realDjango(t *testing.T) fromDjango {
	t.Helper()
	djangoOnce.Do(func() {
		python := findDjangoPython()
		if python == "" {
			djangoSkip = "no python3 with Django (apt-get install python3-django, or set DJANGO_PYTHON)"
			return
		}
		cmd := exec.Command(python, "testdata/django_cookies.py", djangoSecret, "another-sites-secret-key",
			strconv.FormatInt(testNow.Unix(), 10))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			djangoErr = err
			return
		}
		djangoErr = json.Unmarshal(out, &djangoOut)
	})
	if djangoSkip != "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(djangoSkip)
		}
		t.Skip(djangoSkip)
	}
	if djangoErr != nil {
		t.Fatalf("testdata/django_cookies.py: %v", djangoErr)
	}
	return djangoOut
}

// findDjangoPython returns a Python that imports django: $DJANGO_PYTHON,
// python3 on PATH, or Debian's /usr/bin/python3.
func findDjangoPython() string {
	for _, p := range []string{os.Getenv("DJANGO_PYTHON"), "python3", "/usr/bin/python3"} {
		if p == "" {
			continue
		}
		path, err := exec.LookPath(p)
		if err == nil && exec.Command(path, "-c", "import django").Run() == nil {
			return path
		}
	}
	return ""
}

func djangoCookies(t *testing.T) legacyCookies {
	d := realDjango(t)
	return legacyCookies{
		valid: map[string]string{"plain": d.Plain, "compressed": d.Compressed},
		bad: map[string]badCookie{
			"tampered": {value: d.Tampered, want: errDjangoSignature},
			"expired":  {value: d.Expired, want: errDjangoExpired},
			"wrongkey": {value: d.Wrongkey, want: errDjangoSignature},
		},
	}
}

// The Go check agrees with Django's on every cookie Django made, and reads
// the same data.
func TestDjangoAgreesWithDjango(t *testing.T) {
	d := realDjango(t)
	t.Logf("Django %s", d.Django)
	if d.MaxAge != int64(14*24*time.Hour/time.Second) {
		t.Errorf("SESSION_COOKIE_AGE %d, want two weeks", d.MaxAge)
	}
	if !strings.HasPrefix(d.Compressed, ".") || strings.HasPrefix(d.Plain, ".") {
		t.Errorf("compressed %q, plain %q: want only the first with '.'", d.Compressed, d.Plain)
	}
	ds := &djangoSessions{SecretKey: djangoSecret, Now: func() time.Time { return testNow }}
	for name, value := range map[string]string{
		"plain": d.Plain, "compressed": d.Compressed, "expired": d.Expired,
		"tampered": d.Tampered, "wrongkey": d.Wrongkey,
	} {
		data, err := ds.verify(value)
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
	d := realDjango(t)
	payload, _, _ := strings.Cut(d.Plain, ":")
	if got := djangoSign(djangoSecret, payload, testNow.Unix()); got != d.Plain {
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
		{"valid", djangoSign(djangoSecret, session, now), nil},
		{"at the max age", djangoSign(djangoSecret, session, now-maxAge), nil},
		{"a second past it", djangoSign(djangoSecret, session, now-maxAge-1), errDjangoExpired},
		{"no separator", "abc", errDjangoSignature},
		{"signature not base64", session + ":1xUuzw:***", errDjangoSignature},
		// The same bytes as the right signature, but not Django's spelling.
		{"signature with other trailing bits", respell(djangoSign(djangoSecret, session, now)), errDjangoSignature},
		{"empty", "", errDjangoSignature},
		{"signed, no timestamp", signRaw(session), errDjangoPayload},
		{"signed, bad timestamp", signRaw(session + ":!!"), errDjangoPayload},
		{"signed, not JSON", djangoSign(djangoSecret, b64([]byte("41 ada")), now), errDjangoPayload},
		{"signed, a JSON list", djangoSign(djangoSecret, b64([]byte("[41]")), now), errDjangoPayload},
		{"signed, bad zlib", djangoSign(djangoSecret, "."+session, now), errDjangoPayload},
		// A bomb, even a signed one, inflates no further than the cap.
		{"signed zlib bomb", djangoSign(djangoSecret, deflate(bytes.Repeat([]byte(" "), 10<<20)), now), errDjangoPayload},
		{"signed, compressed", djangoSign(djangoSecret, deflate([]byte(`{"visits":41}`)), now), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := &djangoSessions{SecretKey: djangoSecret, Now: func() time.Time { return testNow }}
			data, err := ds.verify(tc.value)
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
	key := sha256.Sum256([]byte(djangoSalt + "signer" + djangoSecret))
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
	f.Add(djangoSign(djangoSecret, base64.RawURLEncoding.EncodeToString([]byte(`{"visits":41}`)), now), false)
	f.Add("eyJ2aXNpdHMiOjQxLCJ1c2VyIjoiYWRhIn0:1xUuzw:UbfGDwukHaOU1-7fRDreltLQB9S1MQfjy2z_X2M_u5Y", false)
	f.Add(".eJyrVirLLM4sKVayMjHUUSotTi1SslJKTElU0lHKyy9JBXFychTK84uyFRLzUhTy8hUKchIrFUYFRwVHBUkSVKoFAJFGMlQ", true)
	f.Add("", true)
	f.Fuzz(func(t *testing.T, value string, sign bool) {
		if sign {
			// Sign the fuzzed text, to reach the code after the signature.
			value = signRaw(value)
		}
		ds := &djangoSessions{SecretKey: djangoSecret, Now: func() time.Time { return testNow }}
		_, err := ds.verify(value)
		if err == nil {
			signed, sig, _ := cut(value)
			if signRaw(signed) != signed+":"+sig {
				t.Fatalf("accepted a value with a wrong signature: %q", value)
			}
		}
	})
}
