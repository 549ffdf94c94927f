package fleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

const (
	instances = 3
	clients   = 64
	// lag is the time between the updates of two instances' key files.
	lag = 2 * time.Second
	// quiet is how long the old key must open nothing on every instance
	// before it is disabled.
	quiet = 2 * time.Second
	// scheduleIn is how far ahead the one-step rotation promotes the new
	// key: later than the last copy's update (2 × lag) plus a poll.
	scheduleIn = 3*lag + 2*time.Second
)

func TestFleetRotation(t *testing.T) {
	began := time.Now()
	bin := t.TempDir()
	demo := build(t, bin, "github.com/cookiesession/cookiesession/examples/demo")
	cli := build(t, bin, "github.com/cookiesession/cookiesession/cmd/cookiesession")
	t.Logf("built the demo and the command in %v", time.Since(began).Round(time.Millisecond))

	k1, k2 := newKey(t), newKey(t)
	text := marshal(t, k1)
	var fleet []*instance
	for i := range instances {
		fleet = append(fleet, startInstance(t, demo, fmt.Sprintf("instance %d", i), text))
	}
	px := startProxy(t, fleet)
	base := mustURL(t, px.srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	l := startLoad(ctx, base, clients)
	defer func() { cancel(); l.wg.Wait() }()

	// phase checks one phase: the clients' counts since its start, and,
	// unless the phase may lose sessions, that none was lost.
	var summary []string
	phase := func(name string, start time.Time, from counts, mayLose bool) counts {
		t.Helper()
		now := l.tally.read()
		c := now.minus(from)
		d := time.Since(start)
		line := fmt.Sprintf("%-30s %5.1fs  %6.0f requests/s  %v", name, d.Seconds(), float64(c.requests)/d.Seconds(), c)
		summary = append(summary, line)
		t.Log(line)
		if c.failed != 0 || (!mayLose && (c.reset != 0 || c.wrong != 0)) {
			t.Fatalf("%s: %v", name, c)
		}
		return now
	}
	// rollout writes text to each instance's key file in turn, lag apart,
	// as the kubelet would.
	rollout := func(text string, to ...*instance) {
		for i, in := range to {
			if i > 0 {
				<-time.After(lag)
			}
			in.keys.write(t, text)
		}
	}
	// everywhere waits until every instance reports key id in state.
	everywhere := func(id cookiesession.KeyID, state string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("key %v %s on every instance", id, state), 5*time.Second, func() bool {
			for _, in := range fleet {
				if in.debugKeys(t)[id.String()].state != state {
					return false
				}
			}
			return true
		})
	}
	// resealed waits until every client has been answered after t, and
	// checks that every session is now sealed under key id.
	resealed := func(text string, id cookiesession.KeyID, after time.Time) string {
		t.Helper()
		waitFor(t, "a request from every client", 5*time.Second, func() bool { return l.allSince(after) })
		n, err := l.sealedUnder(text, id)
		if err != nil || n != clients {
			t.Fatalf("%d of %d sessions sealed under %v (%v)", n, clients, id, err)
		}
		return fmt.Sprintf("%-30s %d of %d sessions sealed under the new key", "", n, clients)
	}

	start := time.Now()
	waitFor(t, "every client's first visit", 10*time.Second, func() bool { return l.allSince(start) })
	mark := phase("warm-up", start, counts{}, false)

	// The staged rotation: add k2 everywhere, then promote it everywhere.
	start = time.Now()
	text = marshal(t, k1, k2)
	rollout(text, fleet...)
	everywhere(k2.ID(), "decrypt-only")
	mark = phase("staged: add", start, mark, false)

	start = time.Now()
	text = marshal(t, k2, k1)
	rollout(text, fleet...)
	everywhere(k2.ID(), "primary")
	note := resealed(text, k2.ID(), time.Now())
	mark = phase("staged: promote", start, mark, false)
	summary = append(summary, note)

	// Retire k1 once it has opened nothing for a while on any instance.
	start = time.Now()
	waitQuiet(t, fleet, k1.ID())
	text = strings.Replace(text, k1.ID().String()+":decrypt-only", k1.ID().String()+":disabled", 1)
	rollout(text, fleet...)
	everywhere(k1.ID(), "disabled")
	<-time.After(time.Second) // requests under the old keyring and the new
	mark = phase("retire the old key", start, mark, false)

	// The one-step rotation, as "cookiesession rotate -schedule" writes it.
	start = time.Now()
	cur := filepath.Join(bin, "keys.txt")
	if err := os.WriteFile(cur, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cli, "rotate", "-schedule", scheduleIn.String(), "-lifetime", "1h", "-f", cur, "-o", cur).CombinedOutput()
	if err != nil {
		t.Fatalf("rotate -schedule: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	b, err := os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	text = string(b)
	k3, promoteAt := scheduled(t, text)
	rollout(text, fleet...)
	everywhere(k3, "decrypt-only")
	if left := time.Until(promoteAt); left < pollInterval {
		t.Fatalf("the last copy was loaded %v before the promotion; make scheduleIn longer", left)
	}
	for _, in := range fleet {
		if k := in.debugKeys(t)[k3.String()]; k.seals != 0 {
			t.Fatalf("%s sealed under %v before its promotion", in.name, k3)
		}
	}
	held := fmt.Sprintf("%-30s every instance held the new key, decrypt-only, %.1fs before its promotion", "", time.Until(promoteAt).Seconds())
	<-time.After(time.Until(promoteAt))
	everywhere(k3, "primary")
	note = resealed(text, k3, promoteAt)
	mark = phase("one-step, scheduled", start, mark, false)
	summary = append(summary, held, note)

	// The control: a key promoted on one instance before the others have
	// it. Sessions it seals do not open on the others, and the clients see
	// their counters reset.
	start = time.Now()
	k4 := newKey(t)
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Add(k4); err != nil {
		t.Fatal(err)
	}
	if err := kr.Promote(k4.ID()); err != nil {
		t.Fatal(err)
	}
	rollout(kr.Marshal(), fleet[0])
	waitFor(t, "the control key on instance 0", 5*time.Second, func() bool {
		return fleet[0].debugKeys(t)[k4.ID().String()].state == "primary"
	})
	<-time.After(2 * time.Second)
	c := l.tally.read().minus(mark)
	phase("control: promote on one", start, mark, true)
	if c.reset == 0 {
		t.Fatalf("the control lost no session (%v): the test cannot see lost sessions", c)
	}
	summary = append(summary, fmt.Sprintf("%-30s detected: %d counters reset by the premature promotion", "", c.reset))

	cancel()
	l.wg.Wait()
	t.Logf("%d instances, %d clients, key files updated %v apart, polled every %v; run took %v:\n%s",
		instances, clients, lag, pollInterval, time.Since(began).Round(time.Second), strings.Join(summary, "\n"))
}

// waitQuiet waits until key id has opened nothing on any instance for
// quiet.
func waitQuiet(t *testing.T, fleet []*instance, id cookiesession.KeyID) {
	t.Helper()
	var last uint64
	changed := time.Now()
	waitFor(t, fmt.Sprintf("key %v to open nothing for %v", id, quiet), 20*time.Second, func() bool {
		var opens uint64
		for _, in := range fleet {
			opens += in.debugKeys(t)[id.String()].opens
		}
		if opens != last {
			last, changed = opens, time.Now()
		}
		return time.Since(changed) >= quiet
	})
}

// scheduled returns the key that text schedules to become primary, and when.
func scheduled(t *testing.T, text string) (cookiesession.KeyID, time.Time) {
	t.Helper()
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kr.Stats() {
		if !k.PrimaryFrom.IsZero() {
			return k.ID, k.PrimaryFrom
		}
	}
	t.Fatalf("no promotion scheduled in %q", kr)
	return 0, time.Time{}
}

func newKey(t *testing.T) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// marshal returns the text of a keyring of primary and decrypt-only keys.
func marshal(t *testing.T, primary cookiesession.Key, others ...cookiesession.Key) string {
	t.Helper()
	kr, err := cookiesession.NewKeyring(primary, others...)
	if err != nil {
		t.Fatal(err)
	}
	return "# fleet test keys\n" + kr.Marshal() + "\n"
}
