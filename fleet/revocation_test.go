package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession/redisstore/redistest"
)

const (
	// bound is the instances' -revocation-bound.
	bound = 2 * time.Second
	// copyPoll is how often the test replays the stolen copies.
	copyPoll = 100 * time.Millisecond
	// outage is how long redis-server stays down: longer than the bound,
	// so that every session's check falls due during it.
	outage = 3 * time.Second
)

// buildRedisDemo builds the demo with its Redis client (examples/demo/_redis)
// into dir, from the repository's root.
func buildRedisDemo(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "demo-redis")
	cmd := exec.Command("go", "build", "-o", out, "-modfile=examples/demo/_redis/demo.mod",
		"-overlay=examples/demo/_redis/overlay.json", "./examples/demo")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the demo's Redis build: %v\n%s", err, b)
	}
	return out
}

// rvTally counts what the logged-in clients saw.
type rvTally struct {
	requests, accepted, refused, failed, wrong atomic.Int64
}

type rvCounts struct{ requests, accepted, refused, failed, wrong int64 }

func (t *rvTally) read() rvCounts {
	return rvCounts{t.requests.Load(), t.accepted.Load(), t.refused.Load(), t.failed.Load(), t.wrong.Load()}
}

func (c rvCounts) minus(d rvCounts) rvCounts {
	return rvCounts{c.requests - d.requests, c.accepted - d.accepted, c.refused - d.refused, c.failed - d.failed, c.wrong - d.wrong}
}

func (c rvCounts) String() string {
	return fmt.Sprintf("%d requests: %d accepted, %d refused (a fresh session), %d failed, %d wrong", c.requests, c.accepted, c.refused, c.failed, c.wrong)
}

// user is one logged-in browser that counts its visits through the proxy.
type user struct {
	name  string
	http  *http.Client
	jar   *cookiejar.Jar
	visit int // the last count of its own session
	stop  atomic.Bool
	last  atomic.Int64 // when its last accepted request started (Unix ns)
}

// run counts visits until ctx is done or u stops. A count that goes on from
// the last one is accepted; a count of 1 is a fresh session (refused).
func (u *user) run(ctx context.Context, base *url.URL, t *rvTally) {
	tick := time.NewTicker(clientPace)
	defer tick.Stop()
	for !u.stop.Load() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		body, status, err := send(ctx, u.http, http.MethodGet, base.JoinPath("visits").String(), "")
		if ctx.Err() != nil || u.stop.Load() {
			return
		}
		t.requests.Add(1)
		n, perr := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(body, "You have visited this page "), " times.\n"))
		switch {
		case err != nil || status != 200 || perr != nil:
			t.failed.Add(1)
		case n == u.visit+1:
			t.accepted.Add(1)
			u.visit = n
			u.last.Store(start.UnixNano())
		case n == 1:
			t.refused.Add(1)
		default:
			t.wrong.Add(1)
		}
	}
}

// send makes one request and returns the body and status.
func send(ctx context.Context, c *http.Client, method, u, cookie string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return "", 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// cookieHeader is the Cookie header u's browser would send to base.
func (u *user) cookieHeader(base *url.URL) string {
	var pairs []string
	for _, c := range u.jar.Cookies(base) {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; ")
}

// TestFleetRevocation runs three instances of the demo's Redis build against
// one redis-server, with 64 logged-in clients behind a round-robin proxy,
// once per failure policy: log out everywhere for half the users on one
// instance, and check that every instance refuses every stolen copy of their
// cookies within the bound plus the replay poll while the other half loses
// nothing; then stop redis-server for longer than the bound, start it again,
// and count what the clients saw, and check that the bound holds again.
func TestFleetRevocation(t *testing.T) {
	srv := redistest.Start(t)
	bin := t.TempDir()
	demo := buildRedisDemo(t, bin)
	text := marshal(t, newKey(t))
	var summary []string
	for _, policy := range []string{"closed", "open"} {
		t.Run("fail-"+policy, func(t *testing.T) {
			summary = append(summary, fleetRevocation(t, srv, demo, text, policy)...)
		})
	}
	t.Logf("%d instances sharing one redis-server, %d logged-in clients, bound %v, stolen copies replayed every %v:\n%s",
		instances, clients, bound, copyPoll, strings.Join(summary, "\n"))
}

func fleetRevocation(t *testing.T, srv *redistest.Server, demo, text, policy string) []string {
	var fleet []*instance
	for i := range instances {
		fleet = append(fleet, startInstance(t, demo, fmt.Sprintf("instance %d", i), text,
			"-redis", srv.URL(), "-revocation-bound", bound.String(), "-revocation-fail", policy))
	}
	px := startProxy(t, fleet)
	base := mustURL(t, px.srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * clients}
	direct := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// Every client logs in as a user of its own, through the proxy.
	var users []*user
	var tally rvTally
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		u := &user{name: fmt.Sprintf("user-%02d", i), jar: jar, http: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}}
		body, status, err := send(ctx, u.http, http.MethodPost, base.JoinPath("login").String()+"?user="+u.name, "")
		if err != nil || status != 200 || body != "Logged in as "+u.name+".\n" {
			t.Fatalf("login %s: %d %q %v", u.name, status, body, err)
		}
		users = append(users, u)
		wg.Go(func() { u.run(ctx, base, &tally) })
	}
	var summary []string
	// Redis counts the commands from here on: the round trips of the
	// warm-up's requests.
	redisCLI(t, srv, "config", "resetstat")
	phase := func(name string, start time.Time, from rvCounts) rvCounts {
		now := tally.read()
		line := fmt.Sprintf("fail %-6s %-34s %5.1fs  %v", policy, name, time.Since(start).Seconds(), now.minus(from))
		summary = append(summary, line)
		t.Log(line)
		return now
	}
	start := time.Now()
	waitFor(t, "a visit from every client", 10*time.Second, func() bool {
		for _, u := range users {
			if u.last.Load() <= start.UnixNano() {
				return false
			}
		}
		return true
	})
	<-time.After(bound) // every session checked at least once
	mark := phase("logged in, warm-up", start, rvCounts{})
	if c := mark; c.refused+c.failed+c.wrong != 0 {
		t.Fatalf("warm-up: %v", c)
	}
	calls := commandCalls(redisCLI(t, srv, "info", "commandstats"))
	summary = append(summary, fmt.Sprintf("fail %-6s %-34s %d checks (EXISTS+GET, one round trip) for %d requests: %.4f round trips per request",
		policy, "", calls["exists"], mark.requests, float64(calls["exists"])/float64(mark.requests)))

	// revoke logs out everywhere, on instance `on`, the users given,
	// having copied their cookies first, then replays every copy on every
	// instance until each is refused. It returns the latest time after its
	// revocation that a replay was sent and accepted, and the latest that
	// the first refused replay was sent.
	revoke := func(who []*user, on *instance) (lastAccepted, firstRefused time.Duration) {
		t.Helper()
		copies := map[*user]string{}
		for _, u := range who {
			copies[u] = u.cookieHeader(base)
		}
		revokedAt := map[*user]time.Time{}
		for _, u := range who {
			u.stop.Store(true)
			revokedAt[u] = time.Now()
			body, status, err := send(ctx, direct, http.MethodPost, on.url.JoinPath("logout-everywhere").String(), copies[u])
			if err != nil || status != 200 || body != "Logged out everywhere.\n" {
				t.Fatalf("logout everywhere for %s on %s: %d %q %v", u.name, on.name, status, body, err)
			}
		}
		type copyAt struct {
			u  *user
			in *instance
		}
		refused := map[copyAt]time.Duration{}
		tick := time.NewTicker(copyPoll)
		defer tick.Stop()
		for len(refused) < len(who)*len(fleet) {
			<-tick.C
			for _, u := range who {
				for _, in := range fleet {
					k := copyAt{u, in}
					sent := time.Now()
					body, status, err := send(ctx, direct, http.MethodGet, in.url.JoinPath("whoami").String(), copies[u])
					if err != nil || status != 200 {
						t.Fatalf("replaying %s's copy on %s: %d %v", u.name, in.name, status, err)
					}
					switch body {
					case "You are not logged in.\n":
						if _, ok := refused[k]; !ok {
							refused[k] = sent.Sub(revokedAt[u])
							firstRefused = max(firstRefused, refused[k])
						}
					case "You are " + u.name + ".\n":
						if d, ok := refused[k]; ok {
							t.Fatalf("%s accepted %s's copy again, after refusing it %v after the revocation", in.name, u.name, d)
						}
						late := sent.Sub(revokedAt[u])
						if late > bound+copyPoll {
							t.Fatalf("%s accepted %s's copy %v after the revocation: bound %v plus poll %v", in.name, u.name, late, bound, copyPoll)
						}
						lastAccepted = max(lastAccepted, late)
					default:
						t.Fatalf("replaying %s's copy on %s: %q", u.name, in.name, body)
					}
				}
			}
		}
		return lastAccepted, firstRefused
	}
	refusedLine := func(what string, lastAccepted, firstRefused time.Duration) string {
		return fmt.Sprintf("fail %-6s %-34s %s: a copy accepted at most %v after its revocation (bound %v + poll %v); every copy refused on all %d instances by %v",
			policy, "", what, lastAccepted.Round(time.Millisecond), bound, copyPoll, instances, firstRefused.Round(time.Millisecond))
	}

	// Log out everywhere for half the users, on instance 0.
	start = time.Now()
	var half, rest []*user
	for i, u := range users {
		if i%2 == 0 {
			half = append(half, u)
		} else {
			rest = append(rest, u)
		}
	}
	revokedCopies := map[*user]string{}
	for _, u := range half {
		revokedCopies[u] = u.cookieHeader(base)
	}
	accepted, refused := revoke(half, fleet[0])
	c := tally.read().minus(mark)
	mark = phase("log out everywhere for 32 users", start, mark)
	summary = append(summary, refusedLine("32 users", accepted, refused))
	if c.refused+c.failed+c.wrong != 0 {
		t.Fatalf("the other half lost something: %v", c)
	}

	// Stop redis-server for longer than the bound, then start it again.
	// Within the first bound some sessions' checks are not due yet; after
	// it every check is due, and the failure policy decides each request.
	start = time.Now()
	srv.Stop()
	<-time.After(bound)
	allDue := tally.read()
	<-time.After(outage - bound)
	down := tally.read()
	c, due := down.minus(mark), down.minus(allDue)
	mark = phase(fmt.Sprintf("redis-server down for %v", outage), start, mark)
	summary = append(summary, fmt.Sprintf("fail %-6s %-34s its last %v, every check due: %v", policy, "", outage-bound, due))
	switch {
	case c.failed+c.wrong != 0:
		t.Errorf("while Redis was down: %v", c)
	case policy == "open" && c.refused != 0:
		t.Errorf("failing open, requests were refused while Redis was down: %v", c)
	case policy == "closed" && (due.refused == 0 || due.accepted*10 > due.requests):
		// Every check is due, so every request is refused; a tenth is
		// left for requests that were in flight when the bound ran out.
		t.Errorf("failing closed, requests were accepted while Redis was down and every check was due: %v", due)
	}
	start = time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitFor(t, "a visit from every client once Redis is back", 10*time.Second, func() bool {
		for _, u := range rest {
			if u.last.Load() <= back.UnixNano() {
				return false
			}
		}
		return true
	})
	<-time.After(bound)
	c = tally.read().minus(mark)
	mark = phase("redis-server back (empty)", start, mark)
	if c.wrong != 0 || c.failed != 0 {
		t.Fatalf("once Redis was back: %v", c)
	}
	// The restarted server has no persistence: the marks are gone.
	again := 0
	for _, u := range half {
		body, _, _ := send(ctx, direct, http.MethodGet, fleet[1].url.JoinPath("whoami").String(), revokedCopies[u])
		if body == "You are "+u.name+".\n" {
			again++
		}
	}
	summary = append(summary, fmt.Sprintf("fail %-6s %-34s %d of %d copies revoked before the restart accepted again: a server without persistence forgets its marks",
		policy, "", again, len(half)))

	// The bound holds again: log out everywhere for 8 more users, on
	// instance 1.
	start = time.Now()
	accepted, refused = revoke(rest[:8], fleet[1])
	phase("log out everywhere for 8 more", start, mark)
	summary = append(summary, refusedLine("Redis back, 8 more users", accepted, refused))
	return summary
}

// redisCLI runs redis-cli against srv, and returns its output.
func redisCLI(t *testing.T, srv *redistest.Server, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(srv.Addr, ":")
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).Output()
	if err != nil {
		t.Fatalf("redis-cli %v: %v", args, err)
	}
	return string(out)
}

// commandCalls returns the calls of each command in INFO commandstats.
func commandCalls(info string) map[string]int64 {
	calls := map[string]int64{}
	for _, l := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		calls[name], _ = strconv.ParseInt(n, 10, 64)
	}
	return calls
}
