package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// TestMain runs the demo's main instead of the tests when TestProcess
// starts this test binary as the demo.
func TestMain(m *testing.M) {
	if os.Getenv("DEMO_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// sessionCookie returns the response's session cookie, or fails.
func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-session" {
			return c
		}
	}
	t.Fatalf("%s: no session cookie in %q", resp.Request.URL.Path, resp.Header.Values("Set-Cookie"))
	return nil
}

func TestExpiry(t *testing.T) {
	d := newDemo(t)
	if status, body, _ := d.post("/expiry?seconds=60", nil); status != http.StatusConflict {
		t.Fatalf("expiry of an empty session: %d %q, want 409", status, body)
	}
	_, _, resp := d.get("/visits")
	if got := sessionCookie(t, resp).MaxAge; got != 14*24*3600 {
		t.Fatalf("default Max-Age %d, want 14 days", got)
	}

	_, body, resp := d.post("/expiry?seconds=60", nil)
	if want := "This session now expires at 2030-01-02T03:05:05Z.\n"; body != want {
		t.Fatalf("/expiry: %q, want %q", body, want)
	}
	if got := sessionCookie(t, resp).MaxAge; got != 60 {
		t.Fatalf("/expiry: Max-Age %d, want 60", got)
	}

	// Half a minute on, the session lives, and keeps its expiry when saved.
	d.clock.Add(30 * time.Second)
	_, body, resp = d.get("/visits")
	if want := "You have visited this page 2 times.\n"; body != want {
		t.Fatalf("after 30s: %q, want %q", body, want)
	}
	if got := sessionCookie(t, resp).MaxAge; got != 30 {
		t.Fatalf("after 30s: Max-Age %d, want 30", got)
	}

	// Well past its expiry (and the clock skew allowance) it is gone. The
	// jar, on real time, still sends the cookie: the sealed expiry ends it.
	d.clock.Add(2 * time.Minute)
	d.want("/visits", "You have visited this page 1 times.\n")

	// 0 returns to the default lifetime, counted from the session's start.
	d.clock.Add(time.Hour)
	d.want("POST /expiry?seconds=0", "This session now expires at 2030-01-16T03:06:35Z.\n")
	// The longest expiry is the configured Lifetime, 14 days from now.
	d.want("POST /expiry?seconds=1209600", "This session now expires at 2030-01-16T04:06:35Z.\n")
	// Issue 19: a visitor cannot make their session outlive the
	// configuration (this gave a 400-day session).
	for _, secs := range []string{"1209601", "34560000"} {
		if status, body, resp := d.post("/expiry?seconds="+secs, nil); status != http.StatusBadRequest || len(resp.Cookies()) != 0 {
			t.Errorf("/expiry?seconds=%s: %d %q, cookies %q; want 400 and none", secs, status, body, resp.Header.Values("Set-Cookie"))
		}
	}
}

func TestTamperedCookie(t *testing.T) {
	d := newDemo(t)
	d.want("/visits", "You have visited this page 1 times.\n")
	u, _ := url.Parse(d.srv.URL)
	d.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: "tampered", Secure: true, Path: "/"}})
	// A cookie that does not open gives a fresh session, not an error.
	d.want("/visits", "You have visited this page 1 times.\n")
	d.want("/visits", "You have visited this page 2 times.\n")
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

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"localhost:8080":        true,
		"LocalHost:8080":        true,
		"127.0.0.1:0":           true,
		"127.1.2.3:80":          true,
		"[::1]:8080":            true,
		"[::ffff:127.0.0.1]:80": true,
		":8080":                 false,
		"0.0.0.0:8080":          false,
		"[::]:8080":             false,
		"192.168.1.2:8080":      false,
		"128.0.0.1:8080":        false,
		"[::2]:8080":            false,
		"example.com:443":       false,
		"localhost.example:80":  false,
		"localhost":             false, // no port: not an address
		"":                      false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// Cookies are Secure and named __Host-session, on loopback too; -insecure
// drops Secure, and with it the prefix.
func TestInsecureFlag(t *testing.T) {
	kr := newKeyring(t)
	for _, tt := range []struct {
		insecure bool
		want     string
	}{
		{false, "__Host-session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=1209600"},
		{true, "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600"},
	} {
		m, err := cookiesession.New(kr, config(tt.insecure))
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		newHandler(m).ServeHTTP(w, httptest.NewRequest("GET", "/visits", nil))
		line := w.Header().Get("Set-Cookie")
		name, rest, _ := strings.Cut(line, "=")
		_, attrs, _ := strings.Cut(rest, ";")
		if got := name + "=;" + attrs; got != tt.want {
			t.Errorf("-insecure=%v: Set-Cookie %q, want %q", tt.insecure, got, tt.want)
		}
	}
}

func TestListenURL(t *testing.T) {
	for _, tc := range []struct {
		addr string
		got  net.Addr
		want string
	}{
		{"127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, "http://127.0.0.1:41234/"},
		{"localhost:8080", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://localhost:8080/"},
		{"[::1]:0", &net.TCPAddr{IP: net.IPv6loopback, Port: 5000}, "http://[::1]:5000/"},
		{":8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080/"},
		{"0.0.0.0:0", &net.TCPAddr{IP: net.IPv4zero, Port: 7}, "http://localhost:7/"},
		{"example.com:80", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}, "http://example.com:80/"},
	} {
		if got := listenURL(tc.addr, tc.got); got != tc.want {
			t.Errorf("listenURL(%q, %v) = %q, want %q", tc.addr, tc.got, got, tc.want)
		}
	}
}

// captureLog sends slog's default logger to a buffer for the test.
func captureLog(t *testing.T) *bytes.Buffer {
	old := slog.Default()
	var buf bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestLoadKeyring(t *testing.T) {
	const warning = "COOKIESESSION_KEYS is not set"
	kr := newKeyring(t)
	text := kr.Marshal()

	t.Run("throwaway", func(t *testing.T) {
		log := captureLog(t)
		a, err := loadKeyring("")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), warning) {
			t.Errorf("no warning logged: %q", log)
		}
		b, err := loadKeyring("")
		if err != nil {
			t.Fatal(err)
		}
		if a.Primary() == 0 || a.Primary() == b.Primary() {
			t.Errorf("throwaway keys %v and %v", a, b)
		}
		// Sessions do not survive a restart with a new throwaway key.
		if got := restart(t, a, b); got != "You have visited this page 1 times.\n" {
			t.Errorf("after a restart: %q", got)
		}
	})
	t.Run("from text", func(t *testing.T) {
		log := captureLog(t)
		a, err := loadKeyring(text)
		if err != nil {
			t.Fatal(err)
		}
		b, err := loadKeyring(text)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(log.String(), warning) || a.Primary() != kr.Primary() {
			t.Errorf("primary %v, log %q", a.Primary(), log)
		}
		// Sessions survive a restart with the same keys.
		if got := restart(t, a, b); got != "You have visited this page 2 times.\n" {
			t.Errorf("after a restart: %q", got)
		}
	})
	t.Run("bad text", func(t *testing.T) {
		secret := text[strings.LastIndexByte(text, ':')+1:]
		_, err := loadKeyring(strings.Replace(text, "primary", "decrypt-only", 1))
		if !errors.Is(err, cookiesession.ErrInvalidKeyring) {
			t.Errorf("no primary: %v", err)
		}
		err = run("127.0.0.1:0", "csk1:"+secret, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "COOKIESESSION_KEYS") || strings.Contains(err.Error(), secret) {
			t.Errorf("run with bad keys: %v", err)
		}
	})
}

// restart visits /visits on a demo with keyring a, then with the same
// cookies on a demo with keyring b, and returns the second answer.
func restart(t *testing.T, a, b *cookiesession.Keyring) string {
	t.Helper()
	d1 := newDemoKeyring(t, a)
	d1.want("/visits", "You have visited this page 1 times.\n")
	u1, _ := url.Parse(d1.srv.URL)
	d2 := newDemoKeyring(t, b)
	u2, _ := url.Parse(d2.srv.URL)
	d2.jar.SetCookies(u2, d1.jar.Cookies(u1))
	_, body, _ := d2.get("/visits")
	return body
}

// TestProcess runs the demo as a process, as `go run ./examples/demo
// -addr 127.0.0.1:0` does, without COOKIESESSION_KEYS.
func TestProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COOKIESESSION_KEYS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DEMO_TEST_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	stopped := false
	stop := func() string { // kills the demo and returns the rest of stdout
		if stopped {
			return ""
		}
		stopped = true
		cmd.Process.Kill()
		rest, _ := io.ReadAll(out)
		cmd.Wait()
		return string(rest)
	}
	defer stop()

	line, err := out.ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("reading the listening line: %v; stderr:\n%s", err, stderr.String())
	}
	match := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[1-9][0-9]*/)\n$`).FindStringSubmatch(line)
	if match == nil {
		t.Fatalf("first line %q", line)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for _, want := range []string{"You have visited this page 1 times.\n", "You have visited this page 2 times.\n"} {
		resp, err := client.Get(match[1] + "visits")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("GET /visits: %d %q, want %q", resp.StatusCode, b, want)
		}
	}

	if rest := stop(); rest != "" {
		t.Errorf("more on stdout: %q", rest)
	}
	for _, want := range []string{"COOKIESESSION_KEYS is not set", "marked Secure", "use -insecure for Safari"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
