package cookiesession

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stSaved returns the Set-Cookie lines of a new session holding k=v, sealed
// now under e, after first calling prep on it.
func stSaved(t testing.TB, e stEnv, prep func(*Session)) []string {
	t.Helper()
	s := stLoad(t, e.m, "")
	s.Set("k", "v")
	if prep != nil {
		prep(s)
	}
	return stSave(t, e.m, s)
}

// stMaxAges returns the Max-Age of each line (-1: none).
func stMaxAges(t testing.TB, lines []string) []int {
	t.Helper()
	var out []int
	for _, l := range lines {
		out = append(out, stParse(t, l).maxAge)
	}
	return out
}

// stWantFresh checks that a load failed with one of want and gave a new,
// empty session.
func stWantFresh(t testing.TB, s *Session, err error, want ...error) {
	t.Helper()
	if !slices.ContainsFunc(want, func(w error) bool { return errors.Is(err, w) }) {
		t.Errorf("load error %v, want one of %v", err, want)
	}
	if !s.IsNew() || s.Len() != 0 {
		t.Errorf("after a failed load: IsNew %v, keys %q", s.IsNew(), s.Keys())
	}
}

func TestExpiryMaxAge(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name         string
		browser      bool
		prep         func(*Session)
		first, later int // Max-Age when set, and when saved again an hour later
	}{
		{"default lifetime", false, nil, 1209600, 1206000},
		{"browser session", true, nil, -1, -1},
		{"SetExpiry", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}) }, 2592000, 2588400},
		{"SetExpiry with browser session", true, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}) }, 2592000, 2588400},
		{"ResetExpiry reverts", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}); s.ResetExpiry() }, 1209600, 1206000},
		{"ResetExpiry reverts with browser session", true, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}); s.ResetExpiry() }, -1, -1},
		{"SetExpiry of 400 days", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 400 * day}) }, 34560000, 34556400},
		{"SetExpiry of a second", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: time.Second}) }, 1, 0},
		{"browser close", false, func(s *Session) { s.SetExpiry(Expiry{BrowserClose: true}) }, -1, -1},
		{"deadline", false, func(s *Session) { s.SetExpiry(Expiry{Deadline: time.Unix(t0, 0).Add(2*time.Hour + time.Second/2)}) }, 7200, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, Config{BrowserSession: tt.browser})
			lines := stSaved(t, e, tt.prep)
			if diff := cmp.Diff([]int{tt.first}, stMaxAges(t, lines)); diff != "" {
				t.Fatalf("Max-Age (-want +got):\n%s", diff)
			}
			// A later save keeps the policy, counting from the same start.
			e.clock.Add(time.Hour)
			s, err := e.m.LoadHeader(context.Background(), stHeader(t, lines))
			if tt.later == 0 {
				stWantFresh(t, s, err, ErrExpired)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Set("k2", 1)
			if diff := cmp.Diff([]int{tt.later}, stMaxAges(t, stSave(t, e.m, s))); diff != "" {
				t.Errorf("Max-Age an hour later (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpiryValue(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if got, want := s.Expiry(), time.Unix(t0, 0).Add(DefaultLifetime).UTC(); !got.Equal(want) {
		t.Errorf("Expiry = %v, want %v", got, want)
	}
	if err := s.SetExpiry(Expiry{Lifetime: 400 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Expiry(), time.Unix(t0, 0).Add(400*24*time.Hour).UTC(); !got.Equal(want) {
		t.Errorf("Expiry after SetExpiry(400 days) = %v, want %v", got, want)
	}
}

func TestSetExpiryPastDeadlineDeletes(t *testing.T) {
	e := stNew(t, Config{BrowserSession: true})
	s := stLoad(t, e.m, stHeader(t, stSaved(t, e, nil)))
	if err := s.SetExpiry(Expiry{Deadline: time.Unix(t0-1, 0)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"}
	if diff := cmp.Diff(want, stSave(t, e.m, s)); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestSealedExpiry(t *testing.T) {
	e := stNew(t, Config{Lifetime: time.Hour})
	header := stHeader(t, stSaved(t, e, nil))
	e.clock.Add(time.Hour - time.Second)
	if s := stLoad(t, e.m, header); s.IsNew() {
		t.Fatal("session expired early")
	}
	e.clock.Add(time.Minute) // past the expiry and the clock skew allowance
	s, err := e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrExpired)
	if diff := cmp.Diff([]string{"session delete"}, stSummary(t, stSave(t, e.m, s))); diff != "" {
		t.Errorf("expired cookie not deleted (-want +got):\n%s", diff)
	}
}

func TestIdleTimeout(t *testing.T) {
	// Lifetime 2h, idle 40m: re-seal once 10m have passed since the last seal.
	e := stNew(t, Config{Lifetime: 2 * time.Hour, IdleTimeout: 40 * time.Minute})
	lines := stSaved(t, e, nil)
	if diff := cmp.Diff([]int{2400}, stMaxAges(t, lines)); diff != "" {
		t.Fatalf("first Max-Age (-want +got):\n%s", diff)
	}
	first := stHeader(t, lines)
	header := first
	steps := []struct {
		at     time.Duration // since t0
		maxAge int           // 0: no re-seal
	}{
		{9*time.Minute + 59*time.Second, 0},
		{10 * time.Minute, 2400},
		{19 * time.Minute, 0},
		{40 * time.Minute, 2400},
		{70 * time.Minute, 2400},
		{100 * time.Minute, 1200}, // capped by the absolute lifetime
		{115 * time.Minute, 0},    // renewal would not move the expiry
	}
	for _, st := range steps {
		e.clock.Set(time.Unix(t0, 0).Add(st.at))
		s := stLoad(t, e.m, header)
		if s.IsNew() {
			t.Fatalf("at %v: session lost", st.at)
		}
		lines := stSave(t, e.m, s)
		if st.maxAge == 0 {
			if len(lines) != 0 {
				t.Errorf("at %v: re-sealed early: %q", st.at, lines)
			}
			continue
		}
		if diff := cmp.Diff([]int{st.maxAge}, stMaxAges(t, lines)); diff != "" {
			t.Errorf("at %v: Max-Age (-want +got):\n%s", st.at, diff)
		}
		header = stHeader(t, lines)
	}
	e.clock.Set(time.Unix(t0, 0).Add(2*time.Hour + time.Minute))
	s, err := e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrExpired)

	// The first cookie, never renewed, ends after 40 idle minutes.
	e.clock.Set(time.Unix(t0, 0).Add(41 * time.Minute))
	s, err = e.m.LoadHeader(context.Background(), first)
	stWantFresh(t, s, err, ErrExpired)
}

func TestKeyRotationReseals(t *testing.T) {
	e := stNew(t, Config{})
	header := stHeader(t, stSaved(t, e, nil))
	newID, err := e.kr.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	s := stLoad(t, e.m, header)
	lines := stSave(t, e.m, s)
	if diff := cmp.Diff([]string{"session set"}, stSummary(t, lines)); diff != "" {
		t.Fatalf("unmodified session under a demoted key (-want +got):\n%s", diff)
	}
	buf := new([]byte)
	_, info, err := e.m.codec.openPayload(buf, "session", kindSession, []byte(stParse(t, lines[0]).value), 0, e.m.codec.now().Unix())
	if err != nil || info.KeyID != newID || !info.Primary {
		t.Errorf("re-sealed value: key %v primary %v, err %v; want key %v", info.KeyID, info.Primary, err, newID)
	}
	next := stLoad(t, e.m, stHeader(t, lines))
	if v, _, _ := Get[string](next, "k"); v != "v" || next.ID() != s.ID() {
		t.Errorf("re-sealed session: k=%q, ID %s want %s", v, next.ID(), s.ID())
	}
	if lines := stSave(t, e.m, next); len(lines) != 0 {
		t.Errorf("session under the primary key re-sealed: %q", lines)
	}

	if err := e.kr.Disable(1); err != nil {
		t.Fatal(err)
	}
	s, err = e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrKeyDisabled)
	if err := e.kr.Remove(1); err != nil {
		t.Fatal(err)
	}
	s, err = e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrUnknownKey)
}

type stCtxKey struct{}

func TestValidate(t *testing.T) {
	errRevoked := errors.New("revoked")
	var seenID string
	e := stNew(t, Config{Validate: func(ctx context.Context, s *Session) error {
		if ctx.Value(stCtxKey{}) != "req" {
			t.Error("Validate did not get the request's context")
		}
		seenID = s.ID()
		if u, _, _ := Get[string](s, "user"); u == "mallory" {
			return errRevoked
		}
		return nil
	}})
	ctx := context.WithValue(context.Background(), stCtxKey{}, "req")
	for _, user := range []string{"ada", "mallory"} {
		s := stLoad(t, e.m, "") // no cookie: Validate is not called
		s.Set("user", user)
		header := stHeader(t, stSave(t, e.m, s))

		done := make(chan struct{})
		var got *Session
		var err error
		go func() {
			defer close(done)
			got, err = e.m.LoadHeader(ctx, header)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("LoadHeader with a Validate hook that reads the session did not return")
		}
		if seenID != s.ID() {
			t.Errorf("%s: Validate saw ID %q, want %s", user, seenID, s.ID())
		}
		if user == "mallory" {
			stWantFresh(t, got, err, ErrRejected)
			if !errors.Is(err, errRevoked) {
				t.Errorf("error %v does not wrap the hook's error", err)
			}
			continue
		}
		if v, _, _ := Get[string](got, "user"); err != nil || v != user || got.IsNew() {
			t.Errorf("accepted session: user %q, err %v", v, err)
		}
		if lines := stSave(t, e.m, got); len(lines) != 0 {
			t.Errorf("an accepted session that Validate only read was saved: %q", lines)
		}
	}
}
