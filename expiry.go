package cookiesession

import (
	"fmt"
	"time"
)

// Expiry is one session's own expiry policy, set with [Session.SetExpiry].
// It replaces Config.Lifetime, Config.IdleTimeout and Config.BrowserSession
// for that session, in every later request, until [Session.ResetExpiry].
// Each field's zero value is stated with it; the zero Expiry keeps the
// session's end, with no idle timeout, in a cookie that persists.
//
// Django's four set_expiry cases, and a "remember me" box:
//
//	s.SetExpiry(cookiesession.Expiry{IdleTimeout: 30 * time.Minute}) // set_expiry(1800): after 30 minutes of inactivity
//	s.SetExpiry(cookiesession.Expiry{BrowserClose: true})             // set_expiry(0): when the browser closes
//	s.SetExpiry(cookiesession.Expiry{Deadline: t})                    // set_expiry(datetime): at t
//	s.ResetExpiry()                                                   // set_expiry(None): back to Config
//	s.SetExpiry(cookiesession.Expiry{Lifetime: 30 * 24 * time.Hour}) // remember me: 30 days, no idle timeout
//
// Every session still ends: without Lifetime or Deadline, at the end it
// already had (Config.Lifetime from its start or last [Session.Renew], or
// the end set by an earlier SetExpiry), which an idle timeout never moves.
type Expiry struct {
	// Lifetime ends the session this long from now, whatever its activity
	// (Django's set_expiry with a timedelta). Whole seconds, from 1 second
	// to 400 days, as Config.Lifetime. Set at most one of Lifetime and
	// Deadline. Default: 0, the session keeps the end it had.
	Lifetime time.Duration
	// Deadline ends the session at this time (Django's set_expiry with a
	// datetime), to the second: sealed times have a resolution of one
	// second, so it is rounded down. At most 400 days from now; one that
	// is not after now ends the session, whose cookies are then deleted
	// when the response is written. Default: the zero Time, the session
	// keeps the end it had.
	Deadline time.Time
	// IdleTimeout also ends the session after this long without a request
	// that saves it (Django's set_expiry with a number of seconds). It
	// slides as Config.IdleTimeout does: the session is sealed again once a
	// quarter of it has passed. Whole seconds, at most 400 days. Default: 0,
	// no idle timeout.
	IdleTimeout time.Duration
	// BrowserClose writes the session cookies without Max-Age, so that
	// browsers drop them when they close (Django's set_expiry(0)); the
	// sealed expiry still applies. Default: false, the cookies persist
	// until the session's expiry, even when Config.BrowserSession is set.
	BrowserClose bool
}

// SetExpiry gives the session its own expiry policy, kept across requests,
// and marks it modified. See [Expiry] for its fields and for how Django's
// set_expiry maps onto it. A field out of range gives an error wrapping
// [ErrInvalidConfig], and leaves the session unchanged.
//
// A change after the response header was sent returns [ErrHeaderWritten]:
// it applies to the rest of this request, but is not saved.
func (s *Session) SetExpiry(e Expiry) error {
	s.lock()
	now := s.m.nowUnix()
	deadline, err := e.deadline(s.st.deadline, now)
	if err != nil {
		s.unlock()
		return err
	}
	s.st.deadline = deadline
	s.st.explicit, s.st.idle, s.st.browserClose = true, int64(e.IdleTimeout/time.Second), e.BrowserClose
	s.st.changed()
	return s.unlockChanged()
}

// deadline checks e and returns the session's end under it, given the end
// it has now.
func (e *Expiry) deadline(cur, now int64) (int64, error) {
	const most = maxCookieAge * time.Second
	bad := func(format string, a ...any) (int64, error) {
		return 0, fmt.Errorf("%w: Expiry."+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	switch {
	case e.Lifetime != 0 && !e.Deadline.IsZero():
		return bad("Lifetime and Expiry.Deadline are both set")
	case e.Lifetime < 0 || e.Lifetime > most || e.Lifetime%time.Second != 0:
		return bad("Lifetime %v is not a whole number of seconds from 1s to 400 days", e.Lifetime)
	case e.IdleTimeout < 0 || e.IdleTimeout > most || e.IdleTimeout%time.Second != 0:
		return bad("IdleTimeout %v is not a whole number of seconds from 0 to 400 days", e.IdleTimeout)
	case e.Lifetime > 0:
		return now + int64(e.Lifetime/time.Second), nil
	case e.Deadline.IsZero():
		return cur, nil
	}
	d := e.Deadline.Unix()
	if d > now+maxCookieAge {
		return bad("Deadline %v is more than 400 days away", e.Deadline.UTC().Format(time.RFC3339))
	}
	return max(d, now), nil
}

// ResetExpiry returns the session to the configured policy (Django's
// set_expiry(None)): Config.Lifetime from the session's start or last
// [Session.Renew], Config.IdleTimeout and Config.BrowserSession. It marks
// the session modified. After the response header was sent it returns
// [ErrHeaderWritten], as [Session.SetExpiry] does.
func (s *Session) ResetExpiry() error {
	s.lock()
	s.st.deadline = s.st.created + s.m.lifetime
	s.st.explicit, s.st.idle, s.st.browserClose = false, 0, false
	s.st.changed()
	return s.unlockChanged()
}

// Expiry returns when the session will expire, to the second, if it is saved
// now: the earlier of its end and, with an idle timeout, now plus the
// timeout. For a session that is not saved in this request, the expiry
// sealed in its cookie stands.
func (s *Session) Expiry() time.Time {
	s.lock()
	defer s.unlock()
	now := s.m.nowUnix()
	if s.st.fromCookie && !s.m.needsSeal(&s.st, now) {
		return time.Unix(s.st.expires, 0).UTC()
	}
	return time.Unix(s.m.sealExpiry(&s.st, now), 0).UTC()
}

// idleFor returns st's idle timeout in seconds: its own, or the
// configured one.
func (m *Manager) idleFor(st *state) int64 {
	if st.explicit {
		return st.idle
	}
	return m.idle
}

// maxAge returns the Max-Age of st's cookies for a seal at now that expires
// at exp, or -1 for a browser-session cookie.
func (m *Manager) maxAge(st *state, now, exp int64) int64 {
	if st.explicit && st.browserClose || !st.explicit && m.browser {
		return -1
	}
	return min(exp-now, maxCookieAge)
}

// sealExpiry returns the expiry to seal at now: the session's deadline, or
// with an idle timeout, now plus the timeout if that is earlier.
func (m *Manager) sealExpiry(st *state, now int64) int64 {
	exp := st.deadline
	if idle := m.idleFor(st); idle > 0 {
		exp = min(exp, now+idle)
	}
	return exp
}

// renewalDue reports whether the idle timeout calls for a new seal: a
// quarter of it has passed since the last seal, and the seal would move the
// expiry later.
func (m *Manager) renewalDue(st *state, now int64) bool {
	idle := m.idleFor(st)
	return idle > 0 && st.expires != 0 && now-st.issued >= (idle+3)/4 &&
		m.sealExpiry(st, now) > st.expires
}

// needsSeal reports whether saving st now writes a new sealed value.
func (m *Manager) needsSeal(st *state, now int64) bool {
	return !st.empty() && (st.modified || st.oldKey || st.rechecked || m.saveEvery || m.renewalDue(st, now))
}
