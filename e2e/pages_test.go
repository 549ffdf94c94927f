package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// localhostURL returns the demo's URL for path with the host localhost.
func (tb *tab) localhostURL(path string) string {
	tb.t.Helper()
	u, err := url.Parse(tb.h.base)
	if err != nil {
		tb.t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	return u.String() + path
}

// The demo keeps Secure cookies, named with the __Host- prefix, on plain
// HTTP: Chromium accepts them from http://localhost, as from 127.0.0.1.
func TestHostPrefixOnLocalhost(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	for n := 1; n <= 2; n++ {
		status, text := tb.openURL(tb.localhostURL("visits"))
		if want := fmt.Sprintf("You have visited this page %d times.", n); status != 200 || text != want {
			t.Fatalf("GET http://localhost/visits: %d %q, want %q", status, text, want)
		}
	}
	c := tb.cookies()[sessionName]
	if c == nil || c.Domain != "localhost" || !c.Secure || !c.HTTPOnly || c.Path != "/" {
		t.Fatalf("cookie %s in the store: %+v, want a Secure, host-only cookie of localhost", sessionName, c)
	}
}

// The page's login form, with "remember me" ticked, logs in, comes back to
// the page with a flash shown once, and keeps the login for 30 days.
func TestLoginFormRememberMe(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	if status, text := tb.open(""); status != 200 || !strings.Contains(text, "You are not logged in.") {
		t.Fatalf("GET /: %d %s", status, short(text))
	}
	err := chromedp.Do(tb.ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), "ada"),
		chromedp.Click(chromedp.CSS(`input[name="remember"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if err != nil {
		t.Fatalf("submitting the login form: %v", err)
	}
	text := eval[string](tb, `document.body.innerText`)
	for _, want := range []string{"Logged in as ada.", "You are ada."} {
		if !strings.Contains(text, want) {
			t.Errorf("the page after login lacks %q:\n%s", want, text)
		}
	}
	if loc := eval[string](tb, `location.pathname`); loc != "/" {
		t.Errorf("after login the tab is at %s, want /", loc)
	}
	c := tb.sessionCookies()[sessionName]
	if c == nil || c.Session {
		t.Fatalf("remembered login: cookie %+v, want a persistent one", c)
	}
	if left := time.Until(time.Unix(int64(c.Expires), 0)); left < 29*24*time.Hour || left > 31*24*time.Hour {
		t.Errorf("remembered login expires in %v, want 30 days", left)
	}
	// The flash is gone on the next view.
	if _, text := tb.open(""); strings.Contains(text, "Logged in as") {
		t.Errorf("the flash shows twice:\n%s", text)
	}
	tb.mustOpen("whoami", "You are ada.")
}

// A login without "remember me" lasts until the browser closes: its cookie
// has no expiry.
func TestLoginWithoutRememberMe(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.mustPost("login?user=bob", "Logged in as bob.")
	c := tb.sessionCookies()[sessionName]
	if c == nil || !c.Session {
		t.Fatalf("login without remember me: cookie %+v, want a browser-session cookie", c)
	}
	tb.mustOpen("whoami", "You are bob.")
}

// Routes that change the session refuse GET, so a link or a cross-site
// navigation cannot change it; and a form posted from another site is
// refused by CrossOriginProtection, though a top-level POST would get the
// response's cookies: logout would otherwise work cross-site.
func TestStateChangesNeedSameOriginPost(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.mustPost("login?user=ada", "Logged in as ada.")
	if status, _ := tb.open("logout"); status != 405 {
		t.Errorf("GET /logout: %d, want 405", status)
	}
	tb.mustOpen("whoami", "You are ada.")

	// A page on another site (localhost is another site than 127.0.0.1)
	// posts a form to the demo's /logout.
	if status, _ := tb.openURL(tb.localhostURL("visits")); status != 200 {
		t.Fatalf("opening a page on localhost: %d", status)
	}
	js := fmt.Sprintf(`(() => { const f = document.createElement("form"); f.method = "post"; f.action = %q; document.body.appendChild(f); f.submit(); return true; })()`, tb.url("logout"))
	eval[bool](tb, js)
	// Wait for the form's answer; the page may be between documents.
	var text string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		href, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.href`))
		if err == nil && href == tb.url("logout") {
			if text, err = chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil && text != "" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cross-site form never landed on /logout: at %s (%v)", href, err)
		}
	}
	if !strings.Contains(strings.ToLower(text), "cross-origin") {
		t.Errorf("the cross-site POST got %q, want CrossOriginProtection's refusal", text)
	}
	tb.mustOpen("whoami", "You are ada.")
}
