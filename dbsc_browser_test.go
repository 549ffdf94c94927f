package cookiesession

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeBrowser speaks DBSC the way Chromium 156 does (ANCHORS.md): it
// registers when a response offers it, and refreshes through the 403
// challenge before a request whose device cookie is missing or has less
// than 120 s to live. Its cookie jar honours Max-Age against the test clock.
type fakeBrowser struct {
	t      *testing.T
	h      http.Handler
	clock  *testClock
	jar    map[string]jarCookie
	dbsc   bool              // speaks DBSC at all
	key    *ecdsa.PrivateKey // the device key, made at registration
	id     string            // session_identifier
	refURL string
	cred   string // the device cookie's name
	// counters
	registrations, refreshes, challenges int
	lastRegistration                     *http.Response
}

type jarCookie struct {
	value   string
	expires time.Time // zero: a browser-session cookie
}

func newFakeBrowser(t *testing.T, h http.Handler, clock *testClock, dbsc bool) *fakeBrowser {
	return &fakeBrowser{t: t, h: h, clock: clock, jar: map[string]jarCookie{}, dbsc: dbsc}
}

// cookieHeader is the Cookie header the browser would send now.
func (b *fakeBrowser) cookieHeader() string {
	var pairs []string
	now := b.clock.Now()
	for name, c := range b.jar {
		if c.expires.IsZero() || now.Before(c.expires) {
			pairs = append(pairs, name+"="+c.value)
		}
	}
	return strings.Join(pairs, "; ")
}

// store applies a response's Set-Cookie lines.
func (b *fakeBrowser) store(resp *http.Response) {
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			b.t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		switch {
		case c.MaxAge < 0:
			delete(b.jar, c.Name)
		case c.MaxAge > 0:
			b.jar[c.Name] = jarCookie{c.Value, b.clock.Now().Add(time.Duration(c.MaxAge) * time.Second)}
		default:
			b.jar[c.Name] = jarCookie{value: c.Value}
		}
	}
}

// raw sends one request with the jar's cookies and extra headers, stores
// its cookies, and returns the response with its body read.
func (b *fakeBrowser) raw(method, path string, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	r := httptest.NewRequest(method, "https://localhost:8787"+path, nil)
	if c := b.cookieHeader(); c != "" {
		r.Header.Set("Cookie", c)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	b.store(resp)
	return resp, string(body)
}

// do is a navigation: refresh first if due, then the request, then a
// registration if the response offers one.
func (b *fakeBrowser) do(method, path string) (*http.Response, string) {
	b.t.Helper()
	if b.key != nil && b.refreshDue() {
		b.refresh()
	}
	resp, body := b.raw(method, path, nil)
	if reg := resp.Header.Get("Secure-Session-Registration"); reg != "" && b.dbsc {
		b.register(reg)
	}
	return resp, body
}

func (b *fakeBrowser) refreshDue() bool {
	c, ok := b.jar[b.cred]
	return !ok || c.expires.Sub(b.clock.Now()) < 120*time.Second
}

var regHeader = regexp.MustCompile(`^\(ES256\);path="([^"]*)";challenge="([^"]*)"$`)

// register answers a Secure-Session-Registration header.
func (b *fakeBrowser) register(reg string) {
	b.t.Helper()
	m := regHeader.FindStringSubmatch(reg)
	if m == nil {
		b.t.Fatalf("Secure-Session-Registration %q", reg)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.t.Fatal(err)
	}
	proof := signProof(b.t, key, true, m[2])
	resp, body := b.raw(http.MethodPost, m[1], map[string]string{"Secure-Session-Response": proof})
	b.lastRegistration = resp
	if resp.StatusCode != http.StatusOK {
		b.t.Logf("registration: %d %s", resp.StatusCode, body)
		return
	}
	var ins deviceInstructions
	if err := json.Unmarshal([]byte(body), &ins); err != nil {
		b.t.Fatalf("registration answer %q: %v", body, err)
	}
	b.key, b.id, b.refURL, b.cred = key, ins.SessionIdentifier, ins.RefreshURL, ins.Credentials[0].Name
	b.registrations++
}

var challengeHeader = regexp.MustCompile(`^"([^"]*)";id="([^"]*)"$`)

// refresh runs a refresh: a POST without proof, the 403 challenge, and the
// retry with a proof signed by key (the browser's own, or a thief's).
// It reports the final status.
func (b *fakeBrowser) refreshWith(key *ecdsa.PrivateKey) int {
	b.t.Helper()
	resp, _ := b.raw(http.MethodPost, b.refURL, map[string]string{"Sec-Secure-Session-Id": b.id})
	if resp.StatusCode != http.StatusForbidden {
		return resp.StatusCode
	}
	m := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))
	if m == nil || m[2] != b.id {
		b.t.Fatalf("403 with Secure-Session-Challenge %q", resp.Header.Get("Secure-Session-Challenge"))
	}
	b.challenges++
	resp, _ = b.raw(http.MethodPost, b.refURL, map[string]string{
		"Sec-Secure-Session-Id":   b.id,
		"Secure-Session-Response": signProof(b.t, key, false, m[1]),
	})
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Set-Cookie") != "" {
		b.refreshes++
	}
	return resp.StatusCode
}

func (b *fakeBrowser) refresh() int { return b.refreshWith(b.key) }

// steal copies every cookie of b, expired ones included, into a browser
// without b's key that knows b's DBSC session identifier.
func (b *fakeBrowser) steal() *fakeBrowser {
	thief := newFakeBrowser(b.t, b.h, b.clock, false)
	for name, c := range b.jar {
		thief.jar[name] = jarCookie{value: c.value} // kept forever
	}
	thief.id, thief.refURL, thief.cred = b.id, b.refURL, b.cred
	return thief
}

// signProof makes a dbsc+jwt proof for challenge, with the jwk at
// registration.
func signProof(t testing.TB, key *ecdsa.PrivateKey, withJWK bool, challenge string) string {
	t.Helper()
	hdr := map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}
	if withJWK {
		hdr["jwk"] = jwkOf(key)
	}
	payload := map[string]any{"jti": challenge}
	return signJWS(t, key, hdr, payload)
}

func jwkOf(key *ecdsa.PrivateKey) map[string]string {
	pub, _ := key.PublicKey.Bytes() // 0x04 || x || y
	return map[string]string{"crv": "P-256", "kty": "EC",
		"x": b64.EncodeToString(pub[1:33]), "y": b64.EncodeToString(pub[33:])}
}

func signJWS(t testing.TB, key *ecdsa.PrivateKey, hdr, payload any) string {
	t.Helper()
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(payload)
	return signRaw(t, key, string(h), string(p))
}

// dbscApp is the demo's shape: a login that offers binding and leaves a
// flash, a page that reads it, /whoami, logout and a renewal; see dbscMux.
func dbscApp(m *Manager) http.Handler { return m.Middleware(dbscMux(m)) }

// dbscMux is dbscApp's handler, without the middleware. With revocation on,
// the login also records the subject "alice", and POST /revoke revokes the
// session (logout with Session.Revoke). GET /flash shows the flashes left,
// one a line, and reads them.
func dbscMux(m *Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Renew()
		s.Set("user", "alice")
		if m.revocation != nil {
			s.SetSubject("alice")
		}
		s.AddFlash("info", "Welcome back.")
		s.OfferDeviceBinding()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Flashes()
		fmt.Fprintf(w, "bound=%v\n", s.DeviceBound())
	})
	mux.HandleFunc("GET /flash", func(w http.ResponseWriter, r *http.Request) {
		flashes, _ := FromContext(r.Context()).Flashes()
		for _, f := range flashes {
			fmt.Fprintln(w, f.Message)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		if u := GetOr(FromContext(r.Context()), "user", ""); u != "" {
			fmt.Fprintf(w, "You are logged in as %s.\n", u)
			return
		}
		fmt.Fprintln(w, "You are not logged in.")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Destroy()
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		if err := FromContext(r.Context()).Revoke(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Renew()
	})
	return mux
}
