package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/cookiesession/cookiesession"
)

// testApp is an App with a fresh keyring and a log the test can read.
type testApp struct {
	*App
	kr  *cookiesession.Keyring
	log *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newKeyring returns a keyring of one new key.
func newKeyring(t *testing.T) *cookiesession.Keyring {
	t.Helper()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	kr := newKeyring(t)
	buf := &syncBuffer{}
	app, err := NewApp(kr, cookiesession.Config{}, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{App: app, kr: kr, log: buf}
}

// loadEvent reads testdata/name as generic JSON, so that tests can change
// fields by their JSON names.
func loadEvent(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// payload2 returns the JSON of the payload-2.0 event in testdata/name
// (HTTP API or function URL), for a request of path with the given
// cookies, by the method the route takes (routeMethod). No cookies means
// no cookies field, as API Gateway sends it.
func payload2(t *testing.T, name, path string, cookies []string) []byte {
	t.Helper()
	return payload2Method(t, name, routeMethod(path), path, cookies)
}

// payload2Method is payload2 with the method given.
func payload2Method(t *testing.T, name, method, path string, cookies []string) []byte {
	t.Helper()
	ev := loadEvent(t, name)
	ev["rawPath"] = path
	ev["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = path
	ev["requestContext"].(map[string]any)["http"].(map[string]any)["method"] = method
	delete(ev, "cookies")
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// response is the JSON a handler's response marshals to, by field name.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	Cookies           []string            `json:"cookies"`
}

// invoke runs handler on the event JSON through aws-lambda-go's own
// decoding and encoding, as lambda.Start does, and returns the response
// JSON decoded, plus its top-level fields, raw.
func invoke(t *testing.T, handler any, event []byte) (response, map[string]json.RawMessage) {
	t.Helper()
	out, err := lambda.NewHandler(handler).Invoke(context.Background(), event)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// browser keeps cookies as a browser would, from Set-Cookie values.
type browser struct {
	jar map[string]string
}

func newBrowser() *browser { return &browser{jar: map[string]string{}} }

// cookies returns the jar as a payload-2.0 cookies array, "name=value"
// each, sorted by name.
func (b *browser) cookies() []string {
	var list []string
	for name, value := range b.jar {
		list = append(list, name+"="+value)
	}
	sort.Strings(list)
	return list
}

// store applies Set-Cookie values: Max-Age=0 deletes.
func (b *browser) store(t *testing.T, setCookies []string) {
	t.Helper()
	for _, line := range setCookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c.Value
		}
	}
}

// get sends a request of path, by the method its route takes, to the HTTP
// API handler with the jar's cookies, and stores the cookies of the
// response.
func (b *browser) get(t *testing.T, app *testApp, path string) response {
	t.Helper()
	return b.send(t, app.Handle, "http-api-request.json", path)
}

// send is get for any payload-2.0 handler and event fixture.
func (b *browser) send(t *testing.T, handler any, fixture, path string) response {
	t.Helper()
	resp, _ := invoke(t, handler, payload2(t, fixture, path, b.cookies()))
	b.store(t, resp.Cookies)
	return resp
}

// names returns the cookie names in the jar, sorted.
func (b *browser) names() []string {
	var n []string
	for name := range b.jar {
		n = append(n, name)
	}
	sort.Strings(n)
	return n
}

// randomItems returns n item names of 200 random lowercase letters, which
// compress poorly, from a fixed seed.
func randomItems(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]string, n)
	for i := range items {
		var sb strings.Builder
		for range 200 {
			sb.WriteByte(byte('a' + r.IntN(26)))
		}
		items[i] = sb.String()
	}
	return items
}

// deleted returns the names that Set-Cookie values delete (Max-Age=0).
func deleted(t *testing.T, setCookies []string) []string {
	t.Helper()
	var names []string
	for _, line := range setCookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 {
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return names
}
