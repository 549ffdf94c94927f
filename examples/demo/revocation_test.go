package main

import (
	"flag"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// newRevocationDemo is newDemo with revocation as main sets it up without
// -redis (the memory store, on the demo's clock), with the given bound.
func newRevocationDemo(t *testing.T, bound time.Duration) *demo {
	t.Helper()
	kr, err := loadKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{t: t, clock: &clock{now: t0}}
	cfg := config(false)
	cfg.Now = d.clock.Now
	if cfg.Revocation, err = revocationConfig(t.Context(), "", bound, "closed"); err != nil {
		t.Fatal(err)
	}
	cfg.Revocation.Store = cookiesession.NewMemoryRevocationStore(d.clock.Now)
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewServer(newHandler(m))
	t.Cleanup(d.srv.Close)
	d.jar, _ = cookiejar.New(nil)
	d.client = &http.Client{Jar: d.jar}
	return d
}

// browser returns another client of d's server, with a jar of its own
// holding a copy of cookies, as a thief's would.
func (d *demo) browser(cookies bool) *demo {
	other := *d
	other.jar, _ = cookiejar.New(nil)
	if cookies {
		u, _ := url.Parse(d.srv.URL)
		other.jar.SetCookies(u, d.jar.Cookies(u))
	}
	other.client = &http.Client{Jar: other.jar}
	return &other
}

// POST /logout refuses every copy of the cookie, within the bound.
func TestLogoutRevokes(t *testing.T) {
	d := newRevocationDemo(t, 30*time.Second)
	d.want("POST /login?user=ada", "Logged in as ada.\n")
	thief := d.browser(true)
	thief.want("/whoami", "You are ada.\n")
	d.want("POST /logout", "Logged out.\n")
	d.want("/whoami", "You are not logged in.\n")
	d.clock.Add(30 * time.Second)
	thief.want("/whoami", "You are not logged in.\n")
}

// POST /logout-everywhere ends every session of the user, and no other;
// a login right after it works; from an anonymous session it is 403.
func TestLogoutEverywhere(t *testing.T) {
	d := newRevocationDemo(t, 0)
	laptop, phone, other := d.browser(false), d.browser(false), d.browser(false)
	laptop.want("POST /login?user=ada", "Logged in as ada.\n")
	phone.want("POST /login?user=ada", "Logged in as ada.\n")
	other.want("POST /login?user=bob", "Logged in as bob.\n")
	d.clock.Add(time.Millisecond) // a frozen clock would make them one instant
	phone.want("POST /logout-everywhere", "Logged out everywhere.\n")
	phone.want("/whoami", "You are not logged in.\n")
	laptop.want("/whoami", "You are not logged in.\n")
	other.want("/whoami", "You are bob.\n")
	d.clock.Add(time.Millisecond)
	laptop.want("POST /login?user=ada", "Logged in as ada.\n")
	laptop.want("/whoami", "You are ada.\n")

	status, body, _ := d.browser(false).post("/logout-everywhere", nil)
	if status != http.StatusForbidden {
		t.Fatalf("anonymous POST /logout-everywhere: %d %q", status, body)
	}
	if status, _, resp := laptop.get("/logout-everywhere"); status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Fatalf("GET /logout-everywhere: %d", status)
	}
	_, page, _ := laptop.get("/")
	if !strings.Contains(page, `<form method="post" action="/logout-everywhere"><input type="hidden" name="then" value="/"><button>Log out everywhere</button></form>`) {
		t.Fatal("the page of a logged-in user has no Log out everywhere form")
	}
}

// The revocation flags: their checks, and -redis in a build without a
// Redis client.
func TestRevocationFlags(t *testing.T) {
	for _, tt := range []struct {
		url   string
		bound time.Duration
		fail  string
		err   string
	}{
		{"", -time.Second, "closed", "-revocation-bound"},
		{"", 0, "maybe", `-revocation-fail "maybe"`},
		{"redis://127.0.0.1:6379/0", time.Second, "open", redisBuildCommand},
	} {
		_, err := revocationConfig(t.Context(), tt.url, tt.bound, tt.fail)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: %v", tt, err)
		}
	}
	rv, err := revocationConfig(t.Context(), "", time.Second, "open")
	if err != nil || !rv.FailOpen || rv.Bound != time.Second || rv.Store == nil {
		t.Errorf("%+v %v", rv, err)
	}
	if f := flagDefault("revocation-bound"); f != defaultRevocationBound.String() {
		t.Errorf("-revocation-bound default %s", f)
	}
}

func flagDefault(name string) string { return flag.Lookup(name).DefValue }
