package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cookiesession/cookiesession"
)

// tally counts what the clients saw. Every field only grows.
type tally struct {
	requests atomic.Int64
	failed   atomic.Int64 // transport errors and statuses other than 200
	reset    atomic.Int64 // a counter back at 1: the session was lost
	wrong    atomic.Int64 // any other count than the one expected
}

type counts struct{ requests, failed, reset, wrong int64 }

func (t *tally) read() counts {
	return counts{t.requests.Load(), t.failed.Load(), t.reset.Load(), t.wrong.Load()}
}

func (c counts) minus(d counts) counts {
	return counts{c.requests - d.requests, c.failed - d.failed, c.reset - d.reset, c.wrong - d.wrong}
}

func (c counts) String() string {
	return fmt.Sprintf("%d requests, %d failed, %d counters reset, %d counters wrong", c.requests, c.failed, c.reset, c.wrong)
}

// client is one browser: its own cookie jar and visit counter.
type client struct {
	http  *http.Client
	jar   *cookiejar.Jar
	visit int          // the count the server last answered
	last  atomic.Int64 // when the last request that succeeded started (Unix ns)
}

// clientPace is the time between the starts of one client's requests. It
// keeps the test from taking both cores of a small CI machine.
const clientPace = 20 * time.Millisecond

// load runs n clients against base until ctx is done.
type load struct {
	base    *url.URL
	clients []*client
	tally   tally
	wg      sync.WaitGroup
}

func startLoad(ctx context.Context, base *url.URL, n int) *load {
	l := &load{base: base}
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	for range n {
		jar, _ := cookiejar.New(nil)
		c := &client{http: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}, jar: jar}
		l.clients = append(l.clients, c)
		l.wg.Go(func() { l.run(ctx, c) })
	}
	return l
}

func (l *load) run(ctx context.Context, c *client) {
	tick := time.NewTicker(clientPace)
	defer tick.Stop()
	visits := l.base.JoinPath("visits").String()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		n, err := c.get(ctx, visits)
		if ctx.Err() != nil {
			return // the test is over; this request does not count
		}
		l.tally.requests.Add(1)
		switch {
		case err != nil:
			l.tally.failed.Add(1)
		case n == c.visit+1:
			c.last.Store(start.UnixNano())
		case n == 1:
			l.tally.reset.Add(1)
		default:
			l.tally.wrong.Add(1)
		}
		if err == nil {
			c.visit = n
		}
	}
}

// get fetches /visits and returns the count in its answer.
func (c *client) get(ctx context.Context, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	s, ok := strings.CutPrefix(string(b), "You have visited this page ")
	s, ok2 := strings.CutSuffix(s, " times.\n")
	n, err := strconv.Atoi(s)
	if !ok || !ok2 || err != nil {
		return 0, fmt.Errorf("answer %q", b)
	}
	return n, nil
}

// allSince reports whether every client has had a request answered that
// started after t.
func (l *load) allSince(t time.Time) bool {
	for _, c := range l.clients {
		if c.last.Load() <= t.UnixNano() {
			return false
		}
	}
	return true
}

// sealedUnder counts the clients whose session cookie opens with a
// keyring that holds key id alone: the sessions sealed under that key.
func (l *load) sealedUnder(keyringText string, id cookiesession.KeyID) (int, error) {
	only, err := onlyKey(keyringText, id)
	if err != nil {
		return 0, err
	}
	m, err := cookiesession.New(only, cookiesession.Config{}) // the demo's cookies: Secure, named __Host-session
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range l.clients {
		var pairs []string
		for _, ck := range c.jar.Cookies(l.base) {
			pairs = append(pairs, ck.Name+"="+ck.Value)
		}
		s, err := m.LoadHeader(context.Background(), strings.Join(pairs, "; "))
		if err == nil && !s.IsNew() {
			n++
		}
	}
	return n, nil
}

// onlyKey returns a keyring of key id alone, from keyring text.
func onlyKey(text string, id cookiesession.KeyID) (*cookiesession.Keyring, error) {
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
		p := strings.Split(f, ":")
		if len(p) >= 4 && p[0] == "csk1" && p[1] == id.String() {
			return cookiesession.ParseKeyring("csk1:" + p[1] + ":primary:" + p[3])
		}
	}
	return nil, fmt.Errorf("no key %v in the keyring", id)
}
