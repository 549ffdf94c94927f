// Package revocationtest is a conformance suite for implementations of
// [cookiesession.RevocationStore]. A store's tests call [Run] with a
// [Harness] that makes fresh stores:
//
//	func TestConformance(t *testing.T) {
//		revocationtest.Run(t, revocationtest.Harness{
//			New: func(t *testing.T) cookiesession.RevocationStore { return newStore(t) },
//		})
//	}
//
// # What it checks
//
//   - marks on a session ID and on a subject are kept apart, and apart from
//     other IDs and subjects, whatever bytes a subject holds;
//   - a mark on a subject returns its time to the nanosecond;
//   - a subject revoked twice keeps the later time, in either order, and
//     the later expiry;
//   - clock skew between instances: a time from a clock hours ahead or
//     behind is kept as given, and a mark's expiry counts from when the
//     store received it, not from the time it carries;
//   - marks expire after their TTL, and not before;
//   - concurrent revokes of many IDs and one subject all land;
//   - an invalid argument (an empty ID or subject, a TTL that is not
//     positive) gives an error;
//   - a context already done gives an error, and so does a store whose
//     backend fails, or hangs, within the context's deadline: never a zero
//     answer that would let a revoked session in.
//
// The suite uses the standard library only.
package revocationtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Harness says how to make the stores the suite runs against.
type Harness struct {
	// New returns an empty store. Stores that New returns may share a
	// backend: the suite uses IDs and subjects of its own in each test.
	New func(t *testing.T) cookiesession.RevocationStore
	// Wait lets d pass as the store counts time, for the expiry tests: a
	// store on a fake clock moves it. Default: nil, time.Sleep, which
	// suits a store on a real server.
	Wait func(t *testing.T, d time.Duration)
	// TTL is the time to live of the marks in the expiry tests: long
	// enough for a round trip, short enough to wait for. Default: 1 s.
	TTL time.Duration
	// Broken returns a store whose backend fails at once, such as a
	// client of a closed port. Default: nil, that test is skipped.
	Broken func(t *testing.T) cookiesession.RevocationStore
	// Hung returns a store whose backend takes requests and never
	// answers. Default: nil, that test is skipped.
	Hung func(t *testing.T) cookiesession.RevocationStore
}

// hangLimit is how long past its context's deadline a call to a hung store
// may take before the suite calls it hung too. It is generous: the test is
// for stores that wait for their own, much longer, timeouts.
const hangLimit = 2 * time.Second

// Run runs the suite against the stores h makes.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("revocationtest: Harness.New is nil")
	}
	if h.Wait == nil {
		h.Wait = func(_ *testing.T, d time.Duration) { time.Sleep(d) }
	}
	if h.TTL == 0 {
		h.TTL = time.Second
	}
	run := uniq()
	name := func(t *testing.T, s string) string { return run + "/" + t.Name() + "/" + s }
	t.Run("Empty", func(t *testing.T) {
		st := h.New(t)
		want(t, st, id(name(t, "a")), name(t, "alice"), false, time.Time{})
	})
	t.Run("SessionAndSubjectApart", func(t *testing.T) {
		st := h.New(t)
		a, b := id(name(t, "a")), id(name(t, "b"))
		alice, bob := name(t, "alice"), name(t, "bob")
		before := time.Unix(1795305600, 123456789)
		must(t, st.RevokeSession(t.Context(), a, time.Hour))
		must(t, st.RevokeSubject(t.Context(), alice, before, time.Hour))
		want(t, st, a, bob, true, time.Time{})
		want(t, st, b, alice, false, before)
		want(t, st, b, bob, false, time.Time{})
		// A subject spelled as the ID is another subject.
		want(t, st, b, a, false, time.Time{})
	})
	t.Run("SubjectBytes", func(t *testing.T) {
		st := h.New(t)
		before := time.Unix(1795305600, 1)
		odd := []string{"a:b", "{slot}", "x y", "é", "\x00\xff", strings.Repeat("s", 256), "*", "u:" + id("c")}
		for i, s := range odd {
			must(t, st.RevokeSubject(t.Context(), name(t, s), before.Add(time.Duration(i)), time.Hour))
		}
		for i, s := range odd {
			want(t, st, id(name(t, "n")), name(t, s), false, before.Add(time.Duration(i)))
		}
		want(t, st, id(name(t, "n")), name(t, "a"), false, time.Time{})
		want(t, st, id(name(t, "n")), name(t, "a:"), false, time.Time{})
	})
	t.Run("SubjectRevokedTwice", func(t *testing.T) {
		st := h.New(t)
		t1 := time.Unix(1795305600, 500_000_000)
		t2 := t1.Add(time.Millisecond)
		a, b := name(t, "a"), name(t, "b")
		must(t, st.RevokeSubject(t.Context(), a, t1, time.Hour))
		must(t, st.RevokeSubject(t.Context(), a, t2, time.Hour))
		must(t, st.RevokeSubject(t.Context(), b, t2, time.Hour))
		must(t, st.RevokeSubject(t.Context(), b, t1, time.Hour))
		want(t, st, id(name(t, "x")), a, false, t2)
		want(t, st, id(name(t, "x")), b, false, t2)
		// The same time again changes nothing.
		must(t, st.RevokeSubject(t.Context(), b, t2, time.Hour))
		want(t, st, id(name(t, "x")), b, false, t2)
	})
	t.Run("ClockSkew", func(t *testing.T) {
		// Instance A's clock is an hour ahead of the store's, instance
		// B's an hour behind; each revokes with its own time.
		st := h.New(t)
		now := time.Now()
		ahead, behind := now.Add(time.Hour), now.Add(-time.Hour)
		a, b, c := name(t, "a"), name(t, "b"), name(t, "c")
		must(t, st.RevokeSubject(t.Context(), a, ahead, h.TTL))
		must(t, st.RevokeSubject(t.Context(), b, behind, 3*h.TTL))
		must(t, st.RevokeSubject(t.Context(), c, ahead, 3*h.TTL))
		must(t, st.RevokeSubject(t.Context(), c, behind, h.TTL)) // later, from a slower clock
		want(t, st, id(name(t, "x")), a, false, ahead)
		want(t, st, id(name(t, "x")), b, false, behind)
		want(t, st, id(name(t, "x")), c, false, ahead)
		// Expiry counts from receipt: the mark from a clock ahead goes
		// after its TTL, the one from behind stays until its own, and the
		// later, shorter mark on c did not shorten the earlier one.
		h.Wait(t, h.TTL+h.TTL/2)
		want(t, st, id(name(t, "x")), a, false, time.Time{})
		want(t, st, id(name(t, "x")), b, false, behind)
		want(t, st, id(name(t, "x")), c, false, ahead)
	})
	t.Run("Expiry", func(t *testing.T) {
		st := h.New(t)
		short, long := id(name(t, "short")), id(name(t, "long"))
		renewed := id(name(t, "renewed"))
		s, l := name(t, "s"), name(t, "l")
		before := time.Unix(1795305600, 42)
		must(t, st.RevokeSession(t.Context(), short, h.TTL))
		must(t, st.RevokeSession(t.Context(), long, 3*h.TTL))
		must(t, st.RevokeSession(t.Context(), renewed, h.TTL))
		must(t, st.RevokeSession(t.Context(), renewed, 3*h.TTL)) // extends
		must(t, st.RevokeSubject(t.Context(), s, before, h.TTL))
		must(t, st.RevokeSubject(t.Context(), l, before, 3*h.TTL))
		h.Wait(t, h.TTL/4)
		want(t, st, short, s, true, before)
		h.Wait(t, h.TTL) // 1.25 TTL in all
		want(t, st, short, s, false, time.Time{})
		want(t, st, long, l, true, before)
		want(t, st, renewed, l, true, before)
		// A shorter mark does not shorten a longer one.
		must(t, st.RevokeSession(t.Context(), long, h.TTL/4))
		h.Wait(t, h.TTL/2)
		want(t, st, long, l, true, before)
		h.Wait(t, 2*h.TTL) // 3.75 TTL in all
		want(t, st, long, l, false, time.Time{})
		want(t, st, renewed, s, false, time.Time{})
	})
	t.Run("Concurrent", func(t *testing.T) {
		st := h.New(t)
		const workers, each = 16, 20
		subject := name(t, "shared")
		base := time.Unix(1795305600, 0)
		var wg sync.WaitGroup
		errs := make(chan error, workers*each*2)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					if err := st.RevokeSession(t.Context(), id(name(t, fmt.Sprint(w, i))), time.Hour); err != nil {
						errs <- err
					}
					if err := st.RevokeSubject(t.Context(), subject, base.Add(time.Duration(w*each+i)), time.Hour); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for w := range workers {
			for i := range each {
				want(t, st, id(name(t, fmt.Sprint(w, i))), name(t, "other"), true, time.Time{})
			}
		}
		want(t, st, id(name(t, "none")), subject, false, base.Add(workers*each-1))
	})
	t.Run("InvalidArguments", func(t *testing.T) {
		st := h.New(t)
		ctx := t.Context()
		for what, err := range map[string]error{
			"RevokeSession with an empty ID":    st.RevokeSession(ctx, "", time.Hour),
			"RevokeSession with a TTL of 0":     st.RevokeSession(ctx, id(name(t, "a")), 0),
			"RevokeSession with a negative TTL": st.RevokeSession(ctx, id(name(t, "a")), -time.Second),
			"RevokeSubject with an empty one":   st.RevokeSubject(ctx, "", time.Now(), time.Hour),
			"RevokeSubject with a TTL of 0":     st.RevokeSubject(ctx, name(t, "a"), time.Now(), 0),
		} {
			if err == nil {
				t.Errorf("%s: no error", what)
			}
		}
		want(t, st, id(name(t, "a")), name(t, "a"), false, time.Time{})
	})
	t.Run("ContextDone", func(t *testing.T) {
		st := h.New(t)
		ctx, cancel := context.WithTimeout(t.Context(), -time.Second)
		defer cancel()
		allFail(t, st, ctx, name(t, "a"))
	})
	t.Run("Broken", func(t *testing.T) {
		if h.Broken == nil {
			t.Skip("Harness.Broken is nil")
		}
		allFail(t, h.Broken(t), t.Context(), name(t, "a"))
	})
	t.Run("Hung", func(t *testing.T) {
		if h.Hung == nil {
			t.Skip("Harness.Hung is nil")
		}
		st := h.Hung(t)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		allFail(t, st, ctx, name(t, "a"))
	})
}

// allFail checks that every method of st returns an error, within
// hangLimit of ctx's deadline.
func allFail(t *testing.T, st cookiesession.RevocationStore, ctx context.Context, subject string) {
	t.Helper()
	limit := hangLimit
	if d, ok := ctx.Deadline(); ok {
		limit += time.Until(d)
	}
	calls := map[string]func() error{
		"Check": func() error {
			m, err := st.Check(ctx, id(subject), subject)
			if err == nil {
				return fmt.Errorf("no error, marks %+v", m)
			}
			return nil
		},
		"RevokeSession": func() error {
			if st.RevokeSession(ctx, id(subject), time.Hour) == nil {
				return fmt.Errorf("no error")
			}
			return nil
		},
		"RevokeSubject": func() error {
			if st.RevokeSubject(ctx, subject, time.Now(), time.Hour) == nil {
				return fmt.Errorf("no error")
			}
			return nil
		},
	}
	for what, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(limit):
			t.Errorf("%s did not return within %v of its context's deadline", what, hangLimit)
		}
	}
}

// want checks the marks st returns for id and subject.
func want(t *testing.T, st cookiesession.RevocationStore, id, subject string, session bool, before time.Time) {
	t.Helper()
	m, err := st.Check(t.Context(), id, subject)
	if err != nil {
		t.Fatalf("Check(%.40q, %.40q): %v", id, subject, err)
	}
	if m.Session != session || !m.Before.Equal(before) {
		t.Fatalf("Check(%.40q, %.40q) = {Session: %v, Before: %v}, want {Session: %v, Before: %v}",
			id, subject, m.Session, m.Before.UTC().Format(time.RFC3339Nano), session, before.UTC().Format(time.RFC3339Nano))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// id derives a session ID, 32 hex digits, from s.
func id(s string) string {
	var h uint64 = 14695981039346656037 // FNV-1a, twice with different seeds
	var g uint64 = 1099511628211
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
		g = (g ^ uint64(s[i])) * 14695981039346656037
	}
	return fmt.Sprintf("%016x%016x", h, g)
}

var (
	runMu sync.Mutex
	runN  int
)

// uniq names one run of the suite, so that runs against one backend, as
// with "go test -count=2", do not see each other's marks.
func uniq() string {
	runMu.Lock()
	defer runMu.Unlock()
	runN++
	return fmt.Sprintf("%x.%d", time.Now().UnixNano(), runN)
}
