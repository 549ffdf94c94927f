package cookiesession

import (
	"sync"
	"testing"
	"time"
)

// TestKeyStatsUnderReload seals and opens from several goroutines while the
// keyring is reloaded, scheduled and rotated under them: every seal and open
// is counted once, under its key, and no count is lost to a snapshot swap.
// Run it with -race.
func TestKeyStatsUnderReload(t *testing.T) {
	a, b := testKey(t, 1, 1), testKey(t, 2, 2)
	kr, err := NewKeyring(a, b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCodec(kr, &Options{Now: newTestClock(t0).Now})
	if err != nil {
		t.Fatal(err)
	}
	kr.SetClock(newTestClock(t0).Now)
	text := kr.Marshal()
	const workers, rounds = 4, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				v, err := c.Seal("session", 1, time.Unix(t0+3600, 0))
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				if _, err := c.Open("session", v, &n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 200 {
		var err error
		switch i % 3 {
		case 0:
			err = kr.Reload(text)
		case 1:
			err = kr.PromoteAt(2, time.Unix(t0+60, 0)) // later: key 1 stays primary
		case 2:
			err = kr.Add(testKey(t, KeyID(100+i), 3))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	var opens, seals uint64
	for _, k := range kr.Stats() {
		if k.ID != 1 && (k.Opens != 0 || k.Seals != 0) {
			t.Errorf("key %v: %d opens, %d seals; want none", k.ID, k.Opens, k.Seals)
		}
		opens += k.Opens
		seals += k.Seals
	}
	if opens != workers*rounds || seals != workers*rounds {
		t.Fatalf("%d opens and %d seals counted, want %d each", opens, seals, workers*rounds)
	}
}

// BenchmarkKeyCounters is the cost that counting adds to each seal and open:
// an atomic add and a read of the keyring's clock.
func BenchmarkKeyCounters(b *testing.B) {
	kr, err := NewKeyring(testKey(b, 1, 1))
	if err != nil {
		b.Fatal(err)
	}
	e := kr.load().primary
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.opened(0)
		}
	})
}
