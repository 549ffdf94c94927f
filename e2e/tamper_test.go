package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// deleteCookie removes the demo host's cookie name from the store.
func (tb *tab) deleteCookie(name string) {
	tb.t.Helper()
	_, err := chromedp.Call(tb.ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: tb.h.base})
	if err != nil {
		tb.t.Fatalf("Network.deleteCookies %s: %v", name, err)
	}
}

// flipOne returns v with the character in its middle replaced by another
// base64url character.
func flipOne(v string) string {
	i := len(v) / 2
	c := byte('A')
	if v[i] == 'A' {
		c = 'B'
	}
	return v[:i] + string(c) + v[i+1:]
}

func TestAlteredCookieGivesFreshSession(t *testing.T) {
	t.Parallel()
	change := func(name string) func(*tab, map[string]string) {
		return func(tb *tab, v map[string]string) { tb.setCookie(name, flipOne(v[name])) }
	}
	tests := []struct {
		name  string
		items int // in the cart before the change
		alter func(*tab, map[string]string)
		want  []string // session cookies after the change
	}{
		{"single cookie, one character", 1, change(sessionName), []string{sessionName}},
		{"first of two cookies, one character", cartItems, change(sessionName), []string{sessionName, chunk1}},
		{"second of two cookies, one character", cartItems, change(chunk1), []string{sessionName, chunk1}},
		{"chunk count 2 made 3", cartItems, func(tb *tab, v map[string]string) {
			tb.setCookie(sessionName, "3"+strings.TrimPrefix(v[sessionName], "2"))
		}, []string{sessionName, chunk1}},
		{"second of two cookies removed", cartItems, func(tb *tab, v map[string]string) {
			tb.deleteCookie(chunk1)
		}, []string{sessionName}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTab(t)
			tb.mustOpen("visits", "You have visited this page 1 times.")
			tb.mustOpen("visits", "You have visited this page 2 times.")
			tb.fillCart(randomItems(uint64(20+i), tt.items))
			before := values(tb.sessionCookies())

			tt.alter(tb, before)
			altered := values(tb.sessionCookies())
			if diff := cmp.Diff(tt.want, names(tb.sessionCookies())); diff != "" {
				t.Fatalf("session cookies after the change (-want +got):\n%s", diff)
			}
			if cmp.Equal(before, altered) {
				t.Fatal("the change left the cookie store as it was")
			}

			// The demo answers 200 with a new, empty session, which
			// replaces every altered cookie.
			tb.mustOpen("visits", "You have visited this page 1 times.")
			tb.mustOpen("cart", "Your cart is empty.")
			after := tb.sessionCookies()
			if diff := cmp.Diff([]string{sessionName}, names(after)); diff != "" {
				t.Errorf("session cookies of the fresh session (-want +got):\n%s", diff)
			} else if after[sessionName].Value == altered[sessionName] {
				t.Errorf("the altered cookie is still in the store")
			}
		})
	}
}

// waitUntil sleeps until the wall clock reaches at, or the tab's time ends.
func (tb *tab) waitUntil(at time.Time) {
	tb.t.Helper()
	select {
	case <-time.After(time.Until(at)):
	case <-tb.ctx.Done():
		tb.t.Fatalf("waiting until %v: %v", at, tb.ctx.Err())
	}
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.mustPost("color/set?value=plum", "Session data set!")
	status, text := tb.post("expiry?seconds=2")
	stamp, ok := strings.CutPrefix(text, "This session now expires at ")
	if status != 200 || !ok {
		t.Fatalf("POST /expiry?seconds=2: %d %q", status, text)
	}
	exp, err := time.Parse(time.RFC3339, strings.TrimSuffix(stamp, "."))
	if err != nil {
		t.Fatalf("POST /expiry?seconds=2: %q: %v", text, err)
	}
	store := tb.sessionCookies()
	if diff := cmp.Diff([]string{sessionName}, names(store)); diff != "" {
		t.Fatalf("session cookies after /expiry (-want +got):\n%s", diff)
	}
	sealed := store[sessionName].Value
	if d := time.Unix(int64(store[sessionName].Expires), 0).Sub(exp); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("the browser keeps the cookie until %v, want the session's expiry %v", time.Unix(int64(store[sessionName].Expires), 0), exp)
	}

	// The browser drops the cookie at its Max-Age, so the next visit has a
	// fresh session.
	for deadline := exp.Add(5 * time.Second); len(tb.sessionCookies()) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the browser still holds %q five seconds after the session's expiry", names(tb.sessionCookies()))
		}
		tb.waitUntil(time.Now().Add(100 * time.Millisecond))
	}
	tb.mustOpen("color", "Favorite color is not set")

	// The demo allows 10 s of clock skew (the library's default), so the
	// expired cookie, put back by hand, still opens for a while; this shows
	// that the browser sends a cookie put back this way. The demo then
	// deletes it, since its seal has expired.
	if late := time.Since(exp); late > 8*time.Second {
		t.Fatalf("reached the skew check %v after the expiry; it needs less than 10 s", late)
	}
	tb.setCookie(sessionName, sealed)
	tb.mustOpen("color", "Favorite color is plum")
	if got := names(tb.sessionCookies()); len(got) != 0 {
		t.Errorf("session cookies %q after a visit with an expired seal, want none", got)
	}

	// Past the expiry and the skew, the same cookie is refused: a fresh
	// session and a 200. The demo deletes the cookie the request carried.
	tb.waitUntil(exp.Add(12 * time.Second))
	tb.setCookie(sessionName, sealed)
	if got := values(tb.sessionCookies()); !cmp.Equal(got, map[string]string{sessionName: sealed}) {
		t.Fatalf("the store holds %q, want the expired cookie alone", names(tb.sessionCookies()))
	}
	tb.mustOpen("color", "Favorite color is not set")
	if got := names(tb.sessionCookies()); len(got) != 0 {
		t.Errorf("session cookies %q after a visit with a refused cookie, want none", got)
	}
	tb.mustOpen("visits", "You have visited this page 1 times.")
}
