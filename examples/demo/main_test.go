package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

func TestVisits(t *testing.T) {
	kr, err := loadKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cookiesession.NewCodec(kr, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(c))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func() string {
		t.Helper()
		resp, err := client.Get(srv.URL + "/visits")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return strings.TrimSpace(string(b))
	}
	for _, want := range []string{
		"You have visited this page 1 times.",
		"You have visited this page 2 times.",
		"You have visited this page 3 times.",
	} {
		if got := get(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	// A tampered cookie gives a fresh session, not an error.
	req, _ := http.NewRequest("GET", srv.URL+"/visits", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: "tampered"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(b)); resp.StatusCode != 200 || got != "You have visited this page 1 times." {
		t.Fatalf("tampered cookie: status %d, body %q", resp.StatusCode, got)
	}
}

func TestIsLocalhost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "127.0.0.1:80": true, "[::1]:8080": true,
		"example.com": false, "localhost.example.com": false, "127.0.0.10:80": false,
	} {
		if got := isLocalhost(host); got != want {
			t.Errorf("isLocalhost(%q) = %v, want %v", host, got, want)
		}
	}
}
