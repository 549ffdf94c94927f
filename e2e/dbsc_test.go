package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/cookiesession/cookiesession"
)

// The device-bound session test runs the demo over HTTPS with -dbsc and a
// device cookie of 10 s, and Debian's Chromium with DBSC and software keys
// (ANCHORS.md): the certificate is self-signed and trusted through
// --ignore-certificate-errors-spki-list, since Chromium ignores DBSC over
// a certificate with errors. It runs the browser binary itself, not the
// /usr/bin/chromium wrapper, which adds flags.
const (
	dbscBrowser = "/usr/lib/chromium/chromium"
	dbscTTL     = 10 * time.Second
	// dbscFeatures are the features DBSC needs in Chromium 156 on Linux,
	// which has no TPM key provider.
	dbscFeatures = "DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting,DeviceBoundSessionsDevTools"
)

// dbscEvents collects the CDP events of device-bound sessions.
type dbscEvents struct {
	mu     sync.Mutex
	events []*network.EventDeviceBoundSessionEventOccurred
	usages map[network.DeviceBoundSessionWithUsageUsage]int
}

func (d *dbscEvents) listen(ev any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventDeviceBoundSessionEventOccurred:
		d.events = append(d.events, ev)
	case *network.EventRequestWillBeSentExtraInfo:
		for _, u := range ev.DeviceBoundSessionUsages {
			d.usages[u.Usage]++
		}
	}
}

// count returns how many events of a kind ("creation", "refresh",
// "challenge", "termination") succeeded and failed.
func (d *dbscEvents) count(kind string) (ok, failed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ev := range d.events {
		var match bool
		switch kind {
		case "creation":
			match = ev.CreationEventDetails != nil
		case "refresh":
			match = ev.RefreshEventDetails != nil
		case "challenge":
			match = ev.ChallengeEventDetails != nil
		case "termination":
			match = ev.TerminationEventDetails != nil
		}
		if match && ev.Succeeded {
			ok++
		} else if match {
			failed++
		}
	}
	return ok, failed
}

func (d *dbscEvents) usage(u network.DeviceBoundSessionWithUsageUsage) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.usages[u]
}

func (d *dbscEvents) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for _, ev := range d.events {
		fmt.Fprintf(&b, "  succeeded=%v creation=%+v refresh=%+v challenge=%+v termination=%+v\n",
			ev.Succeeded, ev.CreationEventDetails, ev.RefreshEventDetails, ev.ChallengeEventDetails, ev.TerminationEventDetails)
	}
	fmt.Fprintf(&b, "  usages: %v\n", d.usages)
	return b.String()
}

// selfSigned writes a self-signed certificate for localhost and 127.0.0.1
// and its key into dir, and returns the files, the certificate, and the
// base64 SHA-256 of its SubjectPublicKeyInfo, as Chromium's
// --ignore-certificate-errors-spki-list takes it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate, spki string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return certFile, keyFile, cert, base64.StdEncoding.EncodeToString(sum[:])
}

// startTLSDemo builds the demo and runs it over HTTPS with -dbsc, and
// returns its URL under the name localhost.
func startTLSDemo(t *testing.T, dir, certFile, keyFile string, log io.Writer) string {
	t.Helper()
	bin := filepath.Join(dir, "demo")
	build := exec.Command("go", "build", "-o", bin, "./examples/demo")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, out)
	}
	kr, err := cookiesession.NewKeyring(must(cookiesession.GenerateKey()))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile,
		"-dbsc", "-dbsc-ttl", dbscTTL.String())
	cmd.Env = append(os.Environ(), "COOKIESESSION_KEYS="+kr.Marshal())
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the demo's first line: %v", err)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	u, err := url.Parse(rest)
	if !ok || err != nil || u.Scheme != "https" || u.Port() == "" {
		t.Fatalf("the demo's first line is %q, want listening on https://127.0.0.1:PORT/", line)
	}
	return "https://localhost:" + u.Port() + "/"
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// thiefClient is a Go HTTP client that trusts the demo's certificate and
// sends exactly the cookies it was given, expired or not.
type thiefClient struct {
	base   string
	client *http.Client
	cookie string
}

func (c *thiefClient) do(method, path string, hdr map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Cookie", c.cookie)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

// TestDeviceBoundChromium logs in through the demo's page in Chromium with
// DBSC, checks that Chromium registered (the server bound the session,
// which needs a valid proof; the CDP creation event succeeded), lets the
// device cookie expire and checks that the next navigation was held for a
// refresh through the challenge and is still logged in, and copies the
// cookies out through CDP into a Go client, which stops working once the
// copied device cookie expires.
func TestDeviceBoundChromium(t *testing.T) {
	browser := os.Getenv(envBrowser)
	if browser == "" {
		browser = dbscBrowser
	}
	if _, err := os.Stat(browser); err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("no browser at %s: %v", browser, err)
		}
		t.Skipf("no browser at %s (%v): install Debian's chromium", browser, err)
	}
	dir := t.TempDir()
	certFile, keyFile, cert, spki := selfSigned(t, dir)
	var demoLog lockedBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the demo's log:\n%s", demoLog.String())
		}
	})
	base := startTLSDemo(t, dir, certFile, keyFile, &demoLog)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(browserOptions(browser, filepath.Join(dir, "profile")),
			chromedp.Flag("enable-features", dbscFeatures),
			chromedp.Flag("ignore-certificate-errors-spki-list", spki))...)
	t.Cleanup(cancelAlloc)
	events := &dbscEvents{usages: map[network.DeviceBoundSessionWithUsageUsage]int{}}
	tctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(events.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(tctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("DBSC events:\n%s", events)
		}
	})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.EnableDeviceBoundSessions, network.EnableDeviceBoundSessionsParams{Enable: true}); err != nil {
		t.Fatalf("Network.enableDeviceBoundSessions: %v", err)
	}
	text := func(u string) string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.NavigateResponse(u)); err != nil {
			t.Fatalf("loading %s: %v", u, err)
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err != nil {
			t.Fatalf("reading %s: %v", u, err)
		}
		return s
	}

	// Log in through the page's form.
	if page := text(base); !strings.Contains(page, "You are not logged in.") {
		t.Fatalf("the page before login:\n%s", page)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector('form[action="/login"]');
		f.querySelector('input[name=user]').value = 'alice';
		f.submit();
		return true;
	})()`)); err != nil {
		t.Fatalf("submitting the login form: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, _ := events.count("creation"); ok > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful DBSC creation event within 20 s of the login")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, failed := events.count("creation"); failed > 0 {
		t.Errorf("%d failed creation events", failed)
	}
	// The server bound the session: only a valid proof does that.
	if page := text(base); !strings.Contains(page, "You are alice.") || !strings.Contains(page, "This session is device-bound.") {
		t.Fatalf("the page after registration:\n%s", page)
	}

	// Copy every cookie out through CDP.
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatalf("Storage.getCookies: %v", err)
	}
	var pairs []string
	var devExpires time.Time
	for _, c := range res.Cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
		if c.Name == cookiesession.DefaultDeviceCookieName {
			devExpires = time.Unix(int64(c.Expires), 0)
		}
	}
	if devExpires.IsZero() {
		t.Fatalf("no %s cookie in the store: %v", cookiesession.DefaultDeviceCookieName, pairs)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	thief := &thiefClient{base: base, cookie: strings.Join(pairs, "; "), client: &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		Timeout:   10 * time.Second,
	}}

	// The copy works until its device cookie expires, then is not logged
	// in.
	var lastOK, firstFail time.Time
	for time.Since(devExpires) < 30*time.Second {
		_, body, err := thief.do(http.MethodGet, "whoami", nil)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		switch strings.TrimSpace(body) {
		case "You are alice.":
			if !firstFail.IsZero() {
				t.Fatalf("the copy worked again at %v after failing at %v", now, firstFail)
			}
			lastOK = now
		case "You are not logged in.":
			if firstFail.IsZero() {
				firstFail = now
			}
		default:
			t.Fatalf("GET /whoami with the copy: %q", body)
		}
		if !firstFail.IsZero() && now.Sub(firstFail) > 2*time.Second {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if lastOK.IsZero() || firstFail.IsZero() {
		t.Fatalf("the copy: last success %v, first failure %v", lastOK, firstFail)
	}
	t.Logf("the copied cookies' last successful request came %v after the device cookie's expiry, the first refused one %v after",
		lastOK.Sub(devExpires).Round(10*time.Millisecond), firstFail.Sub(devExpires).Round(10*time.Millisecond))
	// The cookie's Expires is in whole seconds, as is the sealed expiry.
	if lastOK.Sub(devExpires) > time.Second {
		t.Errorf("the copy worked %v after its device cookie expired", lastOK.Sub(devExpires))
	}
	// Its refresh gets a challenge, which it cannot sign.
	refreshes, _ := events.count("refresh")
	resp, _, err := thief.do(http.MethodPost, "dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": sessionIdentifier(events)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Secure-Session-Challenge") == "" {
		t.Errorf("the copy's refresh: %d, Secure-Session-Challenge %q", resp.StatusCode, resp.Header.Get("Secure-Session-Challenge"))
	}

	// Chromium's own device cookie expired long ago: the next navigation
	// waits for a refresh through the challenge, and is logged in.
	start := time.Now()
	if page := text(base + "whoami"); strings.TrimSpace(page) != "You are alice." {
		t.Fatalf("Chromium after the device cookie expired: %q", page)
	}
	held := time.Since(start)
	ok, failed := events.count("refresh")
	if ok <= refreshes || failed > 0 {
		t.Errorf("refresh events: %d succeeded (%d before), %d failed", ok, refreshes, failed)
	}
	if n := events.usage(network.DeviceBoundSessionWithUsageUsageDeferred); n == 0 {
		t.Error("no request was deferred for a refresh")
	}
	challenges, _ := events.count("challenge")
	t.Logf("DBSC events: creation ok; %d refreshes ok; %d challenge events; %d deferred requests; the navigation held for the refresh took %v",
		ok, challenges, events.usage(network.DeviceBoundSessionWithUsageUsageDeferred), held.Round(time.Millisecond))
}

// sessionIdentifier returns the DBSC session identifier that the events
// report.
func sessionIdentifier(d *dbscEvents) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ev := range d.events {
		if ev.SessionID != "" {
			return ev.SessionID
		}
	}
	return ""
}
