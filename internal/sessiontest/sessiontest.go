// Package sessiontest holds what the tests of the framework adapters
// (ginsession, echosession) and of examples/recipes share: a Manager with a
// fresh key, an HTTPS test server reached by a client that keeps cookies as
// a browser does, and a check that a README names the versions its go.mod
// requires. It is internal: no API promise.
package sessiontest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Manager returns a Manager configured by cfg, sealing with a new key.
func Manager(t testing.TB, cfg cookiesession.Config) *cookiesession.Manager {
	t.Helper()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Client sends requests to one test server and keeps its cookies.
type Client struct {
	t   testing.TB
	srv *httptest.Server
	c   *http.Client
}

// Serve starts an HTTPS test server for h, closed when the test ends, and
// returns a client for it with an empty cookie jar. HTTPS lets the
// session cookies keep their Secure attribute.
func Serve(t testing.TB, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	c := srv.Client()
	// The test server's certificate, a fixture of net/http/httptest, expires
	// in 2084: the client checks it at a time within its validity, so that
	// the recipes' tests pass on any date.
	valid := srv.Certificate().NotBefore.Add(24 * time.Hour)
	c.Transport.(*http.Transport).TLSClientConfig.Time = func() time.Time { return valid }
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	return &Client{t: t, srv: srv, c: c}
}

// Response is what a request got back.
type Response struct {
	// Status is the response's status code.
	Status int
	// Body is the whole response body.
	Body string
	// Header is the response header.
	Header http.Header
}

// SetCookies returns the names in the response's Set-Cookie lines, sorted.
func (r Response) SetCookies() []string {
	var names []string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}

// Get sends a GET of path, with the jar's cookies, and reads the response.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	return c.do(http.MethodGet, path)
}

// Post sends a POST of path, with no body and the jar's cookies, and
// reads the response.
func (c *Client) Post(path string) Response {
	c.t.Helper()
	return c.do(http.MethodPost, path)
}

func (c *Client) do(method, path string) Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Body: string(body), Header: resp.Header}
}

// CheckVisits makes three requests to /visits and checks that the counter
// in the session goes 1, 2, 3 and that each response varies by Cookie.
func CheckVisits(t testing.TB, c *Client) {
	t.Helper()
	for n := 1; n <= 3; n++ {
		resp := c.Get("/visits")
		if want := fmt.Sprintf("You have visited this page %d times.\n", n); resp.Status != http.StatusOK || resp.Body != want {
			t.Fatalf("request %d: %d %q; want %q", n, resp.Status, resp.Body, want)
		}
		if got := resp.Header.Get("Vary"); got != "Cookie" {
			t.Errorf("request %d: Vary = %q; want Cookie", n, got)
		}
	}
}

// CheckLogout sends a POST to /logout, which must answer "Logged out." and
// delete the session cookie, and then checks that /visits counts from 1
// again.
func CheckLogout(t testing.TB, c *Client) {
	t.Helper()
	resp := c.Post("/logout")
	if resp.Status != http.StatusOK || resp.Body != "Logged out.\n" {
		t.Fatalf("POST /logout: %d %q; want 200 \"Logged out.\\n\"", resp.Status, resp.Body)
	}
	deleted := false
	for _, ck := range (&http.Response{Header: resp.Header}).Cookies() {
		deleted = deleted || ck.Name == cookiesession.DefaultName && ck.MaxAge < 0
	}
	if !deleted {
		t.Errorf("POST /logout: Set-Cookie %q; want the deletion of %s", resp.Header.Values("Set-Cookie"), cookiesession.DefaultName)
	}
	if resp := c.Get("/visits"); resp.Body != "You have visited this page 1 times.\n" {
		t.Errorf("GET /visits after logout: %q; want 1 time", resp.Body)
	}
}
