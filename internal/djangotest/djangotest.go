// Package djangotest makes Django signed-cookie session cookies with real
// Django, for the tests of the legacy package and of the interop module.
package djangotest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// script is django_cookies.py, run as python3 - ARGS.
//
//go:embed django_cookies.py
var script []byte

// Secrets the cookies are signed with: the application's, and another.
const (
	Secret      = "django-insecure-test-key-7f3e9a1c"
	OtherSecret = "another-sites-secret-key"
)

// Cookies is what django_cookies.py prints: cookies made by Django's
// SessionMiddleware with the signed_cookies engine, Django's own verdict on
// each, and its settings. The valid ones hold visits 41 and user "ada".
type Cookies struct {
	// Plain is the valid session, not compressed; Compressed, the same
	// with a long note, zlib-compressed ("." prefix).
	Plain, Compressed string
	// Expired is Plain signed SESSION_COOKIE_AGE + 60 seconds before now;
	// Tampered, Plain with its payload replaced (visits 4100) under the
	// same signature; Wrongkey, Plain signed with OtherSecret.
	Expired, Tampered, Wrongkey string
	// Accepts says, for each cookie above by its JSON name, whether
	// Django itself loads it at the signing time.
	Accepts map[string]bool
	// MaxAge is SESSION_COOKIE_AGE, in seconds.
	MaxAge int64 `json:"max_age"`
	// Django is Django's version.
	Django string
}

var (
	mu     sync.Mutex
	cache  = map[int64]Cookies{}
	python = sync.OnceValue(Python) // looked for once
)

// Make returns cookies that Django signed at now, with Secret (Wrongkey:
// with OtherSecret). Without a Python that has Django, the test is skipped,
// except when the environment variable CI is true, where it fails: CI
// installs python3-django so that these cookies are real.
func Make(t testing.TB, now time.Time) Cookies {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if c, ok := cache[now.Unix()]; ok {
		return c
	}
	py := python()
	if py == "" {
		const why = "no python3 with Django (apt-get install python3-django, or set DJANGO_PYTHON)"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(why + "; CI is true, so this fails instead of skipping")
		}
		t.Skip(why)
	}
	cmd := exec.Command(py, "-", Secret, OtherSecret, strconv.FormatInt(now.Unix(), 10))
	cmd.Stdin = bytes.NewReader(script)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("django_cookies.py: %v", err)
	}
	var c Cookies
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("django_cookies.py: %v", err)
	}
	cache[now.Unix()] = c
	return c
}

// Python returns a Python that imports django: $DJANGO_PYTHON, python3 on
// PATH, or Debian's /usr/bin/python3; or "" if there is none.
func Python() string {
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
