package main

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is an injected clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// demo is a demo server under test, with a browser-like client.
type demo struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *clock
	jar    *cookiejar.Jar
	client *http.Client
}

// newDemo starts the demo handler with a throwaway key and an injected
// clock, configured as main configures it without -insecure: Secure
// cookies, which the jar, like Chrome and Firefox, sends to a loopback
// address over plain HTTP.
func newDemo(t *testing.T) *demo {
	t.Helper()
	kr, err := loadKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	return newDemoKeyring(t, kr)
}

func newDemoKeyring(t *testing.T, kr *cookiesession.Keyring) *demo {
	t.Helper()
	d := &demo{t: t, clock: &clock{now: t0}}
	d.srv = httptest.NewUnstartedServer(nil)
	cfg := config(false)
	cfg.Now = d.clock.Now
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.srv.Config.Handler = newHandler(m)
	d.srv.Start()
	t.Cleanup(d.srv.Close)
	d.jar, _ = cookiejar.New(nil)
	d.client = &http.Client{Jar: d.jar}
	return d
}

// get fetches path and returns the status, the body and the response.
func (d *demo) get(path string) (int, string, *http.Response) {
	d.t.Helper()
	resp, err := d.client.Get(d.srv.URL + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp
}

// post sends a POST of the form to path, as curl -X POST or a form does,
// and returns the status, the body and the response. Redirects are not
// followed.
func (d *demo) post(path string, form url.Values) (int, string, *http.Response) {
	d.t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := *d.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp
}

// want fetches path and checks for a 200 with exactly the body want. A
// path that starts with "POST " is posted instead, without a form.
func (d *demo) want(path, want string) {
	d.t.Helper()
	method, p, ok := strings.Cut(path, " ")
	if !ok {
		method, p = http.MethodGet, path
	}
	var status int
	var body string
	if method == http.MethodPost {
		status, body, _ = d.post(p, nil)
	} else {
		status, body, _ = d.get(p)
	}
	if status != http.StatusOK || body != want {
		d.t.Fatalf("%s %s: %d %q, want 200 %q", method, p, status, body, want)
	}
}

// cookies returns the names of the cookies the client would send.
func (d *demo) cookies() []string {
	d.t.Helper()
	u, err := url.Parse(d.srv.URL)
	if err != nil {
		d.t.Fatal(err)
	}
	var names []string
	for _, c := range d.jar.Cookies(u) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

func TestRoutes(t *testing.T) {
	d := newDemo(t)
	for _, step := range []struct{ path, want string }{
		{"/visits", "You have visited this page 1 times.\n"},
		{"/visits", "You have visited this page 2 times.\n"},
		{"/color", "Favorite color is not set\n"},
		{"POST /color/set?value=blue", "Session data set!\n"},
		{"/color", "Favorite color is blue\n"},
		{"POST /color/set?value=dark%20red", "Session data set!\n"},
		{"/color", "Favorite color is dark red\n"},
		{"/cart", "Your cart is empty.\n"},
		{"POST /cart/add/apple", "apple\n"},
		{"POST /cart/add/pear%20drop", "apple\npear drop\n"},
		{"POST /cart/add/a%2Fb", "apple\npear drop\na/b\n"},
		{"/cart", "apple\npear drop\na/b\n"},
		{"/visits", "You have visited this page 3 times.\n"},
		{"POST /cart/clear", "Cart cleared.\n"},
		{"/cart", "Your cart is empty.\n"},
		{"/color", "Favorite color is dark red\n"},
		{"/whoami", "You are not logged in.\n"},
		{"POST /login?user=ada", "Logged in as ada.\n"},
		{"/whoami", "You are ada.\n"},
		{"/color", "Favorite color is dark red\n"},
		{"POST /logout", "Logged out.\n"},
		{"/whoami", "You are not logged in.\n"},
		{"/color", "Favorite color is not set\n"},
		{"/cart", "Your cart is empty.\n"},
		{"/visits", "You have visited this page 1 times.\n"},
	} {
		d.want(step.path, step.want)
	}
}

func TestContentTypes(t *testing.T) {
	d := newDemo(t)
	status, body, resp := d.get("/")
	if got := resp.Header.Get("Content-Type"); status != 200 || got != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", status, got)
	}
	// A form for each action, each posting back to the page.
	for _, action := range []string{"/login", "/color/set", "/cart/add/apple", "/cart/clear", "/expiry"} {
		if !strings.Contains(body, `<form method="post" action="`+action+`"><input type="hidden" name="then" value="/">`) {
			t.Errorf("GET / has no form posting to %s", action)
		}
	}
	for _, want := range []string{`name="user"`, `type="checkbox" name="remember" value="1"`, `href="/visits"`, `href="/whoami"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %s", want)
		}
	}
	if got := d.cookies(); len(got) != 0 {
		t.Errorf("GET / set cookies %v", got)
	}
	_, _, resp = d.get("/visits")
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("GET /visits: Content-Type %q", got)
	}
}

// Routes that change the session take POST; a GET answers 405 with Allow
// and touches nothing. Bad parameters answer 400.
func TestBadRequests(t *testing.T) {
	d := newDemo(t)
	d.want("/visits", "You have visited this page 1 times.\n")
	for _, path := range []string{"/color/set?value=blue", "/cart/add/apple", "/cart/clear", "/expiry?seconds=60", "/login?user=ada", "/logout"} {
		status, body, resp := d.get(path)
		if status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d %q, Allow %q; want 405, Allow POST", path, status, body, resp.Header.Get("Allow"))
		}
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/expiry", 400},
		{"/expiry?seconds=", 400},
		{"/expiry?seconds=ten", 400},
		{"/expiry?seconds=1.5", 400},
		{"/expiry?seconds=-1", 400},
		{"/expiry?seconds=1209601", 400},
		{"/expiry?seconds=34560001", 400},
		{"/expiry?seconds=99999999999999999999", 400},
		{"/color/set", 400},
		{"/color/set?value=", 400},
		{"/login", 400},
		{"/login?user=", 400},
		{"/login?user=" + strings.Repeat("a", 65), 400},
		{"/login?user=a%0Ab", 400},
		{"/cart/add/", 404},
		{"/cart/add/a/b", 404},
		{"/nowhere", 404},
		{"/visits", 405},
		{"/whoami", 405},
	} {
		if status, body, _ := d.post(tc.path, nil); status != tc.status {
			t.Errorf("POST %s: %d %q, want %d", tc.path, status, body, tc.status)
		}
	}
	// None of them touched the session.
	d.want("/visits", "You have visited this page 2 times.\n")
	d.want("/whoami", "You are not logged in.\n")
}

// randomItem returns a cart item of n letters that compresses poorly.
func randomItem(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

func TestCartChunks(t *testing.T) {
	d := newDemo(t)
	r := rand.New(rand.NewPCG(1, 2))
	d.want("POST /color/set?value=green", "Session data set!\n")
	if got, want := d.cookies(), []string{"__Host-session"}; !cmp.Equal(got, want) {
		t.Fatalf("cookies %v, want %v", got, want)
	}

	// Grow the cart until the session needs a second cookie.
	var cart []string
	for !slices.Contains(d.cookies(), "__Host-session.1") {
		if len(cart) == 100 {
			t.Fatalf("100 items of 200 letters still fit one cookie: %v", d.cookies())
		}
		cart = append(cart, randomItem(r, 200))
		d.want("POST /cart/add/"+cart[len(cart)-1], strings.Join(cart, "\n")+"\n")
	}
	if got, want := d.cookies(), []string{"__Host-session", "__Host-session.1"}; !cmp.Equal(got, want) {
		t.Fatalf("cookies %v, want %v", got, want)
	}
	d.want("/cart", strings.Join(cart, "\n")+"\n")
	d.want("/color", "Favorite color is green\n")

	// Past the size budget, a change is refused and the cart stays as it was.
	var refused bool
	for range 100 {
		status, body, _ := d.post("/cart/add/"+randomItem(r, 200), nil)
		if status == http.StatusRequestEntityTooLarge {
			if body != "Session too large: clear the cart.\n" {
				t.Fatalf("413 body %q", body)
			}
			refused = true
			break
		}
		if status != 200 {
			t.Fatalf("adding an item: %d %q", status, body)
		}
		cart = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	}
	if !refused {
		t.Fatal("the cart grew without limit")
	}
	t.Logf("%d items of 200 letters fit in the session", len(cart))
	d.want("/cart", strings.Join(cart, "\n")+"\n")

	// Clearing the cart shrinks the session back to one cookie.
	d.want("POST /cart/clear", "Cart cleared.\n")
	if got, want := d.cookies(), []string{"__Host-session"}; !cmp.Equal(got, want) {
		t.Fatalf("after /cart/clear: cookies %v, want %v", got, want)
	}
	d.want("/cart", "Your cart is empty.\n")
	d.want("/color", "Favorite color is green\n")

	// Logout deletes every cookie of a chunked session.
	for i, item := range cart {
		d.want("POST /cart/add/"+item, strings.Join(cart[:i+1], "\n")+"\n")
	}
	if got, want := d.cookies(), []string{"__Host-session", "__Host-session.1"}; !cmp.Equal(got, want) {
		t.Fatalf("cart refilled: cookies %v, want %v", got, want)
	}
	d.want("POST /logout", "Logged out.\n")
	if got := d.cookies(); len(got) != 0 {
		t.Fatalf("after /logout: cookies %v, want none", got)
	}
	d.want("/color", "Favorite color is not set\n")
}
