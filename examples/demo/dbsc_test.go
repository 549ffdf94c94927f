package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

func TestServingCheck(t *testing.T) {
	for _, tc := range []struct {
		s  serving
		ok bool
	}{
		{serving{}, true},
		{serving{cert: "c", key: "k"}, true},
		{serving{cert: "c", key: "k", dbsc: true, ttl: 10 * time.Second}, true},
		{serving{cert: "c", key: "k", dbsc: true, ttl: 10 * time.Minute}, true},
		{serving{cert: "c"}, false},
		{serving{key: "k"}, false},
		{serving{dbsc: true, ttl: time.Minute}, false},                                  // no TLS
		{serving{cert: "c", key: "k", dbsc: true, ttl: 9 * time.Second}, false},         // too short
		{serving{cert: "c", key: "k", dbsc: true, ttl: 1500 * time.Millisecond}, false}, // not whole seconds
		{serving{cert: "c", key: "k", dbsc: true, ttl: time.Minute, insecure: true}, false},
	} {
		if err := tc.s.check(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.s, err)
		}
	}
}

// dbscClient is a browser with DBSC, in Go: the session's cookies, and the
// key it registered.
type dbscClient struct {
	t      *testing.T
	base   string
	client *http.Client
	key    *ecdsa.PrivateKey
	id     string
}

func (c *dbscClient) do(method, path string, hdr map[string]string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *dbscClient) whoami() string {
	c.t.Helper()
	_, body := c.do(http.MethodGet, "/whoami", nil, nil)
	return body
}

// proof signs a dbsc+jwt for challenge with key, with its jwk if asked.
func proof(t *testing.T, key *ecdsa.PrivateKey, jwk bool, challenge string) string {
	enc := base64.RawURLEncoding
	hdr := map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}
	if jwk {
		pub, _ := key.PublicKey.Bytes()
		hdr["jwk"] = map[string]string{"kty": "EC", "crv": "P-256", "x": enc.EncodeToString(pub[1:33]), "y": enc.EncodeToString(pub[33:])}
	}
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(map[string]string{"jti": challenge})
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig)
}

var (
	regRE       = regexp.MustCompile(`^\(ES256\);path="([^"]+)";challenge="([^"]+)"$`)
	challengeRE = regexp.MustCompile(`^"([^"]+)";id="([^"]+)"$`)
)

// refresh runs a refresh through the 403 challenge, signing with key, and
// returns the final status.
func (c *dbscClient) refresh(key *ecdsa.PrivateKey) int {
	c.t.Helper()
	resp, _ := c.do(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": c.id}, nil)
	if resp.StatusCode != http.StatusForbidden {
		return resp.StatusCode
	}
	m := challengeRE.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))
	if m == nil {
		c.t.Fatalf("403 without a challenge: %q", resp.Header.Get("Secure-Session-Challenge"))
	}
	resp, _ = c.do(http.MethodPost, "/dbsc/refresh", map[string]string{
		"Sec-Secure-Session-Id": c.id, "Secure-Session-Response": proof(c.t, key, false, m[1])}, nil)
	return resp.StatusCode
}

// TestDeviceBoundDemo runs the demo over HTTPS with -dbsc -dbsc-ttl 10s:
// a login through the page's form registers, the page says the session is
// device-bound, and a copy of every cookie works until the device cookie
// expires, then is not logged in, and cannot refresh.
func TestDeviceBoundDemo(t *testing.T) {
	clk := &clock{now: t0}
	kr, err := loadKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(false)
	cfg.Now = clk.Now
	serving{cert: "c", key: "k", dbsc: true, ttl: 10 * time.Second}.apply(&cfg)
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(newHandler(m))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// The test server's certificate expires in 2084: the client checks it
	// at the test's clock, so that the test passes on any date.
	srv.Client().Transport.(*http.Transport).TLSClientConfig.Time = clk.Now
	newClient := func() *dbscClient {
		jar, _ := cookiejar.New(nil)
		hc := *srv.Client() // a copy: Client returns one shared client
		hc.Jar = jar
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &dbscClient{t: t, base: srv.URL, client: &hc}
	}

	victim := newClient()
	resp, _ := victim.do(http.MethodPost, "/login", nil, url.Values{"user": {"alice"}, "then": {"/"}})
	reg := regRE.FindStringSubmatch(resp.Header.Get("Secure-Session-Registration"))
	if resp.StatusCode != http.StatusSeeOther || reg == nil {
		t.Fatalf("login: %d, Secure-Session-Registration %q", resp.StatusCode, resp.Header.Get("Secure-Session-Registration"))
	}
	victim.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	resp, body := victim.do(http.MethodPost, reg[1], map[string]string{"Secure-Session-Response": proof(t, victim.key, true, reg[2])}, nil)
	var ins struct {
		ID string `json:"session_identifier"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &ins) != nil || ins.ID == "" {
		t.Fatalf("registration: %d %s", resp.StatusCode, body)
	}
	victim.id = ins.ID
	if _, page := victim.do(http.MethodGet, "/", nil, nil); !strings.Contains(page, "This session is device-bound.") {
		t.Fatalf("page after registration:\n%s", page)
	}

	thief := newClient()
	u, _ := url.Parse(srv.URL)
	thief.client.Jar.SetCookies(u, victim.client.Jar.Cookies(u))
	thief.id = victim.id
	if got := thief.whoami(); got != "You are alice.\n" {
		t.Fatalf("copy before the device cookie expires: %q", got)
	}
	clk.Add(10 * time.Second)
	if got := thief.whoami(); got != "You are not logged in.\n" {
		t.Fatalf("copy after the device cookie expired: %q", got)
	}
	own, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if code := thief.refresh(own); code != http.StatusForbidden {
		t.Fatalf("the copy's refresh: %d, want 403", code)
	}
	if got := thief.whoami(); got != "You are not logged in.\n" {
		t.Fatalf("copy after its refresh: %q", got)
	}
	// The browser that holds the key refreshes and stays logged in.
	if code := victim.refresh(victim.key); code != http.StatusOK {
		t.Fatalf("refresh: %d", code)
	}
	if got := victim.whoami(); got != "You are alice.\n" {
		t.Fatalf("after refresh: %q", got)
	}
	// A browser without DBSC logs in as before, unbound.
	plain := newClient()
	plain.do(http.MethodPost, "/login", nil, url.Values{"user": {"bob"}, "then": {"/"}})
	clk.Add(time.Hour)
	if _, page := plain.do(http.MethodGet, "/", nil, nil); !strings.Contains(page, "This session is not device-bound.") {
		t.Fatalf("page without DBSC:\n%s", page)
	}
	if got := plain.whoami(); got != "You are bob.\n" {
		t.Fatalf("without DBSC: %q", got)
	}
}
