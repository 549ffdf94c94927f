package cookiesession

import (
	"maps"
	"net/http"
	"testing"
	"time"
)

// clone is a browser with a copy of b's jar and DBSC state, as b stands
// now: a request it sends leaves with b's cookies of this moment.
func (b *fakeBrowser) clone() *fakeBrowser {
	c := *b
	c.jar = maps.Clone(b.jar)
	return &c
}

// stealSession copies every cookie of b but the device cookie, as malware
// that takes only the session cookie would.
func (b *fakeBrowser) stealSession() *fakeBrowser {
	thief := b.steal()
	delete(thief.jar, b.cred)
	return thief
}

// loginRace runs the race of a login (SPEC.md §15.6) as Chromium runs it:
// the login's response offers registration, and the browser sends both the
// registration and the page that follows the login (which reads the flash,
// so it saves the session) with the cookies of the login's response, before
// either answer arrives. It returns the browser with only the login's
// cookies in its jar (and the key and DBSC session the registration
// answered), and the two answers, whose cookies the caller applies in the
// order they land.
func loginRace(t *testing.T, h http.Handler, clock *testClock) (b *fakeBrowser, reg, page *http.Response) {
	t.Helper()
	b = newFakeBrowser(t, h, clock, true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	offer := resp.Header.Get("Secure-Session-Registration")
	pager, registrar := b.clone(), b.clone() // both leave with the login's cookies
	page, _ = pager.raw(http.MethodGet, "/", nil)
	if len(page.Header.Values("Set-Cookie")) == 0 {
		t.Fatal("the page after the login saved nothing: no race")
	}
	registrar.register(offer)
	if registrar.registrations != 1 {
		t.Fatal("registration failed")
	}
	b.key, b.id, b.refURL, b.cred = registrar.key, registrar.id, registrar.refURL, registrar.cred
	b.registrations = 1
	return b, registrar.lastRegistration, page
}

// flashes is what GET /flash shows b (and reads).
func flashes(t *testing.T, b *fakeBrowser) string {
	t.Helper()
	_, body := b.do(http.MethodGet, "/flash")
	return body
}

// fullCopyExpires steals every cookie of b, a bound browser, and moves the
// clock past the device cookie's lifetime: the copy is logged out, and b,
// after one refresh, is not.
func fullCopyExpires(t *testing.T, b *fakeBrowser, clock *testClock) {
	t.Helper()
	full := b.steal()
	clock.Add(11 * time.Minute)
	if got := whoami(t, full); got != notLoggedIn {
		t.Errorf("full copy after its device cookie expired: whoami %q", got)
	}
	if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
		t.Errorf("browser: whoami %q, %d refreshes", got, b.refreshes)
	}
}

// TestDeviceConcurrentSave runs the race of a login both ways (SPEC.md
// §15.6, §15.7): the page after the login re-saves the session (it reads
// the flash) while the browser registers, both with the login's cookies.
func TestDeviceConcurrentSave(t *testing.T) {
	// The unbound save lands last: the browser holds the page's unbound
	// session and the registration's device cookie. A copy of the session
	// cookie alone, taken before the browser's next request, is an unbound
	// session that lives on (the known limit); that request binds the
	// session again, keeping what the page changed.
	t.Run("page last", func(t *testing.T) {
		_, clock, _, h := dbscSetup(t)
		b, reg, page := loginRace(t, h, clock)
		b.store(reg)
		b.store(page)
		early := b.stealSession()
		if got := whoami(t, early); got != loggedIn {
			t.Fatalf("copy of the unbound session cookie: whoami %q, want %q", got, loggedIn)
		}
		if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
			t.Errorf("next request: page says %q, want bound again", body)
		}
		if got := flashes(t, b); got != "" {
			t.Errorf("the flash the page read shows again: %q", got)
		}
		if got := whoami(t, b.stealSession()); got != notLoggedIn {
			t.Errorf("copy of the session cookie after the next request: whoami %q", got)
		}
		fullCopyExpires(t, b, clock)
		if got := whoami(t, early); got != loggedIn {
			t.Errorf("copy taken before the next request: whoami %q, want the known limit %q", got, loggedIn)
		}
	})
	// The registration lands last: the session is bound at once, and the
	// page's change is undone (the known limit): the flash it read shows
	// again.
	t.Run("registration last", func(t *testing.T) {
		_, clock, _, h := dbscSetup(t)
		b, reg, page := loginRace(t, h, clock)
		b.store(page)
		b.store(reg)
		if got := whoami(t, b.stealSession()); got != notLoggedIn {
			t.Errorf("copy of the session cookie: whoami %q", got)
		}
		if got := flashes(t, b); got != "Welcome back.\n" {
			t.Errorf("flashes %q, want the one the page read, back", got)
		}
		if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
			t.Errorf("page says %q", body)
		}
		fullCopyExpires(t, b, clock)
	})
	// The unbound save lands last and the browser sends nothing for hours:
	// its cookie stays unbound all that time, and a copy of it taken then
	// (without the device cookie) opens days later. The browser's next
	// request refreshes, which binds its session again from the identifier
	// and a proof; the copy lives on until the session ends.
	t.Run("page last, then hours without a request", func(t *testing.T) {
		_, clock, _, h := dbscSetup(t)
		b, reg, page := loginRace(t, h, clock)
		b.store(reg)
		b.store(page)
		clock.Add(3 * time.Hour)
		late := b.stealSession()
		clock.Add(5 * 24 * time.Hour)
		if got := whoami(t, late); got != loggedIn {
			t.Fatalf("copy taken 3 h after the race, 5 days on: whoami %q, want %q", got, loggedIn)
		}
		if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
			t.Fatalf("browser: whoami %q, %d refreshes", got, b.refreshes)
		}
		if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
			t.Errorf("page says %q", body)
		}
		if got := whoami(t, b.stealSession()); got != notLoggedIn {
			t.Errorf("copy of the session cookie after the refresh: whoami %q", got)
		}
		if got := whoami(t, late); got != loggedIn {
			t.Errorf("copy taken before the refresh: whoami %q, want the known limit %q", got, loggedIn)
		}
	})
}
