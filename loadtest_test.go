package cookiesession

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load test (issue 7): 64 clients, each with its own cookie jar,
// increment their own session counter hdLoadRequests times, one request
// after another, against an httptest server on loopback, while the keyring
// rotates in stages under them. It is bounded in requests (64 × 100) and in
// time (a context deadline), and asserts no timing. The file also holds the
// other test over a real loopback server: net/http's own header limit.
const (
	hdLoadClients  = 64
	hdLoadRequests = 100
	hdLoadTimeout  = 2 * time.Minute
)

// Rotation stages, advanced by hdRotation.after.
const (
	hdStageOld      = iota // key A primary
	hdStageAdded           // key B added, decrypt-only
	hdStagePromoted        // key B primary, A decrypt-only
	hdStageDisabled        // key A disabled
)

// hdRotation rotates keys from A to B as the load goes on: it adds B after
// a quarter of all requests, promotes it after half, and disables A once
// every client has finished a request that started after the promotion.
// Each such request re-sealed the client's session under B, and a client
// sends nothing in between, so from then on no live session needs A.
type hdRotation struct {
	t        *testing.T
	kr       *Keyring
	a, b     Key
	jars     []*cookiejar.Jar
	u        *url.URL
	stage    atomic.Int32
	total    atomic.Int64 // requests finished
	promoted chan struct{}
	disabled chan struct{}

	mu       sync.Mutex
	migrated []bool // client finished a request started at hdStagePromoted or later
	left     int    // clients not yet migrated
	after    int64  // requests finished that started after A was disabled
}

// finished records a finished request of client c that started at stage.
func (r *hdRotation) finished(c int, stage int32) {
	total := r.total.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if stage >= hdStagePromoted && !r.migrated[c] {
		r.migrated[c] = true
		r.left--
	}
	if stage == hdStageDisabled {
		r.after++
	}
	const all = hdLoadClients * hdLoadRequests
	for {
		switch st := r.stage.Load(); {
		case st == hdStageOld && total >= all/4:
			r.step(r.kr.Add(r.b), "Add")
		case st == hdStageAdded && total >= all/2:
			r.step(r.kr.Promote(r.b.ID()), "Promote")
			close(r.promoted)
		case st == hdStagePromoted && r.left == 0:
			r.checkJars()
			r.step(r.kr.Disable(r.a.ID()), "Disable")
			close(r.disabled)
		default:
			return
		}
	}
}

func (r *hdRotation) step(err error, what string) {
	if err != nil {
		r.t.Errorf("rotation: %s: %v", what, err)
	}
	r.stage.Add(1)
}

// checkJars checks, just before A is disabled, that every client holds a
// session cookie sealed under B.
func (r *hdRotation) checkJars() {
	for c, jar := range r.jars {
		var id KeyID
		for _, ck := range jar.Cookies(r.u) {
			if raw, err := base64.RawURLEncoding.DecodeString(ck.Value); ck.Name == DefaultPlainName && err == nil && len(raw) >= 6 {
				id = KeyID(binary.BigEndian.Uint32(raw[2:6]))
			}
		}
		if id != r.b.ID() {
			r.t.Errorf("client %d: before disabling key A, its session cookie is under key %v, want B (%v)", c, id, r.b.ID())
		}
	}
}

// hdLoadResult counts what went wrong across all clients.
type hdLoadResult struct {
	errors       atomic.Int64 // transport errors and non-200 answers
	lost         atomic.Int64 // a request after the first found a new session
	wrongCounter atomic.Int64 // the counter was not the number of requests so far
	final        []int        // each client's last counter
}

func TestLoadRotation(t *testing.T) {
	ka, kb := testKey(t, 0xa, 10), testKey(t, 0xb, 20)
	kr, err := NewKeyring(ka)
	if err != nil {
		t.Fatal(err)
	}
	var hookCalls atomic.Int64
	m, err := New(kr, Config{Insecure: true, ErrorHook: func(r *http.Request, err error) {
		if hookCalls.Add(1) <= 5 {
			t.Errorf("ErrorHook: %s %s: %v", r.Method, r.URL, err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		n, _, err := Get[int](s, "n")
		if err == nil {
			err = s.Set("n", n+1)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %t", n+1, s.IsNew())
	})))
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = hdLoadClients
	defer tr.CloseIdleConnections()
	u, _ := url.Parse(srv.URL) // the server's own URL parses

	rot := &hdRotation{t: t, kr: kr, a: ka, b: kb, u: u, promoted: make(chan struct{}), disabled: make(chan struct{}),
		migrated: make([]bool, hdLoadClients), left: hdLoadClients}
	for range hdLoadClients {
		jar, _ := cookiejar.New(nil) // fails only for bad options
		rot.jars = append(rot.jars, jar)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hdLoadTimeout)
	defer cancel()
	res := &hdLoadResult{final: make([]int, hdLoadClients)}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range hdLoadClients {
		wg.Go(func() {
			hdLoadClient(ctx, t, &http.Client{Transport: tr, Jar: rot.jars[c]}, srv.URL, c, rot, res)
		})
	}
	wg.Wait()
	elapsed := time.Since(start) // monotonic
	total := rot.total.Load()
	t.Logf("%d clients × %d requests: %d requests in %v, %.0f requests/s; errors %d, sessions lost %d, wrong counters %d, ErrorHook calls %d",
		hdLoadClients, hdLoadRequests, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		res.errors.Load(), res.lost.Load(), res.wrongCounter.Load(), hookCalls.Load())

	if ctx.Err() != nil {
		t.Fatalf("the load did not finish within %v", hdLoadTimeout)
	}
	if res.errors.Load() != 0 || res.lost.Load() != 0 || res.wrongCounter.Load() != 0 || hookCalls.Load() != 0 {
		t.Errorf("errors %d, sessions lost %d, wrong counters %d, ErrorHook calls %d: want all 0",
			res.errors.Load(), res.lost.Load(), res.wrongCounter.Load(), hookCalls.Load())
	}
	for c, n := range res.final {
		if n != hdLoadRequests {
			t.Errorf("client %d: counter %d after %d requests", c, n, hdLoadRequests)
		}
	}
	if total != hdLoadClients*hdLoadRequests {
		t.Errorf("%d requests finished, want %d", total, hdLoadClients*hdLoadRequests)
	}
	want := []KeyInfo{{ka.ID(), KeyDisabled}, {kb.ID(), KeyPrimary}}
	if got := kr.Keys(); fmt.Sprint(got) != fmt.Sprint(want) || rot.stage.Load() != hdStageDisabled {
		t.Errorf("after the run: stage %d, keys %v, want stage %d, keys %v", rot.stage.Load(), got, hdStageDisabled, want)
	}
	if rot.after < 2*hdLoadClients {
		t.Errorf("%d requests ran after key A was disabled, want at least %d", rot.after, 2*hdLoadClients)
	}
}

// hdLoadClient sends client c's requests, one after another. Before its
// fifth-last request it waits for the promotion, and before its second-last
// for the disabling, so that every stage happens while all clients are
// still sending; either wait ends with the context.
func hdLoadClient(ctx context.Context, t *testing.T, client *http.Client, base string, c int, rot *hdRotation, res *hdLoadResult) {
	for i := range hdLoadRequests {
		var wait chan struct{}
		switch i {
		case hdLoadRequests - 5:
			wait = rot.promoted
		case hdLoadRequests - 2:
			wait = rot.disabled
		}
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
		stage := rot.stage.Load()
		n, isNew, err := hdLoadGet(ctx, client, base+"/count")
		if err != nil {
			if res.errors.Add(1) <= 5 {
				t.Errorf("client %d request %d: %v", c, i, err)
			}
			if ctx.Err() != nil {
				return
			}
			continue
		}
		if i > 0 && isNew {
			res.lost.Add(1)
		}
		if n != i+1 {
			if res.wrongCounter.Add(1) <= 5 {
				t.Errorf("client %d request %d: counter %d, want %d", c, i, n, i+1)
			}
		}
		res.final[c] = n
		rot.finished(c, stage)
	}
}

// hdLoadGet sends a GET and parses the handler's "<counter> <is new>".
func hdLoadGet(ctx context.Context, client *http.Client, u string) (int, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("status %d: %q", resp.StatusCode, body)
	}
	count, isNew, ok := strings.Cut(string(body), " ")
	n, err := strconv.Atoi(count)
	if !ok || err != nil {
		return 0, false, fmt.Errorf("body %q", body)
	}
	return n, isNew == "true", nil
}

// TestTamperHeaderTooLarge sends Cookie headers just under and over
// net/http's own limit (http.DefaultMaxHeaderBytes, 1 MiB, plus the 4096
// bytes of slack the server allows) to a real server. Over it, the server
// answers 431 without calling the handler; just under it, the middleware
// gets the header and rejects the oversized value as ErrTooLarge.
func TestTamperHeaderTooLarge(t *testing.T) {
	e := hdNew(t, Config{})
	var calls atomic.Int64
	c := new(hdErrs)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		e.h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), hdHookKey{}, c)))
	}))
	defer srv.Close()
	tests := []struct {
		name   string
		size   int // of the Cookie header's value
		status int
		calls  int64
		want   error
	}{
		{"1.1 MiB", 1<<20 + 100<<10, http.StatusRequestHeaderFieldsTooLarge, 0, nil},
		{"just under 1 MiB", 1<<20 - 1024, http.StatusOK, 1, ErrTooLarge},
	}
	for _, tt := range tests {
		calls.Store(0)
		c.errs = nil
		status := hdRawGet(t, srv.Listener.Addr().String(), "session="+strings.Repeat("A", tt.size-len("session=")))
		c.mu.Lock()
		errs := c.errs
		c.mu.Unlock()
		if status != tt.status || calls.Load() != tt.calls {
			t.Errorf("%s: status %d after %d handler calls, want %d after %d", tt.name, status, calls.Load(), tt.status, tt.calls)
		}
		if got := hdSentinel(errs); (tt.want == nil && len(errs) != 0) || (tt.want != nil && got != tt.want) {
			t.Errorf("%s: ErrorHook got %v, want %v", tt.name, errs, tt.want)
		}
	}
}

// hdRawGet sends a GET with the given Cookie header over a new connection
// to addr and returns the response status. The connection has a deadline,
// so a server that never answers fails the test instead of hanging it.
func hdRawGet(t *testing.T, addr, cookie string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	done := make(chan struct{})
	go func() {
		// The server may stop reading and close once the header is over
		// its limit; the write error that gives is expected.
		defer close(done)
		w := bufio.NewWriter(conn)
		fmt.Fprintf(w, "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nCookie: %s\r\n\r\n", cookie)
		w.Flush()
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	res.Body.Close()
	conn.Close()
	<-done
	return res.StatusCode
}
