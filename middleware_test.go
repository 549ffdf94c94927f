package cookiesession

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mwHook records the errors passed to Config.ErrorHook.
type mwHook struct {
	mu   sync.Mutex
	errs []error
}

func (h *mwHook) record(_ *http.Request, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
}

// mwWantErrs checks that the hook got exactly one error wrapping each of
// want (nils left out), in order, since the last check.
func (h *mwHook) mwWantErrs(t *testing.T, want ...error) {
	t.Helper()
	want = slices.DeleteFunc(want, func(err error) bool { return err == nil })
	h.mu.Lock()
	got := h.errs
	h.errs = nil
	h.mu.Unlock()
	if len(got) != len(want) {
		t.Errorf("ErrorHook got %d errors %v, want %d wrapping %v", len(got), got, len(want), want)
		return
	}
	for i := range want {
		if !errors.Is(got[i], want[i]) {
			t.Errorf("ErrorHook error %d = %v, want one wrapping %v", i, got[i], want[i])
		}
	}
}

// mwEnv is a middleware-wrapped server with a client that keeps cookies in
// a cookiejar, a bare client, and a hand-kept cookie store for tests where
// the injected clock and the jar's real clock disagree.
type mwEnv struct {
	clock  *testClock
	kr     *Keyring
	hook   *mwHook
	m      *Manager
	srv    *httptest.Server
	jar    *cookiejar.Jar
	client *http.Client // sends the jar's cookies
	bare   *http.Client // sends only the Cookie header given
	store  map[string]string
}

// mwStart serves h behind the middleware of a manager made from cfg, over
// TLS with Secure cookies if secure, else over plain HTTP with Insecure.
func mwStart(t *testing.T, cfg Config, secure bool, h http.HandlerFunc) *mwEnv {
	t.Helper()
	e := &mwEnv{clock: newTestClock(t0), hook: &mwHook{}, store: map[string]string{}}
	var err error
	if e.kr, err = NewKeyring(testKey(t, 1, 1)); err != nil {
		t.Fatal(err)
	}
	cfg.Now, cfg.Insecure = e.clock.Now, !secure
	if cfg.ErrorHook == nil {
		cfg.ErrorHook = e.hook.record
	}
	plainName(&cfg)
	if e.m, err = New(e.kr, cfg); err != nil {
		t.Fatal(err)
	}
	if secure {
		e.srv = httptest.NewTLSServer(e.m.Middleware(h))
	} else {
		e.srv = httptest.NewServer(e.m.Middleware(h))
	}
	t.Cleanup(e.srv.Close)
	e.jar, _ = cookiejar.New(nil) // fails only for bad options
	tr := e.srv.Client().Transport.(*http.Transport)
	if secure {
		// The test server's certificate expires in 2084: the client checks
		// it at the test's clock, like everything else here, so that the
		// test passes on any date.
		tr.TLSClientConfig.Time = e.clock.Now
	}
	e.client = &http.Client{Transport: tr, Jar: e.jar}
	e.bare = &http.Client{Transport: tr}
	return e
}

type mwResp struct {
	status  int
	header  http.Header
	body    string
	lines   []string          // Set-Cookie lines
	set     map[string]string // session cookies written, by name
	deleted []string          // session cookies deleted (Max-Age=0), sorted
	maxAge  int               // Max-Age of "session": 0 if not written, -1 if deleted
}

func mwParse(status int, h http.Header, body string) mwResp {
	r := mwResp{status: status, header: h, body: body, lines: h.Values("Set-Cookie"), set: map[string]string{}}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.MaxAge < 0 {
			r.deleted = append(r.deleted, c.Name)
		} else {
			r.set[c.Name] = c.Value
		}
		if c.Name == DefaultPlainName {
			r.maxAge = c.MaxAge
		}
	}
	slices.Sort(r.deleted)
	return r
}

func mwSend(t *testing.T, c *http.Client, req *http.Request) mwResp {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mwParse(res.StatusCode, res.Header, string(b))
}

func (e *mwEnv) request(t *testing.T, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// do sends a request with the cookiejar's cookies.
func (e *mwEnv) do(t *testing.T, method, path, body string) mwResp {
	t.Helper()
	return mwSend(t, e.client, e.request(t, method, path, body))
}

// raw sends a GET with cookie as its only Cookie header, if not empty.
func (e *mwEnv) raw(t *testing.T, path, cookie string) mwResp {
	t.Helper()
	req := e.request(t, http.MethodGet, path, "")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return mwSend(t, e.bare, req)
}

// stored sends a GET with the hand-kept cookies and updates them from the
// response, ignoring Max-Age except for deletions.
func (e *mwEnv) stored(t *testing.T, path string) mwResp {
	t.Helper()
	var pairs []string
	for _, name := range slices.Sorted(maps.Keys(e.store)) {
		pairs = append(pairs, name+"="+e.store[name])
	}
	r := e.raw(t, path, strings.Join(pairs, "; "))
	maps.Copy(e.store, r.set)
	for _, name := range r.deleted {
		delete(e.store, name)
	}
	return r
}

// jarNames returns the names of the cookies in the jar, sorted.
func (e *mwEnv) jarNames(t *testing.T) []string {
	t.Helper()
	req := e.request(t, http.MethodGet, "/", "")
	var names []string
	for _, c := range e.jar.Cookies(req.URL) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// mwApp is the handler most tests use; the path says what it does.
func mwApp(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	q := r.URL.Query()
	var err error
	switch r.URL.Path {
	case "/noop":
	case "/count":
		n, _, _ := Get[int](s, "n")
		err = s.Set("n", n+1)
		fmt.Fprint(w, n+1)
	case "/set":
		err = s.Set(q.Get("k"), q.Get("v"))
	case "/get":
		v, ok, _ := Get[string](s, q.Get("k"))
		fmt.Fprintf(w, "v=%s ok=%t new=%t", v, ok, s.IsNew())
	case "/delete":
		s.Delete(q.Get("k"))
	case "/pop":
		_, _, err = Pop[string](s, q.Get("k"))
	case "/clear":
		s.Clear()
	case "/destroy":
		s.Destroy()
	case "/cart":
		if r.Method == http.MethodPost {
			var items []string
			if err = json.NewDecoder(r.Body).Decode(&items); err == nil {
				err = s.Set("cart", items)
			}
			break
		}
		items, _, _ := Get[[]string](s, "cart")
		err = json.NewEncoder(w).Encode(items)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if code := q.Get("status"); code != "" {
		n, _ := strconv.Atoi(code)
		w.WriteHeader(n)
		io.WriteString(w, "handler body")
	}
}

// mwItems returns n random 32-digit hex strings, which compress poorly.
func mwItems(n int, seed byte) []string {
	r := rand.New(rand.NewChaCha8([32]byte{seed}))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
	return out
}

func mwJSON(v []string) string {
	b, _ := json.Marshal(v) // cannot fail
	return string(b)
}

// Bodies of /get?k=u: the value set by /set?k=u&v=ada, or a fresh session.
const (
	mwAda   = "v=ada ok=true new=false"
	mwFresh = "v= ok=false new=true"
)

func TestMiddlewareVisitCounter(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%t", secure), func(t *testing.T) {
			e := mwStart(t, Config{}, secure, mwApp)
			for want := 1; want <= 4; want++ {
				r := e.do(t, http.MethodGet, "/count", "")
				if r.body != strconv.Itoa(want) {
					t.Fatalf("visit %d: body %q", want, r.body)
				}
				line := r.header.Get("Set-Cookie")
				if got := strings.Contains(line, "; Secure"); got != secure {
					t.Errorf("visit %d: Set-Cookie %q: Secure attribute %t, want %t", want, line, got, secure)
				}
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareChunkedCart(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		items int
		want  []string // cookies in the jar
	}{
		{"two chunks", Config{}, 200, []string{"session", "session.1"}},
		{"three chunks", Config{MaxSize: 16000}, 400, []string{"session", "session.1", "session.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, tt.cfg, true, mwApp)
			cart := mwItems(tt.items, 1)
			r := e.do(t, http.MethodPost, "/cart", mwJSON(cart))
			if r.status != http.StatusOK {
				t.Fatalf("POST /cart: %d %s", r.status, r.body)
			}
			for _, line := range r.lines {
				if len(line) > cookieSizeLimit {
					t.Errorf("Set-Cookie line of %d bytes, over %d: %.60s...", len(line), cookieSizeLimit, line)
				}
			}
			if diff := cmp.Diff(tt.want, e.jarNames(t)); diff != "" {
				t.Errorf("jar after a big cart (-want +got):\n%s", diff)
			}
			if got := r.set["session"]; !strings.HasPrefix(got, strconv.Itoa(len(tt.want))+".") {
				t.Errorf("first cookie %.20q... lacks the count prefix %d.", got, len(tt.want))
			}
			if r = e.do(t, http.MethodGet, "/cart", ""); r.body != mwJSON(cart)+"\n" {
				t.Errorf("cart read back differs: %.80q...", r.body)
			}

			r = e.do(t, http.MethodPost, "/cart", mwJSON(cart[:3]))
			if diff := cmp.Diff(tt.want[1:], r.deleted); diff != "" {
				t.Errorf("chunks deleted after shrinking (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"session"}, e.jarNames(t)); diff != "" {
				t.Errorf("jar after shrinking (-want +got):\n%s", diff)
			}
			if r = e.do(t, http.MethodGet, "/cart", ""); r.body != mwJSON(cart[:3])+"\n" {
				t.Errorf("small cart read back %q", r.body)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareDestroy(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		items int
		want  []string // deletions on logout
	}{
		{"chunked", Config{}, 200, []string{"session", "session.1", "session.2"}},
		{"MaxChunks 5", Config{MaxChunks: 5}, 3, []string{"session", "session.1", "session.2", "session.3", "session.4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, tt.cfg, false, mwApp)
			e.do(t, http.MethodPost, "/cart", mwJSON(mwItems(tt.items, 2)))
			if len(e.jarNames(t)) == 0 {
				t.Fatal("no cookie before logout")
			}
			r := e.do(t, http.MethodGet, "/destroy", "")
			if diff := cmp.Diff(tt.want, r.deleted); diff != "" {
				t.Errorf("cookies deleted at logout (-want +got):\n%s", diff)
			}
			if len(r.set) != 0 || len(e.jarNames(t)) != 0 {
				t.Errorf("logout wrote %v; jar holds %v", r.set, e.jarNames(t))
			}
			if r = e.do(t, http.MethodGet, "/cart", ""); r.body != "null\n" {
				t.Errorf("cart after logout: %q", r.body)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareBadCookie(t *testing.T) {
	e := mwStart(t, Config{}, false, mwApp)
	small := e.do(t, http.MethodGet, "/set?k=u&v=ada", "").set["session"]
	big := e.do(t, http.MethodPost, "/cart", mwJSON(mwItems(200, 4))).set
	flipped := []byte(small)
	if mid := len(flipped) / 2; flipped[mid] == 'A' {
		flipped[mid] = 'B'
	} else {
		flipped[mid] = 'A'
	}
	e.hook.mwWantErrs(t)
	tests := []struct {
		name, cookie string
		err          error
		deleted      []string
	}{
		{"flipped character", "session=" + string(flipped), ErrAuthFailed, []string{"session"}},
		{"missing chunk", "session=" + big["session"], ErrMalformed, []string{"session"}},
		{"chunk without first", "session.1=" + big["session.1"], ErrMalformed, []string{"session.1"}},
		{"extra chunk", "session=3." + big["session"][2:] + "; session.1=" + big["session.1"] + "; session.2=AAAA", ErrAuthFailed, []string{"session", "session.1", "session.2"}},
		{"garbage", "session=%%%garbage", ErrMalformed, []string{"session"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.raw(t, "/get?k=u", tt.cookie)
			if r.status != http.StatusOK || r.body != mwFresh {
				t.Errorf("got %d %q, want 200 %q", r.status, r.body, mwFresh)
			}
			e.hook.mwWantErrs(t, tt.err)
			if diff := cmp.Diff(tt.deleted, r.deleted); diff != "" {
				t.Errorf("cookies deleted (-want +got):\n%s", diff)
			}
		})
	}
}
