package cookiesession

import (
	"maps"
	"net/http"
	"testing"
	"time"
)

// loginRace logs b in, and answers the page that follows the login (which
// reads the flash and saves the session) without storing its cookies yet:
// both requests left with the login's cookies. It returns the login's
// registration offer and the page's response.
func loginRace(t *testing.T, h http.Handler, clock *testClock) (b *fakeBrowser, reg string, page *http.Response) {
	t.Helper()
	b = newFakeBrowser(t, h, clock, true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	p := newFakeBrowser(t, h, clock, false)
	maps.Copy(p.jar, b.jar)
	page, _ = p.raw(http.MethodGet, "/", nil)
	return b, resp.Header.Get("Secure-Session-Registration"), page
}

// TestDeviceConcurrentSave runs the race of a login: the page after the
// login re-saves the session (it reads the flash) while the browser
// registers. Whichever Set-Cookie lands last, the session stays bound.
func TestDeviceConcurrentSave(t *testing.T) {
	for _, pageLast := range []bool{false, true} {
		name := "registration last"
		if pageLast {
			name = "unbound page save last"
		}
		t.Run(name, func(t *testing.T) {
			_, clock, _, h := dbscSetup(t)
			b, reg, pageResp := loginRace(t, h, clock)
			if !pageLast {
				b.store(pageResp)
			}
			b.register(reg)
			if pageLast {
				b.store(pageResp) // the unbound session overwrites the bound one
			}
			if b.registrations != 1 {
				t.Fatal("registration failed")
			}
			if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
				t.Errorf("page says %q", body)
			}
			// The binding holds: a copy dies, the browser refreshes.
			thief := b.steal()
			clock.Add(11 * time.Minute)
			if got := whoami(t, thief); got != notLoggedIn {
				t.Errorf("copy: %q", got)
			}
			if got := whoami(t, b); got != loggedIn {
				t.Errorf("browser: %q", got)
			}
		})
	}
	// And when no request carries the device cookie before it expires, the
	// refresh binds the overwritten session again.
	t.Run("refresh after the race", func(t *testing.T) {
		_, clock, _, h := dbscSetup(t)
		b, reg, pageResp := loginRace(t, h, clock)
		b.register(reg)
		b.store(pageResp)
		clock.Add(11 * time.Minute)
		if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
			t.Fatalf("browser: %q, %d refreshes", got, b.refreshes)
		}
		if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
			t.Errorf("page says %q", body)
		}
	})
}
