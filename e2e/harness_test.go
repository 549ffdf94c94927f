package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/cookiesession/cookiesession"
)

// Environment variables that steer the tests.
const (
	// envBrowser overrides the browser's path.
	envBrowser = "E2E_CHROMIUM"
	// envRequire, set to 1, turns a missing browser from a skip into a
	// failure. CI sets it, since CI installs the browser.
	envRequire = "E2E_REQUIRE_BROWSER"
)

const defaultBrowser = "/usr/bin/chromium"

// tabTimeout bounds everything one test does in its tab.
const tabTimeout = 60 * time.Second

// harness is the demo server and the browser, shared by every test. Each
// test gets its own browser context (a separate cookie store) in it.
type harness struct {
	base    string                 // the demo's URL, http://127.0.0.1:PORT/
	keyring *cookiesession.Keyring // the demo's keys
	browser context.Context        // chromedp context of the browser

	demoLog lockedBuffer // the demo's standard error
	closers []func()     // run in reverse order by close
}

var (
	shared     *harness
	sharedErr  error
	sharedSkip string
	sharedOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "--- the demo's log:\n%s", shared.demoLog.String())
		}
		shared.close()
	}
	os.Exit(code)
}

// setup returns the shared harness, starting it on first use. It skips t
// when no browser is installed, or fails it if envRequire is 1.
func setup(t *testing.T) *harness {
	t.Helper()
	sharedOnce.Do(func() {
		path := browserPath()
		if _, err := os.Stat(path); err != nil {
			sharedSkip = fmt.Sprintf("no browser at %s (%v): install Debian's chromium, or set %s to a Chromium or Chrome binary", path, err, envBrowser)
			return
		}
		shared, sharedErr = start(path)
	})
	switch {
	case sharedSkip != "" && os.Getenv(envRequire) == "1":
		t.Fatalf("%s; %s=1 requires the browser", sharedSkip, envRequire)
	case sharedSkip != "":
		t.Skip(sharedSkip)
	case sharedErr != nil:
		t.Fatal(sharedErr)
	}
	return shared
}

func browserPath() string {
	if p := os.Getenv(envBrowser); p != "" {
		return p
	}
	return defaultBrowser
}

// start builds and starts the demo, then the browser.
func start(browser string) (h *harness, err error) {
	h = &harness{}
	defer func() {
		if err != nil {
			h.close()
			err = fmt.Errorf("%w\n--- the demo's log:\n%s", err, h.demoLog.String())
			h = nil
		}
	}()
	dir, err := os.MkdirTemp("", "cookiesession-e2e-")
	if err != nil {
		return h, err
	}
	h.closers = append(h.closers, func() { os.RemoveAll(dir) })

	bin := filepath.Join(dir, "demo")
	build := exec.Command("go", "build", "-o", bin, "./examples/demo")
	build.Dir = ".." // the root module, with its own go.mod and go.sum
	if out, err := build.CombinedOutput(); err != nil {
		return h, fmt.Errorf("building the demo: %v\n%s", err, out)
	}

	key, err := cookiesession.GenerateKey()
	if err != nil {
		return h, err
	}
	if h.keyring, err = cookiesession.NewKeyring(key); err != nil {
		return h, err
	}
	if h.base, err = h.startDemo(bin); err != nil {
		return h, err
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(browserOptions(browser, filepath.Join(dir, "profile")), chromedp.Flag("disable-quic", true))...)
	h.closers = append(h.closers, cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	h.closers = append(h.closers, cancel)
	if err := chromedp.Do(ctx); err != nil {
		return h, fmt.Errorf("starting %s: %w", browser, err)
	}
	h.browser = ctx
	return h, nil
}

// browserOptions are the options of a headless browser at path with its
// profile in dir, quiet: no first-run, background or sync traffic.
func browserOptions(path, dir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
	}
}

// startDemo runs the demo binary on a free loopback port and returns its
// URL, read from the one line it prints once it listens.
func (h *harness) startDemo(bin string) (string, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "COOKIESESSION_KEYS="+h.keyring.Marshal())
	cmd.Stderr = &h.demoLog
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	h.closers = append(h.closers, func() { cmd.Process.Kill(); cmd.Wait() })

	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		s, _ := r.ReadString('\n')
		line <- s
		io.Copy(io.Discard, r)
	}()
	var s string
	select {
	case s = <-line:
	case <-time.After(30 * time.Second):
		return "", errors.New("the demo printed no line within 30 s")
	}
	rest, ok := strings.CutPrefix(s, "listening on ")
	if !ok || !strings.HasSuffix(rest, "/\n") {
		return "", fmt.Errorf("the demo's first line is %q, want \"listening on http://HOST:PORT/\"", s)
	}
	u, err := url.Parse(strings.TrimSuffix(rest, "\n"))
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		return "", fmt.Errorf("the demo's first line is %q, want a URL of http://127.0.0.1 with a port", s)
	}
	return u.String(), nil
}

func (h *harness) close() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
}

// tab is one test's tab, in a browser context of its own.
type tab struct {
	t              *testing.T
	h              *harness
	ctx            context.Context
	browserContext cdp.BrowserContextID // the tab's cookie store
}

// newTab opens a tab in a fresh browser context, closed when t ends.
func newTab(t *testing.T) *tab {
	t.Helper()
	h := setup(t)
	// The first Do creates the browser context (disposed of when it detaches)
	// and its tab, in a window of its own; closeTab disposes of both.
	tctx, closeTab := chromedp.NewContext(h.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(closeTab)
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	bcid := chromedp.FromContext(tctx).BrowserContextID
	if bcid == "" {
		t.Fatal("the new tab has no browser context of its own")
	}
	// The timeout goes on a child of the context that has run, so that it
	// bounds this test's actions and not the tab's life.
	ctx, cancel := context.WithTimeout(tctx, tabTimeout)
	t.Cleanup(cancel)
	return &tab{t: t, h: h, ctx: ctx, browserContext: bcid}
}

// url returns the demo's URL for path, which has no leading slash.
func (tb *tab) url(path string) string { return tb.h.base + path }

// open loads the demo's page at path and returns the HTTP status and the
// page's text, without its final newline.
func (tb *tab) open(path string) (int, string) {
	tb.t.Helper()
	return tb.openURL(tb.url(path))
}

// openURL loads u and returns the HTTP status and the page's text.
func (tb *tab) openURL(u string) (int, string) {
	tb.t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		tb.t.Fatalf("loading %s: %v", u, err)
	}
	text, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		tb.t.Fatalf("reading %s: %v", u, err)
	}
	return int(resp.Status), strings.TrimSuffix(text, "\n")
}

// mustOpen loads path and fails the test unless it answers 200 with want.
func (tb *tab) mustOpen(path, want string) {
	tb.t.Helper()
	status, text := tb.open(path)
	if status != 200 || text != want {
		tb.t.Fatalf("GET /%s: %d %s, want 200 %s", short(path), status, short(text), short(want))
	}
}

// post sends a POST to the demo's path from the tab's page, as a script of
// the demo's own origin does (so CrossOriginProtection lets it through), and
// returns the status and the answer, without its final newline. It first
// opens the demo's page if the tab is elsewhere.
func (tb *tab) post(path string) (int, string) {
	tb.t.Helper()
	origin := strings.TrimSuffix(tb.h.base, "/")
	if eval[string](tb, `location.origin`) != origin {
		if status, _ := tb.open("whoami"); status != 200 {
			tb.t.Fatalf("GET /whoami: %d", status)
		}
	}
	type answer struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
	}
	a := eval[answer](tb, fmt.Sprintf(`fetch(%q, {method: "POST"}).then(async r => ({status: r.status, text: await r.text()}))`, tb.url(path)))
	return a.Status, strings.TrimSuffix(a.Text, "\n")
}

// mustPost posts to path and fails the test unless it answers 200 with want.
func (tb *tab) mustPost(path, want string) {
	tb.t.Helper()
	status, text := tb.post(path)
	if status != 200 || text != want {
		tb.t.Fatalf("POST /%s: %d %s, want 200 %s", short(path), status, short(text), short(want))
	}
}

// short quotes s, eliding the middle of a long one.
func short(s string) string {
	if len(s) <= 160 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...(%d bytes)...%q", s[:100], len(s), s[len(s)-40:])
}

// cookies returns every cookie in the tab's browser context, by name.
func (tb *tab) cookies() map[string]*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.CallBrowser(tb.ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: tb.browserContext})
	if err != nil {
		tb.t.Fatalf("Storage.getCookies: %v", err)
	}
	m := make(map[string]*network.Cookie, len(res.Cookies))
	for _, ck := range res.Cookies {
		if m[ck.Name] != nil {
			tb.t.Fatalf("two cookies named %q in the store: %+v and %+v", ck.Name, m[ck.Name], ck)
		}
		m[ck.Name] = ck
	}
	return m
}

// The demo's session cookie names: the library's default, since the demo
// keeps Secure cookies on loopback, which Chromium accepts over
// http://127.0.0.1 and http://localhost.
const (
	sessionName = cookiesession.DefaultName
	chunk1      = sessionName + ".1"
)

// sessionCookies returns the session's cookies in the store, by name:
// sessionName and sessionName.N.
func (tb *tab) sessionCookies() map[string]*network.Cookie {
	tb.t.Helper()
	m := tb.cookies()
	for name := range m {
		if name != sessionName && !strings.HasPrefix(name, sessionName+".") {
			delete(m, name)
		}
	}
	return m
}

// values returns the value of each cookie in m, by name.
func values(m map[string]*network.Cookie) map[string]string {
	v := make(map[string]string, len(m))
	for name, c := range m {
		v[name] = c.Value
	}
	return v
}

// setCookie writes a cookie into the store through Network.setCookie, as
// a host-only cookie of the demo's host with Path "/", Secure as the
// __Host- prefix requires, replacing any cookie of that name there. It has
// no expiry: the browser keeps it until it closes.
func (tb *tab) setCookie(name, value string) {
	tb.t.Helper()
	_, err := chromedp.Call(tb.ctx, network.SetCookie, network.SetCookieParams{
		Name:     name,
		Value:    value,
		URL:      tb.h.base,
		Path:     "/",
		HTTPOnly: new(true),
		Secure:   new(true),
		SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		tb.t.Fatalf("Network.setCookie %s: %v", name, err)
	}
}

// eval runs JavaScript in tb's page, awaiting a promise it returns, and
// returns the result, decoded from JSON into a T. (A function, not a method:
// methods cannot have type parameters.)
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	res, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", js, err)
	}
	return res
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
