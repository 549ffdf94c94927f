package cookiesession

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// expStep is one request of an expiry scenario: at this time after t0, the
// session is loaded from the last cookies, touched, and saved. A first step
// at 0 is the request that sets the expiry.
type expStep struct {
	at     time.Duration
	maxAge int // of the saved cookie: 0 nothing written, -1 no Max-Age; -2: the session had expired
}

// expRun sets up a session with cfg, applies set in the first request, and
// runs the steps, each a request that reads the session (and so renews it
// when its idle timeout says so).
func expRun(t *testing.T, cfg Config, set func(*Session) error, steps []expStep) {
	t.Helper()
	e := stNew(t, cfg)
	s := stLoad(t, e.m, "")
	if err := s.Set("user", "ada"); err != nil {
		t.Fatal(err)
	}
	if set != nil {
		if err := set(s); err != nil {
			t.Fatalf("setting the expiry: %v", err)
		}
	}
	lines := stSave(t, e.m, s)
	header := stHeader(t, lines)
	if len(steps) > 0 && steps[0].at == 0 {
		if got := stParse(t, lines[0]).maxAge; got != steps[0].maxAge {
			t.Errorf("first save: Max-Age %d, want %d", got, steps[0].maxAge)
		}
		steps = steps[1:]
	}
	for _, st := range steps {
		e.clock.Set(time.Unix(t0, 0).Add(st.at))
		s, err := e.m.LoadHeader(t.Context(), header)
		if st.maxAge == -2 {
			if !errors.Is(err, ErrExpired) {
				t.Errorf("at %v: load error %v, want ErrExpired", st.at, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("at %v: %v", st.at, err)
		}
		s.Has("user")
		lines := stSave(t, e.m, s)
		got := 0
		if len(lines) > 0 {
			got = stParse(t, lines[0]).maxAge
			header = stHeader(t, lines)
		}
		if got != st.maxAge {
			t.Errorf("at %v: Max-Age %d (lines %q), want %d", st.at, got, lines, st.maxAge)
		}
	}
}

// The first case: with a global idle timeout of 30 minutes, a
// "remember me" session lives 30 days without an idle timeout, or with its
// own longer one; the absolute cap holds either way.
func TestExpiryRememberMe(t *testing.T) {
	const day = 24 * time.Hour
	cfg := Config{IdleTimeout: 30 * time.Minute}
	t.Run("default idle timeout", func(t *testing.T) {
		expRun(t, cfg, nil, []expStep{{0, 1800}, {2 * time.Hour, -2}})
	})
	t.Run("remember me, no idle timeout", func(t *testing.T) {
		remember := func(s *Session) error { return s.SetExpiry(Expiry{Lifetime: 30 * day, NoIdleTimeout: true}) }
		expRun(t, cfg, remember, []expStep{
			{0, 30 * 86400},               // saved by the first request
			{2 * time.Hour, 0},            // two hours idle: alive, nothing to renew
			{20 * day, 0},                 // still alive
			{30*day + 20*time.Second, -2}, // the absolute cap (past the clock skew)
		})
	})
	t.Run("remember me without NoIdleTimeout keeps the configured idle timeout", func(t *testing.T) {
		remember := func(s *Session) error { return s.SetExpiry(Expiry{Lifetime: 30 * day}) }
		expRun(t, cfg, remember, []expStep{{0, 1800}, {2 * time.Hour, -2}})
	})
	t.Run("remember me, idle timeout of a week", func(t *testing.T) {
		remember := func(s *Session) error { return s.SetExpiry(Expiry{Lifetime: 30 * day, IdleTimeout: 7 * day}) }
		expRun(t, cfg, remember, []expStep{
			{0, 7 * 86400},
			{2 * day, 7 * 86400}, // a quarter passed: renewed
			{8 * day, 7 * 86400}, // six days idle: alive, renewed
			{14 * day, 7 * 86400},
			{20 * day, 7 * 86400},
			{26 * day, 4 * 86400},         // renewal capped by the 30 days
			{30*day + 20*time.Second, -2}, // the cap holds
		})
	})
	t.Run("remember me, idle gap over a week", func(t *testing.T) {
		remember := func(s *Session) error { return s.SetExpiry(Expiry{Lifetime: 30 * day, IdleTimeout: 7 * day}) }
		expRun(t, cfg, remember, []expStep{{0, 7 * 86400}, {7*day + 20*time.Second, -2}})
	})
}

// Django's four set_expiry cases, in the browser-session and persistent
// global policies.
func TestExpiryDjangoCases(t *testing.T) {
	deadline := time.Unix(t0, 0).Add(3 * time.Hour)
	for _, browser := range []bool{false, true} {
		policy := int(DefaultLifetime / time.Second)
		if browser {
			policy = -1
		}
		cfg := Config{BrowserSession: browser}
		for _, tt := range []struct {
			name  string
			set   func(*Session) error
			steps []expStep
		}{
			{"seconds of inactivity", func(s *Session) error { return s.SetExpiry(Expiry{IdleTimeout: time.Hour}) },
				[]expStep{{0, 3600}, {50 * time.Minute, 3600}, {110 * time.Minute, 3600}, {3*time.Hour + 20*time.Second, -2}}},
			{"browser close", func(s *Session) error { return s.SetExpiry(Expiry{BrowserClose: true}) },
				[]expStep{{0, -1}, {time.Hour, 0}}},
			{"fixed deadline", func(s *Session) error { return s.SetExpiry(Expiry{Deadline: deadline}) },
				[]expStep{{0, 3 * 3600}, {2 * time.Hour, 0}, {3*time.Hour + 20*time.Second, -2}}},
			{"back to the policy", func(s *Session) error {
				if err := s.SetExpiry(Expiry{BrowserClose: !browser, IdleTimeout: time.Minute}); err != nil {
					return err
				}
				return s.ResetExpiry()
			}, []expStep{{0, policy}, {time.Hour, 0}}},
		} {
			t.Run(tt.name+map[bool]string{false: "", true: ", browser session"}[browser], func(t *testing.T) {
				expRun(t, cfg, tt.set, tt.steps)
			})
		}
	}
}

// Expiry fields are checked as Config's are: a duration that is not whole
// seconds is an error, not cut down.
func TestExpiryValidation(t *testing.T) {
	e := stNew(t, Config{})
	now := time.Unix(t0, 0)
	for _, tt := range []struct {
		name string
		exp  Expiry
	}{
		{"fractional lifetime", Expiry{Lifetime: 1500 * time.Millisecond}},
		{"negative lifetime", Expiry{Lifetime: -time.Second}},
		{"lifetime over 400 days", Expiry{Lifetime: 401 * 24 * time.Hour}},
		{"fractional idle timeout", Expiry{IdleTimeout: 1500 * time.Millisecond}},
		{"negative idle timeout", Expiry{IdleTimeout: -time.Second}},
		{"lifetime and deadline", Expiry{Lifetime: time.Hour, Deadline: now.Add(time.Hour)}},
		{"deadline over 400 days away", Expiry{Deadline: now.Add(401 * 24 * time.Hour)}},
	} {
		s := stLoad(t, e.m, "")
		s.Set("a", 1)
		before := s.Expiry()
		if err := s.SetExpiry(tt.exp); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: SetExpiry = %v, want ErrInvalidConfig", tt.name, err)
		}
		if got := s.Expiry(); !got.Equal(before) {
			t.Errorf("%s: expiry moved to %v after a rejected SetExpiry", tt.name, got)
		}
	}
	// As Config.Lifetime.
	kr := oneKeyring(t)
	if _, err := New(kr, Config{Lifetime: 1500 * time.Millisecond}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Config.Lifetime 1.5s: %v, want ErrInvalidConfig", err)
	}
}

// A session's own expiry survives the round trip through its cookie, and
// Renew keeps it.
func TestExpiryPersists(t *testing.T) {
	e := stNew(t, Config{IdleTimeout: time.Hour, BrowserSession: true})
	s := stLoad(t, e.m, "")
	s.Set("a", 1)
	if err := s.SetExpiry(Expiry{Lifetime: 10 * 24 * time.Hour, IdleTimeout: 2 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	s2, _ := stRoundTrip(t, e.m, s)
	if diff := cmp.Diff(s.st.deadline, s2.st.deadline); diff != "" || !s2.st.explicit || s2.st.idle != 2*86400 || s2.st.browserClose {
		t.Fatalf("loaded: explicit %v, idle %d, browserClose %v, deadline diff %s", s2.st.explicit, s2.st.idle, s2.st.browserClose, diff)
	}
	e.clock.Add(time.Hour)
	s2.Renew()
	lines := stSave(t, e.m, s2)
	if got := stParse(t, lines[0]).maxAge; got != 2*86400 {
		t.Errorf("after Renew: Max-Age %d, want the session's own idle timeout", got)
	}
}

// The payload carries the session's own policy (SPEC.md §13), and its
// decoder rejects flag combinations and idle values no encoder writes.
func TestExpiryPayloadFlags(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("a", 1)
	if err := s.SetExpiry(Expiry{BrowserClose: true, IdleTimeout: 90 * time.Second}); err != nil {
		t.Fatal(err)
	}
	p, err := s.st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := st.decodePayload(p, DefaultMaxPayloadSize, DefaultMaxCompressionRatio); err != nil {
		t.Fatal(err)
	}
	if !st.explicit || !st.browserClose || st.idle != 90 {
		t.Errorf("decoded explicit %v, browserClose %v, idle %d", st.explicit, st.browserClose, st.idle)
	}
	if p[33] != payloadExplicit|payloadBrowser|payloadIdle || p[34] != 90 {
		t.Fatalf("flags %#x, idle byte %d", p[33], p[34])
	}
	edit := func(f func(q []byte) []byte) []byte { return f(append([]byte(nil), p...)) }
	for _, tt := range []struct {
		name string
		p    []byte
		want error
	}{
		{"browser close without own policy", edit(func(q []byte) []byte { q[33] = payloadBrowser; return append(q[:34], q[35:]...) }), ErrUnsupportedVersion},
		{"idle without own policy", edit(func(q []byte) []byte { q[33] = payloadIdle; return q }), ErrUnsupportedVersion},
		{"reserved bit", edit(func(q []byte) []byte { q[33] |= 0x08; return q }), ErrUnsupportedVersion},
		{"idle 0", edit(func(q []byte) []byte { q[34] = 0; return q }), ErrMalformed},
		{"idle over 400 days", edit(func(q []byte) []byte {
			return append(append(q[:34:34], 0x80, 0x80, 0x80, 0x80, 0x01), q[35:]...)
		}), ErrMalformed},
	} {
		var st state
		if err := st.decodePayload(tt.p, DefaultMaxPayloadSize, DefaultMaxCompressionRatio); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
