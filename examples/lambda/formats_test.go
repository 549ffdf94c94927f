package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// restEvent returns the JSON of the REST API (payload 1.0) event in
// testdata, for a request of path, by the method its route takes, that
// carries the given Cookie headers.
func restEvent(t *testing.T, path string, cookieHeaders []string) []byte {
	t.Helper()
	ev := loadEvent(t, "rest-api-request.json")
	ev["path"] = path
	ev["httpMethod"] = routeMethod(path)
	ev["requestContext"].(map[string]any)["httpMethod"] = routeMethod(path)
	ev["pathParameters"] = map[string]any{"proxy": strings.TrimPrefix(path, "/")}
	ev["requestContext"].(map[string]any)["path"] = "/prod" + path
	if len(cookieHeaders) > 0 {
		ev["multiValueHeaders"].(map[string]any)["Cookie"] = cookieHeaders
		// headers holds the last value of each multi-valued header.
		ev["headers"].(map[string]any)["Cookie"] = cookieHeaders[len(cookieHeaders)-1]
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// restGet sends a REST API request of path with the jar's cookies, one Cookie
// header each, plus an unrelated cookie, and stores the response's cookies.
func (b *browser) restGet(t *testing.T, app *testApp, path string) response {
	t.Helper()
	resp, raw := invoke(t, app.HandleREST, restEvent(t, path, append(b.cookies(), "theme=dark")))
	if _, ok := raw["cookies"]; ok {
		t.Fatalf("REST response has a cookies field: %s", raw["cookies"])
	}
	for name := range resp.Headers {
		if strings.EqualFold(name, "Set-Cookie") {
			t.Fatalf("Set-Cookie in headers, which keep one value: %q", resp.Headers[name])
		}
	}
	b.store(t, resp.MultiValueHeaders["Set-Cookie"])
	return resp
}

func TestRESTAPIChunkedRoundTrip(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	b.restGet(t, app, "/visits")
	var added []string
	var sets int
	for _, item := range randomItems(40) {
		resp := b.restGet(t, app, "/cart/add/"+item)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("add: %d %q", resp.StatusCode, resp.Body)
		}
		added = append(added, item)
		sets = len(resp.MultiValueHeaders["Set-Cookie"])
		if _, ok := b.jar["__Host-session.1"]; ok {
			break
		}
	}
	if sets != 2 {
		t.Fatalf("multiValueHeaders Set-Cookie had %d values; want 2 (jar: %v)", sets, b.names())
	}
	resp := b.restGet(t, app, "/cart")
	if want := strings.Join(added, "\n") + "\n"; resp.Body != want {
		t.Fatalf("/cart has %d items; want %d", strings.Count(resp.Body, "\n"), len(added))
	}
	resp = b.restGet(t, app, "/cart/clear")
	if diff := cmp.Diff([]string{"__Host-session.1"}, deleted(t, resp.MultiValueHeaders["Set-Cookie"])); diff != "" {
		t.Errorf("/cart/clear deleted (-want +got):\n%s", diff)
	}
	resp = b.restGet(t, app, "/visits")
	if resp.Body != "You have visited this page 2 times.\n" || len(b.jar) != 1 {
		t.Errorf("/visits = %q, jar %v", resp.Body, b.names())
	}
}

func TestCookieHeader(t *testing.T) {
	tests := []struct {
		name   string
		multi  map[string][]string
		single map[string]string
		want   string
	}{
		{"none", nil, map[string]string{"Accept": "*/*"}, ""},
		{"single only", nil, map[string]string{"cookie": "a=1; b=2"}, "a=1; b=2"},
		{"multi", map[string][]string{"Cookie": {"a=1", "b=2"}}, map[string]string{"Cookie": "b=2"}, "a=1; b=2"},
		{"multi lower case", map[string][]string{"cookie": {"a=1; b=2", "c=3"}}, nil, "a=1; b=2; c=3"},
	}
	for _, tt := range tests {
		if got := cookieHeader(tt.multi, tt.single); got != tt.want {
			t.Errorf("%s: cookieHeader = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestFunctionURL(t *testing.T) {
	app := newTestApp(t)
	b := newBrowser()
	for n, want := range []string{"You have visited this page 1 times.\n", "You have visited this page 2 times.\n"} {
		resp := b.send(t, app.HandleFunctionURL, "function-url-request.json", "/visits")
		if resp.StatusCode != http.StatusOK || resp.Body != want {
			t.Errorf("request %d: %d %q; want %q", n+1, resp.StatusCode, resp.Body, want)
		}
	}
	var last response
	for _, item := range randomItems(40) {
		last = b.send(t, app.HandleFunctionURL, "function-url-request.json", "/cart/add/"+item)
		if _, ok := b.jar["__Host-session.1"]; ok {
			break
		}
	}
	if len(last.Cookies) != 2 {
		t.Fatalf("function URL response cookies: %d; want 2 (jar %v)", len(last.Cookies), b.names())
	}
	if resp := b.send(t, app.HandleFunctionURL, "function-url-request.json", "/visits"); resp.Body != "You have visited this page 3 times.\n" {
		t.Errorf("/visits with a chunked session = %q", resp.Body)
	}
}
