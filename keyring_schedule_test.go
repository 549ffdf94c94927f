package cookiesession

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scheduledText is a one-step rotation written as one keyring text: key 1
// is primary until T (t0+600), key 2 is primary from T, and key 1 stops
// opening at D (t0+7200).
func scheduledText(t testing.TB) (text string, T, D int64) {
	t.Helper()
	a, b := testKey(t, 1, 1), testKey(t, 2, 2)
	kr, err := NewKeyring(a, b)
	if err != nil {
		t.Fatal(err)
	}
	T, D = t0+600, t0+7200
	clock := newTestClock(t0)
	kr.SetClock(clock.Now)
	if err := kr.PromoteAt(2, time.Unix(T, 0)); err != nil {
		t.Fatal(err)
	}
	if err := kr.DisableAt(1, time.Unix(D, 0)); err != nil {
		t.Fatal(err)
	}
	return kr.Marshal(), T, D
}

func TestScheduledRotation(t *testing.T) {
	text, T, D := scheduledText(t)
	want := "csk1:00000001:primary:" + strings.Split(testKeyringText(t), ",")[0][len("csk1:00000001:primary:"):] +
		":disabled-from=2026-11-22T02:00:00Z"
	if got := strings.Split(text, ",")[0]; got != want {
		t.Fatalf("first entry %q, want %q", got, want)
	}
	if !strings.HasSuffix(text, ":primary-from=2026-11-22T00:10:00Z") {
		t.Fatalf("second entry of %q lacks its promotion", text)
	}
	kr, err := ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(t0)
	kr.SetClock(clock.Now)
	c, err := NewCodec(kr, &Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	seal := func() string {
		v, err := c.Seal("session", "x", clock.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	open := func(v string) (Info, error) {
		var s string
		return c.Open("session", v, &s)
	}

	steps := []struct {
		at       int64
		keys     []KeyInfo
		sealedBy KeyID
	}{
		{t0, []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, 1},
		{T - 1, []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, 1},
		{T, []KeyInfo{{1, KeyDecryptOnly}, {2, KeyPrimary}}, 2},
		{D - 1, []KeyInfo{{1, KeyDecryptOnly}, {2, KeyPrimary}}, 2},
		{D, []KeyInfo{{1, KeyDisabled}, {2, KeyPrimary}}, 2},
	}
	var before string // a value sealed under key 1 before T
	for _, s := range steps {
		clock.Set(time.Unix(s.at, 0))
		if diff := cmp.Diff(s.keys, kr.Keys()); diff != "" {
			t.Fatalf("at t0%+d: keys (-want +got):\n%s", s.at-t0, diff)
		}
		info, err := open(seal())
		if err != nil || info.KeyID != s.sealedBy || !info.Primary {
			t.Fatalf("at t0%+d: sealed under %v (primary %v), %v; want %v", s.at-t0, info.KeyID, info.Primary, err, s.sealedBy)
		}
		if before == "" {
			before = seal()
			continue
		}
		info, err = open(before)
		switch {
		case s.at < T && (err != nil || !info.Primary):
			t.Fatalf("at t0%+d: old value: primary %v, %v", s.at-t0, info.Primary, err)
		case s.at >= T && s.at < D && (err != nil || info.Primary):
			t.Fatalf("at t0%+d: old value: primary %v, %v; want it open, not primary, so that it is sealed again", s.at-t0, info.Primary, err)
		case s.at >= D && !errors.Is(err, ErrKeyDisabled):
			t.Fatalf("at t0%+d: old value: %v, want ErrKeyDisabled", s.at-t0, err)
		}
	}
	// The text stays as written; the clock only moves the states.
	if kr.Marshal() != text {
		t.Fatalf("Marshal changed with time:\n%s\nwant\n%s", kr.Marshal(), text)
	}
	// A clock that goes back goes back to the earlier states.
	clock.Set(time.Unix(t0, 0))
	if kr.Primary() != 1 {
		t.Fatalf("back at t0: primary %v", kr.Primary())
	}
}

// testKeyringText is the text of keys 1 (primary) and 2.
func testKeyringText(t testing.TB) string {
	kr, err := NewKeyring(testKey(t, 1, 1), testKey(t, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	return kr.Marshal()
}

func TestScheduleChanges(t *testing.T) {
	text, T, D := scheduledText(t)
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	tests := []struct {
		name string
		now  int64
		do   func(kr *Keyring) error
		want string // Marshal afterwards, with "K1" and "K2" for the entries' prefixes
		err  error
	}{
		{"promote now cancels the schedule", t0, func(kr *Keyring) error { return kr.Promote(2) },
			"K1:decrypt-only:disabled-from=2026-11-22T02:00:00Z,K2:primary", nil},
		{"reschedule", t0, func(kr *Keyring) error { return kr.PromoteAt(2, at(T+60)) },
			"K1:primary:disabled-from=2026-11-22T02:00:00Z,K2:decrypt-only:primary-from=2026-11-22T00:11:00Z", nil},
		{"a time is rounded up", t0, func(kr *Keyring) error { return kr.PromoteAt(2, at(T).Add(time.Millisecond)) },
			"K1:primary:disabled-from=2026-11-22T02:00:00Z,K2:decrypt-only:primary-from=2026-11-22T00:10:01Z", nil},
		{"past the promotion, a change starts from the states now", T + 1, func(kr *Keyring) error { return kr.Disable(1) },
			"K1:disabled,K2:primary", nil},
		{"past the promotion, the schedule left stays", T + 1, func(kr *Keyring) error { return kr.Add(testKey(t, 3, 3)) },
			"K1:decrypt-only:disabled-from=2026-11-22T02:00:00Z,K2:primary,K3:decrypt-only", nil},
		{"disable the key scheduled to become primary", t0, func(kr *Keyring) error { return kr.DisableAt(2, at(D)) },
			"", ErrKeyState},
		{"promote the primary at a time", t0, func(kr *Keyring) error { return kr.PromoteAt(1, at(T)) }, "", ErrKeyState},
		{"promotion after the old key's end", t0, func(kr *Keyring) error { return kr.PromoteAt(2, at(D+1)) }, "", ErrInvalidKeyring},
		{"disable the primary with no promotion by then", t0, func(kr *Keyring) error { return kr.DisableAt(1, at(T-1)) }, "", ErrKeyState},
		{"unknown key", t0, func(kr *Keyring) error { return kr.PromoteAt(9, at(T)) }, "", ErrUnknownKey},
		{"time before 1970", t0, func(kr *Keyring) error { return kr.PromoteAt(2, at(-5)) }, "", ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(text)
			if err != nil {
				t.Fatal(err)
			}
			kr.SetClock(newTestClock(tt.now).Now)
			err = tt.do(kr)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("got %v, want %v", err, tt.err)
				}
				if kr.Marshal() != text {
					t.Fatal("a refused change altered the keyring")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := shortText(kr.Marshal()); got != tt.want {
				t.Fatalf("keyring\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// shortText writes keyring text as "K<id>:<state>[:<schedule>]" entries,
// without the key material.
func shortText(text string) string {
	var out []string
	for _, e := range strings.Split(text, ",") {
		p := strings.SplitN(strings.TrimPrefix(e, "csk1:"), ":", 4)
		s := "K" + strings.TrimLeft(p[0], "0") + ":" + p[1]
		if len(p) == 4 {
			s += ":" + p[3]
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func TestKeyStats(t *testing.T) {
	text, T, _ := scheduledText(t)
	kr, err := ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(t0)
	kr.SetClock(clock.Now)
	c, err := NewCodec(kr, &Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for range 3 {
		v, err := c.Seal("session", 1, clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
	}
	clock.Set(time.Unix(T+5, 0))
	for _, v := range vals {
		var n int
		if _, err := c.Open("session", v, &n); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if _, err := c.Open("session", vals[0]+"x", &n); err == nil {
		t.Fatal("a damaged value opened")
	}
	v, err := c.Seal("session", 2, clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open("session", v, &n); err != nil {
		t.Fatal(err)
	}
	ts := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	want := []KeyStats{
		{ID: 1, State: KeyDecryptOnly, DisabledFrom: ts(t0 + 7200), Opens: 3, Seals: 3, LastOpen: ts(T + 5), LastSeal: ts(t0)},
		{ID: 2, State: KeyPrimary, PrimaryFrom: ts(T), Opens: 1, Seals: 1, LastOpen: ts(T + 5), LastSeal: ts(T + 5)},
	}
	if diff := cmp.Diff(want, kr.Stats()); diff != "" {
		t.Fatalf("Stats (-want +got):\n%s", diff)
	}

	// A reload that keeps a key with the same material keeps its counts;
	// new material under the same ID starts again.
	other := testKey(t, 1, 99)
	kr2, err := NewKeyring(testKey(t, 2, 2), other)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Reload(kr2.Marshal()); err != nil {
		t.Fatal(err)
	}
	want = []KeyStats{
		{ID: 2, State: KeyPrimary, Opens: 1, Seals: 1, LastOpen: ts(T + 5), LastSeal: ts(T + 5)},
		{ID: 1, State: KeyDecryptOnly},
	}
	if diff := cmp.Diff(want, kr.Stats()); diff != "" {
		t.Fatalf("Stats after Reload (-want +got):\n%s", diff)
	}
	if got := (&Keyring{}).Stats(); got != nil {
		t.Fatalf("zero Keyring: %v", got)
	}
}

// TestHotPathCost checks that a pending schedule and the counters add no
// allocation to sealing and opening.
func TestHotPathCost(t *testing.T) {
	text, _, _ := scheduledText(t)
	plain := testKeyringText(t)
	allocs := func(text string) (seal, open float64) {
		kr, err := ParseKeyring(text)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCodec(kr, &Options{Now: newTestClock(t0).Now})
		if err != nil {
			t.Fatal(err)
		}
		now, exp := time.Unix(t0, 0), time.Unix(t0+3600, 0)
		payload := []byte(`{"n":1}`)
		buf := make([]byte, 0, 1024)
		seal = testing.AllocsPerRun(100, func() {
			if _, _, err := c.appendSeal(buf[:0], "session", kindValue, payload, now, exp, nil); err != nil {
				t.Fatal(err)
			}
		})
		v, _, _ := c.appendSeal(nil, "session", kindValue, payload, now, exp, nil)
		p := getBuf()
		defer putBuf(p)
		open = testing.AllocsPerRun(100, func() {
			if _, _, err := c.openPayload(p, "session", kindValue, v, 0, c.now().Unix()); err != nil {
				t.Fatal(err)
			}
		})
		return seal, open
	}
	s0, o0 := allocs(plain)
	s1, o1 := allocs(text)
	if s1 != s0 || o1 != o0 {
		t.Fatalf("allocations per seal and open: %v and %v unscheduled, %v and %v with a schedule", s0, o0, s1, o1)
	}
	e := &keyEntry{stats: &keyStats{now: func(int64) int64 { return t0 }}}
	if n := testing.AllocsPerRun(100, func() { e.opened(0); e.sealed(0) }); n != 0 {
		t.Fatalf("counting allocates %v times", n)
	}
}

// TestSpecScheduleExample parses the example file of SPEC.md §10.1, with its
// comment and scheduled rotation.
func TestSpecScheduleExample(t *testing.T) {
	spec, err := readFile("SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(spec, "and as a file, with comments and a scheduled rotation (10.4):\n\n")
	if !ok {
		t.Fatal("SPEC.md no longer has the example file")
	}
	block, _, _ := strings.Cut(after, "\n\n")
	kr, err := ParseKeyring(block)
	if err != nil {
		t.Fatal(err)
	}
	T, _ := time.Parse(time.RFC3339, "2026-12-01T10:00:00Z")
	D, _ := time.Parse(time.RFC3339, "2026-12-15T10:05:00Z")
	want := []KeyStats{
		{ID: 0x5eed0001, State: KeyPrimary, DisabledFrom: D},
		{ID: 0x5eed0002, State: KeyDecryptOnly, PrimaryFrom: T},
	}
	kr.SetClock(func() time.Time { return T.Add(-time.Second) })
	if diff := cmp.Diff(want, kr.Stats()); diff != "" {
		t.Fatalf("before T (-want +got):\n%s", diff)
	}
	kr.SetClock(func() time.Time { return T })
	if kr.Primary() != 0x5eed0002 {
		t.Fatalf("at T the primary is %v", kr.Primary())
	}
}
