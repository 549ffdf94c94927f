package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

func TestAppFromEnv(t *testing.T) {
	kr := newKeyring(t)
	tests := []struct {
		name, keys string
		wantErr    error  // nil: any error
		wantText   string // in the error
		ok         bool
	}{
		{name: "unset", keys: "", wantText: "COOKIESESSION_KEYS is not set"},
		{name: "blank", keys: " \n", wantText: "COOKIESESSION_KEYS is not set"},
		{name: "garbage", keys: "not a keyring", wantErr: cookiesession.ErrInvalidKeyring, wantText: "COOKIESESSION_KEYS"},
		{name: "valid", keys: kr.Marshal(), ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := appFromEnv(func(name string) string {
				if name == "COOKIESESSION_KEYS" {
					return tt.keys
				}
				return ""
			})
			if tt.ok {
				if err != nil || app == nil {
					t.Fatalf("appFromEnv = %v, %v; want an App", app, err)
				}
				return
			}
			if err == nil {
				t.Fatal("appFromEnv succeeded; want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

func TestVisitsCounter(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	for n := 1; n <= 3; n++ {
		resp := b.get(t, app, "/visits")
		want := fmt.Sprintf("You have visited this page %d times.\n", n)
		if resp.StatusCode != http.StatusOK || resp.Body != want {
			t.Fatalf("request %d: %d %q; want 200 %q", n, resp.StatusCode, resp.Body, want)
		}
		if diff := cmp.Diff([]string{"__Host-session"}, b.names()); diff != "" {
			t.Fatalf("request %d: jar names (-want +got):\n%s", n, diff)
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	app := newTestApp(t)
	resp, raw := invoke(t, app.Handle, payload2(t, "http-api-request.json", "/visits", nil))
	if len(resp.Cookies) != 1 {
		t.Fatalf("cookies = %q; want one", resp.Cookies)
	}
	c, err := http.ParseSetCookie(resp.Cookies[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "__Host-session" || c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
		t.Errorf("Set-Cookie %q: want session, Path=/, HttpOnly, Secure, SameSite=Lax, Max-Age > 0", resp.Cookies[0])
	}
	if _, ok := raw["cookies"]; !ok {
		t.Errorf("response JSON has no \"cookies\" field: %v", raw)
	}
	if resp.Headers["Vary"] != "Cookie" {
		t.Errorf("Vary = %q; want Cookie", resp.Headers["Vary"])
	}
	// Set through the library (Manager.SaveHeader), so that no cache in
	// front of the function stores the cookie for other visitors.
	if resp.Headers["Cache-Control"] != "private" {
		t.Errorf("Cache-Control = %q; want private", resp.Headers["Cache-Control"])
	}
}

// TestCacheControlWithEveryCookie: every response that sets or deletes a
// session cookie, in every event format, is private; one that sets none
// is left alone.
func TestCacheControlWithEveryCookie(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	fillCart(t, app, b)
	for _, path := range []string{"/visits", "/cart", "/cart/clear", "/logout"} {
		resp := b.get(t, app, path)
		want := ""
		if len(resp.Cookies) > 0 {
			want = "private"
		}
		if got := resp.Headers["Cache-Control"]; got != want {
			t.Errorf("%s with %d cookies: Cache-Control %q; want %q", path, len(resp.Cookies), got, want)
		}
	}
	rest := newBrowser()
	if resp := rest.restGet(t, app, "/visits"); resp.Headers["Cache-Control"] != "private" {
		t.Errorf("REST API: Cache-Control %q; want private", resp.Headers["Cache-Control"])
	}
	url := newBrowser()
	if resp := url.send(t, app.HandleFunctionURL, "function-url-request.json", "/visits"); resp.Headers["Cache-Control"] != "private" {
		t.Errorf("function URL: Cache-Control %q; want private", resp.Headers["Cache-Control"])
	}
}

// TestStateChangesNeedPOST: a GET of a route that changes the session (as
// a link or an image on another site would send, with the visitor's
// cookies) changes nothing.
func TestStateChangesNeedPOST(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	items := fillCart(t, app, b)
	before := b.cookies()
	for _, path := range []string{"/logout", "/cart/clear", "/cart/add/evil"} {
		resp, _ := invoke(t, app.Handle, payload2Method(t, "http-api-request.json", http.MethodGet, path, b.cookies()))
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["Allow"] != http.MethodPost {
			t.Errorf("GET %s: %d, Allow %q; want 405, Allow POST", path, resp.StatusCode, resp.Headers["Allow"])
		}
		if len(resp.Cookies) != 0 {
			t.Errorf("GET %s set cookies: %q", path, resp.Cookies)
		}
	}
	if diff := cmp.Diff(before, b.cookies()); diff != "" {
		t.Fatalf("jar changed (-before +after):\n%s", diff)
	}
	if resp := b.get(t, app, "/cart"); resp.Body != strings.Join(items, "\n")+"\n" {
		t.Errorf("/cart after the GETs has %d items; want %d", strings.Count(resp.Body, "\n"), len(items))
	}
	// The same routes by POST work.
	if resp := b.get(t, app, "/logout"); resp.StatusCode != http.StatusOK || len(b.jar) != 0 {
		t.Errorf("POST /logout: %d, jar %v", resp.StatusCode, b.names())
	}
}

// TestSetCookieOnlyInCookies checks that no Set-Cookie travels in headers
// or multiValueHeaders, where API Gateway would keep one of several.
func TestSetCookieOnlyInCookies(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	fillCart(t, app, b)
	for _, path := range []string{"/visits", "/cart/clear", "/logout"} {
		resp, raw := invoke(t, app.Handle, payload2(t, "http-api-request.json", path, b.cookies()))
		if len(resp.Cookies) == 0 {
			t.Fatalf("%s: no cookies in the response", path)
		}
		var h map[string]any
		if err := json.Unmarshal(raw["headers"], &h); err != nil {
			t.Fatal(err)
		}
		var mh map[string]any
		if err := json.Unmarshal(raw["multiValueHeaders"], &mh); err != nil {
			t.Fatal(err)
		}
		for _, m := range []map[string]any{h, mh} {
			for name := range m {
				if strings.EqualFold(name, "Set-Cookie") {
					t.Errorf("%s: Set-Cookie in a header map: %s", path, raw["headers"])
				}
			}
		}
		b.store(t, resp.Cookies)
	}
}

// fillCart adds random items to the cart until the session needs two
// cookies, and returns the items added.
func fillCart(t *testing.T, app *testApp, b *browser) []string {
	t.Helper()
	var added []string
	for _, item := range randomItems(40) {
		resp := b.get(t, app, "/cart/add/"+item)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("add item %d: %d %q", len(added)+1, resp.StatusCode, resp.Body)
		}
		added = append(added, item)
		if _, ok := b.jar["__Host-session.1"]; ok {
			return added
		}
	}
	t.Fatalf("40 items of 200 random letters still fit in one cookie: %v", b.names())
	return nil
}

func TestChunkedCartRoundTrip(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	b.get(t, app, "/visits")
	items := fillCart(t, app, b)
	if diff := cmp.Diff([]string{"__Host-session", "__Host-session.1"}, b.names()); diff != "" {
		t.Fatalf("jar names (-want +got):\n%s", diff)
	}

	// Both cookies go back in the event's cookies array, through JSON.
	resp := b.get(t, app, "/cart")
	if want := strings.Join(items, "\n") + "\n"; resp.StatusCode != http.StatusOK || resp.Body != want {
		t.Fatalf("/cart = %d, %d items; want 200, %d items", resp.StatusCode, strings.Count(resp.Body, "\n"), len(items))
	}
	if len(resp.Cookies) != 0 {
		t.Errorf("/cart, which changes nothing, set cookies: %q", resp.Cookies)
	}
	resp = b.get(t, app, "/visits")
	if resp.Body != "You have visited this page 2 times.\n" {
		t.Errorf("/visits after the cart = %q; want 2 times", resp.Body)
	}
	if len(resp.Cookies) != 2 {
		t.Errorf("/visits on a chunked session set %d cookies; want 2: %q", len(resp.Cookies), resp.Cookies)
	}

	// Shrinking to one cookie deletes the second.
	resp = b.get(t, app, "/cart/clear")
	if diff := cmp.Diff([]string{"__Host-session.1"}, deleted(t, resp.Cookies)); diff != "" {
		t.Errorf("/cart/clear deleted (-want +got):\n%s\nSet-Cookie: %q", diff, resp.Cookies)
	}
	if diff := cmp.Diff([]string{"__Host-session"}, b.names()); diff != "" {
		t.Fatalf("jar names after /cart/clear (-want +got):\n%s", diff)
	}
	resp = b.get(t, app, "/visits")
	if resp.Body != "You have visited this page 3 times.\n" {
		t.Errorf("/visits after shrinking = %q; want 3 times", resp.Body)
	}
	if resp = b.get(t, app, "/cart"); resp.Body != "Your cart is empty.\n" {
		t.Errorf("/cart after clearing = %q", resp.Body)
	}
}

func TestTooLarge(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	var added []string
	for _, item := range randomItems(80) {
		before := b.cookies()
		resp := b.get(t, app, "/cart/add/"+item)
		if resp.StatusCode == http.StatusOK {
			added = append(added, item)
			continue
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Body != "Session too large: clear the cart.\n" {
			t.Fatalf("item %d: %d %q; want 413", len(added)+1, resp.StatusCode, resp.Body)
		}
		if len(resp.Cookies) != 0 {
			t.Fatalf("413 response set cookies: %q", resp.Cookies)
		}
		if diff := cmp.Diff(before, b.cookies()); diff != "" {
			t.Fatalf("jar changed by a 413 (-before +after):\n%s", diff)
		}
		if !strings.Contains(app.log.String(), "too large") {
			t.Errorf("log does not mention the failed save: %s", app.log)
		}
		// The session in the browser is the last one that fit.
		resp = b.get(t, app, "/cart")
		if want := strings.Join(added, "\n") + "\n"; resp.Body != want {
			t.Errorf("/cart after 413 has %d items; want %d", strings.Count(resp.Body, "\n"), len(added))
		}
		return
	}
	t.Fatalf("80 items of 200 random letters fit in the session: %v", b.names())
}

func TestRejectedCookies(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	fillCart(t, app, b)
	b.get(t, app, "/visits")
	s0, s1 := "__Host-session="+b.jar["__Host-session"], "__Host-session.1="+b.jar["__Host-session.1"]
	good := b.cookies()

	flip := func(s string) string {
		i := len(s) - 5
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	other := newTestApp(t) // same cookies under another keyring

	tests := []struct {
		name  string
		event []byte
		app   *testApp
	}{
		{"fixture with a forged cookie", mustRead(t, "tampered-request.json"), app},
		{"altered chunk", payload2(t, "http-api-request.json", "/visits", []string{s0, flip(s1)}), app},
		{"missing chunk", payload2(t, "http-api-request.json", "/visits", []string{s0}), app},
		{"chunk without first cookie", payload2(t, "http-api-request.json", "/visits", []string{s1}), app},
		{"unknown key", payload2(t, "http-api-request.json", "/visits", good), other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.app.log.String())
			resp, _ := invoke(t, tt.app.Handle, tt.event)
			if resp.StatusCode != http.StatusOK || resp.Body != "You have visited this page 1 times.\n" {
				t.Errorf("got %d %q; want a fresh session's first visit", resp.StatusCode, resp.Body)
			}
			if n := len(resp.Cookies); n == 0 {
				t.Error("no new session cookie")
			}
			if logged := tt.app.log.String()[before:]; !strings.Contains(logged, "session cookie rejected") {
				t.Errorf("rejection not logged: %q", logged)
			}
		})
	}
	// The untouched cookies still work.
	if resp, _ := invoke(t, app.Handle, payload2(t, "http-api-request.json", "/visits", good)); resp.Body != "You have visited this page 2 times.\n" {
		t.Errorf("good cookies: %q", resp.Body)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := json.Marshal(loadEvent(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLogout(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	fillCart(t, app, b)
	resp := b.get(t, app, "/logout")
	if resp.Body != "Logged out.\n" {
		t.Errorf("/logout = %q", resp.Body)
	}
	// Every chunk index up to MaxChunks (3) is deleted.
	if diff := cmp.Diff([]string{"__Host-session", "__Host-session.1", "__Host-session.2"}, deleted(t, resp.Cookies)); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if len(b.jar) != 0 {
		t.Errorf("jar after logout: %v", b.names())
	}
	if resp = b.get(t, app, "/visits"); resp.Body != "You have visited this page 1 times.\n" {
		t.Errorf("/visits after logout = %q", resp.Body)
	}
}

func TestOtherRequests(t *testing.T) {
	app := newTestApp(t)
	post := loadEvent(t, "http-api-request.json")
	post["requestContext"].(map[string]any)["http"].(map[string]any)["method"] = "POST"
	postJSON, err := json.Marshal(post)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		event  []byte
		status int
		allow  string
	}{
		{"POST", postJSON, http.StatusMethodNotAllowed, "GET"},
		{"GET of a POST route", payload2Method(t, "http-api-request.json", "GET", "/logout", nil), http.StatusMethodNotAllowed, "POST"},
		{"PUT of a POST route", payload2Method(t, "http-api-request.json", "PUT", "/cart/add/x", nil), http.StatusMethodNotAllowed, "POST"},
		{"unknown path", payload2(t, "http-api-request.json", "/nowhere", nil), http.StatusNotFound, ""},
		{"POST of an unknown path", payload2Method(t, "http-api-request.json", "POST", "/nowhere", nil), http.StatusNotFound, ""},
		{"empty item", payload2(t, "http-api-request.json", "/cart/add/", nil), http.StatusBadRequest, ""},
		{"bad escape", payload2(t, "http-api-request.json", "/cart/add/%zz", nil), http.StatusBadRequest, ""},
		{"escaped slash", payload2(t, "http-api-request.json", "/cart/add/a%2Fb", nil), http.StatusBadRequest, ""},
		{"long item", payload2(t, "http-api-request.json", "/cart/add/"+strings.Repeat("x", maxItem+1), nil), http.StatusBadRequest, ""},
		{"escaped item", payload2(t, "http-api-request.json", "/cart/add/green%20tea", nil), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := invoke(t, app.Handle, tt.event)
			if resp.StatusCode != tt.status || resp.Headers["Allow"] != tt.allow {
				t.Errorf("got %d, Allow %q; want %d, Allow %q", resp.StatusCode, resp.Headers["Allow"], tt.status, tt.allow)
			}
			if tt.status != http.StatusOK && len(resp.Cookies) != 0 {
				t.Errorf("cookies set: %q", resp.Cookies)
			}
			if tt.status == http.StatusOK && resp.Body != "green tea\n" {
				t.Errorf("body %q; want the unescaped item", resp.Body)
			}
		})
	}
}

func TestRoutePath(t *testing.T) {
	tests := []struct{ raw, decoded, stage, want string }{
		{"/visits", "/visits", "$default", "/visits"},
		{"", "/visits", "", "/visits"},
		{"/prod/visits", "/prod/visits", "prod", "/visits"},
		{"/production/visits", "", "prod", "/production/visits"},
		{"/prod", "", "prod", "/prod"},
		{"/cart/add/a%20b", "/cart/add/a b", "", "/cart/add/a%20b"},
	}
	for _, tt := range tests {
		if got := routePath(tt.raw, tt.decoded, tt.stage); got != tt.want {
			t.Errorf("routePath(%q, %q, %q) = %q; want %q", tt.raw, tt.decoded, tt.stage, got, tt.want)
		}
	}
}
