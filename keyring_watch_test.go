package cookiesession

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memSource is a KeySource whose text and error tests set.
type memSource struct {
	mu      sync.Mutex
	text    string
	err     error
	fetches int
}

func (s *memSource) set(text string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text, s.err = text, err
}

func (s *memSource) fetch(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	return s.text, s.err
}

// watchLog records what Watch reports.
type watchLog struct {
	mu      sync.Mutex
	errs    []error
	changes int
}

func (l *watchLog) config(interval time.Duration) WatchConfig {
	return WatchConfig{
		Interval: interval,
		ErrorHook: func(err error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.errs = append(l.errs, err)
		},
		OnChange: func(*Keyring) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.changes++
		},
	}
}

func (l *watchLog) take() ([]error, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs, n := l.errs, l.changes
	l.errs, l.changes = nil, 0
	return errs, n
}

func TestWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := testKey(t, 1, 1), testKey(t, 2, 2), testKey(t, 3, 3)
		text := func(ks ...Key) string {
			kr, err := NewKeyring(ks[0], ks[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			return kr.Marshal()
		}
		// advance moves the bubble's fake clock on and lets Watch run.
		advance := func(d time.Duration) {
			<-time.After(d)
			synctest.Wait()
		}
		kr, err := ParseKeyring(text(a))
		if err != nil {
			t.Fatal(err)
		}
		src := &memSource{text: text(a)}
		var log watchLog
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- kr.Watch(ctx, src.fetch, log.config(time.Second)) }()
		synctest.Wait()

		check := func(step string, want []KeyInfo, wantErrs []string, wantChanges int) {
			t.Helper()
			if diff := cmp.Diff(want, kr.Keys()); diff != "" {
				t.Fatalf("%s: keys (-want +got):\n%s", step, diff)
			}
			errs, changes := log.take()
			if len(errs) != len(wantErrs) || changes != wantChanges {
				t.Fatalf("%s: errors %v, %d changes; want %d errors, %d changes", step, errs, changes, len(wantErrs), wantChanges)
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), wantErrs[i]) {
					t.Fatalf("%s: error %q lacks %q", step, e, wantErrs[i])
				}
			}
		}
		check("first fetch, same keys", []KeyInfo{{1, KeyPrimary}}, nil, 0)

		src.set(text(a, b), nil)
		advance(999 * time.Millisecond)
		check("before the interval", []KeyInfo{{1, KeyPrimary}}, nil, 0)
		advance(time.Millisecond)
		check("after the interval", []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, nil, 1)

		advance(5 * time.Second)
		check("unchanged text", []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, nil, 0)

		// A bad text is reported once, and the last good keys stay.
		bad := strings.Replace(text(a, b), "primary", "decrypt-only", 1)
		src.set(bad, nil)
		advance(3 * time.Second)
		check("bad text", []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, []string{"keeping the keys in use: cookiesession: invalid keyring: no primary key"}, 0)
		secret := bad[strings.LastIndexByte(bad, ':')+1:]
		src.set("", errors.New("secret store unavailable"))
		advance(2 * time.Second)
		check("source errors", []KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}},
			[]string{"secret store unavailable", "secret store unavailable"}, 0)

		// Comments and a new order are a new text, but the same keys.
		src.set("# staged rotation, step 2\n"+text(b, a, c), nil)
		advance(time.Second)
		check("promoted", []KeyInfo{{2, KeyPrimary}, {1, KeyDecryptOnly}, {3, KeyDecryptOnly}}, nil, 1)
		src.set("# a comment changes the text, not the keys\n"+text(b, a, c), nil)
		advance(time.Second)
		check("comment only", []KeyInfo{{2, KeyPrimary}, {1, KeyDecryptOnly}, {3, KeyDecryptOnly}}, nil, 0)

		cancel()
		synctest.Wait()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch returned %v, want context.Canceled", err)
		}
		fetches := src.fetches
		advance(time.Minute)
		if src.fetches != fetches {
			t.Fatal("Watch fetched after its context ended")
		}
		for _, e := range log.errs {
			if strings.Contains(e.Error(), secret) {
				t.Fatalf("error %q quotes key material", e)
			}
		}
	})
}

// TestWatchSchedule follows a one-step rotation: the instance learns of the
// new key as decrypt-only and switches at the scheduled time, by its clock.
func TestWatchSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := testKey(t, 1, 1), testKey(t, 2, 2)
		kr, err := NewKeyring(a)
		if err != nil {
			t.Fatal(err)
		}
		src := &memSource{text: kr.Marshal()}
		var log watchLog
		go kr.Watch(t.Context(), src.fetch, log.config(5*time.Second))

		next, _ := NewKeyring(a, b)
		start := time.Now() // the bubble's clock: the keyring's default
		if err := next.PromoteAt(2, start.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		<-time.After(10 * time.Second)
		src.set(next.Marshal(), nil)
		<-time.After(5 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff([]KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}, kr.Keys()); diff != "" {
			t.Fatalf("after the reload (-want +got):\n%s", diff)
		}
		<-time.After(time.Until(start.Add(time.Minute)) - time.Nanosecond)
		if kr.Primary() != 1 {
			t.Fatal("promoted early")
		}
		<-time.After(time.Nanosecond)
		if kr.Primary() != 2 {
			t.Fatalf("at the scheduled time the primary is %v", kr.Primary())
		}
	})
}

func TestWatchConfig(t *testing.T) {
	var kr Keyring
	if err := kr.Watch(t.Context(), nil, WatchConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil source: %v", err)
	}
	src := (&memSource{}).fetch
	if err := kr.Watch(t.Context(), src, WatchConfig{Interval: -time.Second}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("negative interval: %v", err)
	}
}

// TestWatchRemovalReadTwice runs the watcher half of issue 19 item 3: a
// key file read mid-write parses as a valid keyring without one key. A
// text that removes a key loads only when two fetches in a row, one
// interval apart, read it; one that adds keys loads at once.
func TestWatchRemovalReadTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		full, partial := hiccupTexts(t)
		kr, err := ParseKeyring(full)
		if err != nil {
			t.Fatal(err)
		}
		src := &memSource{text: full}
		var log watchLog
		go kr.Watch(t.Context(), src.fetch, log.config(time.Second))
		synctest.Wait()
		both := []KeyInfo{{2, KeyPrimary}, {1, KeyDecryptOnly}}
		only2 := []KeyInfo{{2, KeyPrimary}}
		step := func(name string, text string, err error, want []KeyInfo, wantErrs, wantChanges int) {
			t.Helper()
			src.set(text, err)
			<-time.After(time.Second) // the bubble's clock: one interval
			synctest.Wait()
			if diff := cmp.Diff(want, kr.Keys()); diff != "" {
				t.Fatalf("%s: keys (-want +got):\n%s", name, diff)
			}
			if errs, changes := log.take(); len(errs) != wantErrs || changes != wantChanges {
				t.Fatalf("%s: errors %v and %d changes, want %d and %d", name, errs, changes, wantErrs, wantChanges)
			}
		}
		step("hiccup: the file read mid-write", partial, nil, both, 0, 0)
		step("the whole file again", full, nil, both, 0, 0)
		step("a removal, read once", partial, nil, both, 0, 0)
		step("the same removal, read again", partial, nil, only2, 0, 1)
		step("an addition loads at once", full, nil, both, 0, 1)
		step("a removal, read once", partial, nil, both, 0, 0)
		step("the source fails in between", "", errors.New("unavailable"), both, 1, 0)
		step("the removal after the failure counts as read once", partial, nil, both, 0, 0)
		step("and loads when read again", partial, nil, only2, 0, 1)
		// Other key material under a known ID is a removal too.
		other, _ := NewKeyring(testKey(t, 2, 9))
		step("key 2 with other material, read once", other.Marshal(), nil, only2, 0, 0)
		if !slices.Equal(kr.snap.Load().byID[2].key.material(), testKey(t, 2, 2).material()) {
			t.Fatal("key 2's material changed after one read")
		}
		step("key 2 with other material, read again", other.Marshal(), nil, only2, 0, 1)
		if !slices.Equal(kr.snap.Load().byID[2].key.material(), testKey(t, 2, 9).material()) {
			t.Fatal("key 2's material did not change after two reads")
		}
	})
}

// TestWatchReportsPromotion runs issue 20's last item: a promotion
// scheduled in the keyring takes effect with no new text. Watch wakes at
// its time (not at the next poll, an hour away), tells OnChange once with
// the new primary in place, and logs it once with both key IDs.
func TestWatchReportsPromotion(t *testing.T) {
	for _, custom := range []bool{true, false} {
		t.Run(fmt.Sprintf("OnChange set %v", custom), func(t *testing.T) {
			var logged lockedBuffer
			old := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
			t.Cleanup(func() { slog.SetDefault(old) })
			synctest.Test(t, func(t *testing.T) {
				kr, err := NewKeyring(testKey(t, 1, 1), testKey(t, 2, 2))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now() // the bubble's clock, which the keyring reads
				if err := kr.PromoteAt(2, start.Add(90*time.Second)); err != nil {
					t.Fatal(err)
				}
				src := &memSource{text: kr.Marshal()}
				var mu sync.Mutex
				var told []KeyID // the primary at each OnChange
				cfg := WatchConfig{Interval: time.Hour}
				if custom {
					cfg.OnChange = func(kr *Keyring) {
						mu.Lock()
						defer mu.Unlock()
						told = append(told, kr.Primary())
					}
				}
				// toldNow and fetches read what Watch's goroutine wrote.
				toldNow := func() []KeyID {
					mu.Lock()
					defer mu.Unlock()
					return slices.Clone(told)
				}
				fetches := func() int {
					src.mu.Lock()
					defer src.mu.Unlock()
					return src.fetches
				}
				go kr.Watch(t.Context(), src.fetch, cfg)
				<-time.After(90*time.Second - time.Nanosecond)
				synctest.Wait()
				if len(toldNow()) != 0 || strings.Contains(logged.String(), "promotion") {
					t.Fatalf("before the promotion: told %v, logged %q", toldNow(), logged.String())
				}
				<-time.After(time.Nanosecond)
				synctest.Wait()
				lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], "scheduled promotion took effect") ||
					!strings.Contains(lines[0], "primary=00000002") || !strings.Contains(lines[0], "previous=00000001") {
					t.Fatalf("at the promotion, logged %q", logged.String())
				}
				if custom && !slices.Equal(toldNow(), []KeyID{2}) {
					t.Fatalf("at the promotion, OnChange saw primaries %v, want [2]", toldNow())
				}
				if n := fetches(); n != 1 {
					t.Fatalf("%d fetches, want 1: the promotion needs no fetch", n)
				}
				// Once per instance: later polls say nothing more, and a
				// change made through the keyring's methods is not a
				// scheduled promotion.
				<-time.After(3 * time.Hour)
				if err := kr.Promote(1); err != nil {
					t.Fatal(err)
				}
				<-time.After(3 * time.Hour)
				synctest.Wait()
				if n := strings.Count(logged.String(), "promotion"); n != 1 || custom && len(toldNow()) != 1 {
					t.Fatalf("after more polls: %d promotions logged, OnChange told %v", n, toldNow())
				}
			})
		})
	}
}

// lockedBuffer is a bytes.Buffer for a logger that another goroutine
// writes to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
