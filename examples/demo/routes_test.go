package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// sessionID opens the jar's session cookies with the demo's keys, at the
// demo's clock, and returns the session's ID.
func (d *demo) sessionID(kr *cookiesession.Keyring) string {
	d.t.Helper()
	cfg := config(false)
	cfg.Now = d.clock.Now
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	u, _ := url.Parse(d.srv.URL)
	var pairs []string
	for _, c := range d.jar.Cookies(u) {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	s, err := m.LoadHeader(d.t.Context(), strings.Join(pairs, "; "))
	if err != nil || s.IsNew() {
		d.t.Fatalf("the jar holds no session (%v)", err)
	}
	return s.ID()
}

// POST /login renews the session, stores the user, and, with remember=1,
// keeps it for 30 days; without, until the browser closes.
func TestLogin(t *testing.T) {
	for _, tt := range []struct {
		form   url.Values
		maxAge int
	}{
		{url.Values{"user": {"ada"}}, 0}, // no Max-Age
		{url.Values{"user": {"ada"}, "remember": {"1"}}, 30 * 24 * 3600},
	} {
		kr := newKeyring(t)
		d := newDemoKeyring(t, kr)
		d.want("/visits", "You have visited this page 1 times.\n")
		before := d.sessionID(kr)
		status, body, resp := d.post("/login", tt.form)
		if status != http.StatusOK || body != "Logged in as ada.\n" {
			t.Fatalf("POST /login %v: %d %q", tt.form, status, body)
		}
		if got := sessionCookie(t, resp).MaxAge; got != tt.maxAge {
			t.Errorf("POST /login %v: Max-Age %d, want %d", tt.form, got, tt.maxAge)
		}
		if after := d.sessionID(kr); after == before {
			t.Errorf("POST /login kept the session ID %s", before)
		}
		d.want("/whoami", "You are ada.\n")
		d.want("/visits", "You have visited this page 2 times.\n") // the data stays
	}
}

// The page's forms come back to the page, which shows each flash message
// once, escaped.
func TestPageFlashes(t *testing.T) {
	d := newDemo(t)
	status, _, resp := d.post("/login", url.Values{"user": {"<b>ada</b>"}, "then": {"/"}})
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("POST /login from the page: %d, Location %q", status, resp.Header.Get("Location"))
	}
	d.post("/cart/add/apple", url.Values{"then": {"/"}})
	_, body, _ := d.get("/")
	for _, want := range []string{
		`<p class="flash success">Logged in as &lt;b&gt;ada&lt;/b&gt;.</p>`,
		`<p class="flash success">Item added: apple.</p>`,
		`<p>You are &lt;b&gt;ada&lt;/b&gt;.</p>`,
		`<li>apple`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<b>ada") {
		t.Error("the page has the user name unescaped")
	}
	_, body, _ = d.get("/")
	if strings.Contains(body, "flash") {
		t.Errorf("flash messages shown twice:\n%s", body)
	}
	// The plain-text answer leaves no flash behind.
	d.want("POST /cart/clear", "Cart cleared.\n")
	if _, body, _ = d.get("/"); strings.Contains(body, "flash") {
		t.Errorf("a plain-text POST left a flash:\n%s", body)
	}
}

// http.CrossOriginProtection refuses a POST that the browser marks as
// cross-origin; the session is not touched.
func TestCrossOriginRefused(t *testing.T) {
	d := newDemo(t)
	d.want("POST /color/set?value=blue", "Session data set!\n")
	for _, hdr := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}},
		{"Origin": {"http://evil.example"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, d.srv.URL+"/color/set?value=red", nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with %v: %d, want 403", hdr, resp.StatusCode)
		}
	}
	d.want("/color", "Favorite color is blue\n")
	req, _ := http.NewRequest(http.MethodPost, d.srv.URL+"/color/set?value=green", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("same-origin POST: %d", resp.StatusCode)
	}
	d.want("/color", "Favorite color is green\n")
}
