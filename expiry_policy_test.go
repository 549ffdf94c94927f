package cookiesession

import (
	"context"
	"errors"
	"testing"
	"time"
)

// policyCookie returns the Cookie header of a session holding user=ada,
// saved at the clock's time by m after set (nil: the configured policy).
func policyCookie(t *testing.T, m *Manager, set func(*Session) error) string {
	t.Helper()
	s := stLoad(t, m, "")
	if err := s.Set("user", "ada"); err != nil {
		t.Fatal(err)
	}
	if set != nil {
		if err := set(s); err != nil {
			t.Fatal(err)
		}
	}
	return stHeader(t, stSave(t, m, s))
}

// loadErr loads header with m and returns the error, checking that a
// refused session comes back new and empty.
func loadErr(t *testing.T, m *Manager, header string) error {
	t.Helper()
	s, err := m.LoadHeader(context.Background(), header)
	if err != nil && (!s.IsNew() || s.Len() != 0) {
		t.Fatalf("refused session: new %t, %d keys", s.IsNew(), s.Len())
	}
	if err == nil && s.IsNew() {
		t.Fatal("no error, but a new session")
	}
	return err
}

// TestSetExpiryKeepsIdleTimeout is the scenario: IdleTimeout 15
// minutes, and 6 hours without a request. The anonymous session has
// expired, and so has the logged-in one that set_expiry(0) made a
// browser-close session: an Expiry without an IdleTimeout of its own keeps
// the configured one. Turning it off is explicit (NoIdleTimeout).
func TestSetExpiryKeepsIdleTimeout(t *testing.T) {
	const idle = 15 * time.Minute
	browserClose := func(s *Session) error { return s.SetExpiry(Expiry{BrowserClose: true}) }
	tests := []struct {
		name    string
		set     func(*Session) error
		expired bool
	}{
		{"anonymous", nil, true},
		{"logged in, set_expiry(0)", browserClose, true},
		{"logged in, a deadline in a day", func(s *Session) error {
			return s.SetExpiry(Expiry{Deadline: time.Unix(t0, 0).Add(24 * time.Hour)})
		}, true},
		{"remember me, 30 days", func(s *Session) error { return s.SetExpiry(Expiry{Lifetime: 30 * 24 * time.Hour}) }, true},
		{"NoIdleTimeout", func(s *Session) error { return s.SetExpiry(Expiry{BrowserClose: true, NoIdleTimeout: true}) }, false},
		{"its own idle timeout of a day", func(s *Session) error { return s.SetExpiry(Expiry{IdleTimeout: 24 * time.Hour}) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, Config{IdleTimeout: idle})
			header := policyCookie(t, e.m, tt.set)
			e.clock.Add(6 * time.Hour)
			err := loadErr(t, e.m, header)
			if tt.expired != errors.Is(err, ErrExpired) || !tt.expired && err != nil {
				t.Fatalf("after 6 hours idle: error %v, want expired %t", err, tt.expired)
			}
		})
	}

	// A cookie sealed before the fix (its own policy, at browser close, no
	// idle timeout in the payload, expires_at its 14-day deadline) has
	// expired too: the load checks the configured idle timeout.
	e := stNew(t, Config{IdleTimeout: idle})
	st := state{created: t0, deadline: t0 + 14*86400, explicit: true, browserClose: true}
	st.values.set("user", []byte(`"ada"`))
	p, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxSessionSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := e.m.codec.appendSeal(nil, e.m.names[0], kindSession, p, e.m.now(), time.Unix(st.deadline, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	header := e.m.names[0] + "=" + string(text)
	if err := loadErr(t, e.m, header); err != nil {
		t.Fatalf("control, at once: %v", err)
	}
	e.clock.Add(6 * time.Hour)
	if err := loadErr(t, e.m, header); !errors.Is(err, ErrExpired) {
		t.Fatalf("old browser-close cookie after 6 hours idle: error %v, want ErrExpired", err)
	}
}

// TestConfigInForce: lowering Lifetime, adding IdleTimeout or setting
// CreatedAfter reaches sessions already issued, without a key rotation. A
// session with its own policy keeps it, but not past CreatedAfter.
func TestConfigInForce(t *testing.T) {
	const hour = time.Hour
	remember := func(s *Session) error {
		return s.SetExpiry(Expiry{Lifetime: 30 * 24 * hour, NoIdleTimeout: true})
	}
	tests := []struct {
		name  string
		set   func(*Session) error // the policy when issued, under the default Config
		after time.Duration        // when it comes back
		now   Config               // the Config in force then
		want  error
	}{
		{"Lifetime lowered to 1h, 30 minutes on: control", nil, hour / 2, Config{Lifetime: hour}, nil},
		{"Lifetime lowered to 1h, 2 hours on", nil, 2 * hour, Config{Lifetime: hour}, ErrExpired},
		{"Lifetime lowered to 1h, at 1h plus the skew", nil, hour + 10*time.Second, Config{Lifetime: hour}, ErrExpired},
		{"Lifetime lowered to 1h, within the skew", nil, hour + 9*time.Second, Config{Lifetime: hour}, nil},
		{"IdleTimeout added, 10 minutes on: control", nil, 10 * time.Minute, Config{IdleTimeout: 15 * time.Minute}, nil},
		{"IdleTimeout added, an hour on", nil, hour, Config{IdleTimeout: 15 * time.Minute}, ErrExpired},
		{"remember me keeps its Lifetime", remember, 2 * hour, Config{Lifetime: hour}, nil},
		{"remember me keeps its NoIdleTimeout", remember, 2 * hour, Config{IdleTimeout: 15 * time.Minute}, nil},
		{"CreatedAfter ends a configured session", nil, 2 * hour, Config{CreatedAfter: time.Unix(t0+3600, 0)}, ErrExpired},
		{"CreatedAfter ends a remember-me session", remember, 2 * hour, Config{CreatedAfter: time.Unix(t0+3600, 0)}, ErrExpired},
		{"CreatedAfter at the session's start: control", remember, 2 * hour, Config{CreatedAfter: time.Unix(t0, 0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, Config{})
			header := policyCookie(t, e.m, tt.set)
			e.clock.Add(tt.after)
			m := stManager(t, e.kr, e.clock, tt.now)
			if err := loadErr(t, m, header); !errors.Is(err, tt.want) || tt.want == nil && err != nil {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}

	// Under the middleware: a fresh session, and the hook hears of it.
	e := hdNew(t, Config{})
	header := policyCookie(t, e.m, nil)
	e.clock.Add(2 * hour)
	later := hdOn(t, e.kr, e.clock, Config{CreatedAfter: time.Unix(t0+1, 0)})
	r := later.serve("/", header)
	if r.body != hdFreshBody || len(r.errs) != 1 || !errors.Is(r.errs[0], ErrExpired) {
		t.Fatalf("middleware: body %q, hook %v; want a fresh session and ErrExpired", r.body, r.errs)
	}
	// A session started after CreatedAfter opens.
	if err := loadErr(t, later.m, policyCookie(t, later.m, nil)); err != nil {
		t.Fatalf("session started after CreatedAfter: %v", err)
	}
	// So does one renewed after it (as at login).
	st := stLoad(t, e.m, header)
	st.Renew()
	if err := loadErr(t, later.m, stHeader(t, stSave(t, e.m, st))); err != nil {
		t.Fatalf("session renewed after CreatedAfter: %v", err)
	}
}

func TestCreatedAfterValidation(t *testing.T) {
	clock := newTestClock(t0)
	for _, tt := range []struct {
		at   time.Time
		skew time.Duration
		ok   bool
	}{
		{time.Time{}, 0, true},
		{time.Unix(t0-86400, 0), 0, true},
		{time.Unix(t0, 0), 0, true},
		{time.Unix(t0+10, 0), 0, true}, // within the default clock skew
		{time.Unix(t0+11, 0), 0, false},
		{time.Unix(t0+60, 0), time.Minute, true},
		{time.Unix(t0+3600, 0), 0, false},
		{time.Unix(-1, 0), 0, false},
	} {
		_, err := New(oneKeyring(t), Config{Now: clock.Now, CreatedAfter: tt.at, Codec: Options{ClockSkew: tt.skew}})
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("CreatedAfter %v, skew %v: error %v, want ok %t", tt.at, tt.skew, err, tt.ok)
		}
	}
	for _, cfg := range []Config{
		{MaxSessionSize: -1}, {MaxSessionSize: 16<<20 + 1}, {MaxCompressionRatio: -1}, {MaxCompressionRatio: 1033},
	} {
		cfg.Now = clock.Now
		if _, err := New(oneKeyring(t), cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: error %v, want ErrInvalidConfig", cfg, err)
		}
	}
}
