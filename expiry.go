package cookiesession

import (
	"fmt"
	"time"
)

// Expiry is one session's own expiry policy, set with [Session.SetExpiry].
// It replaces Config.Lifetime and Config.BrowserSession for that session,
// in every later request, until [Session.ResetExpiry]; Config.IdleTimeout
// still applies unless the policy sets an idle timeout of its own or turns
// it off with NoIdleTimeout. Each field's zero value is stated with it; the
// zero Expiry keeps the session's end and the configured idle timeout, in a
// cookie that persists.
//
// Django's four set_expiry cases, and a "remember me" box:
//
//	s.SetExpiry(cookiesession.Expiry{IdleTimeout: 30 * time.Minute}) // set_expiry(1800): after 30 minutes of inactivity
//	s.SetExpiry(cookiesession.Expiry{BrowserClose: true})             // set_expiry(0): when the browser closes (or Config.IdleTimeout passes)
//	s.SetExpiry(cookiesession.Expiry{Deadline: t})                    // set_expiry(datetime): at t
//	s.ResetExpiry()                                                   // set_expiry(None): back to Config
//
//	// remember me: 30 days, whatever the activity
//	s.SetExpiry(cookiesession.Expiry{Lifetime: 30 * 24 * time.Hour, NoIdleTimeout: true})
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
	// the session keeps Config.IdleTimeout (none if that is 0).
	IdleTimeout time.Duration
	// NoIdleTimeout turns the idle timeout off for this session, whatever
	// Config.IdleTimeout says: it then ends only at its end (Lifetime or
	// Deadline). Use it for a "remember me" session. It cannot be set
	// together with IdleTimeout. Default: false, the session has an idle
	// timeout if IdleTimeout or Config.IdleTimeout sets one.
	NoIdleTimeout bool
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
	s.st.noIdle = e.NoIdleTimeout
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
	case e.IdleTimeout != 0 && e.NoIdleTimeout:
		return bad("IdleTimeout and Expiry.NoIdleTimeout are both set")
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
	s.st.explicit, s.st.idle, s.st.browserClose, s.st.noIdle = false, 0, false, false
	s.st.changed()
	return s.unlockChanged()
}

// OwnExpiry returns the session's own expiry policy and true, if
// [Session.SetExpiry] gave it one (in this request or an earlier one), or
// the zero Expiry and false if it follows Config. The policy comes back in
// the form it is kept in: Deadline is the session's end (a Lifetime given
// to SetExpiry has become the Deadline it set), IdleTimeout its own idle
// timeout or 0 (then NoIdleTimeout says whether it has none, or follows
// Config.IdleTimeout), and BrowserClose as set. Django's
// get_expire_at_browser_close is [Session.ExpiresAtBrowserClose], and its
// get_expiry_date [Session.Expiry].
func (s *Session) OwnExpiry() (Expiry, bool) {
	s.lock()
	defer s.unlock()
	if !s.st.explicit {
		return Expiry{}, false
	}
	return Expiry{
		Deadline:      time.Unix(s.st.deadline, 0).UTC(),
		IdleTimeout:   time.Duration(s.st.idle) * time.Second,
		NoIdleTimeout: s.st.noIdle,
		BrowserClose:  s.st.browserClose,
	}, true
}

// ExpiresAtBrowserClose reports whether the session's cookies are written
// without Max-Age, so that browsers drop them when they close: its own
// policy's BrowserClose, or else Config.BrowserSession.
func (s *Session) ExpiresAtBrowserClose() bool {
	s.lock()
	defer s.unlock()
	return s.m.browserClose(&s.st)
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

// idleFor returns st's idle timeout in seconds: none if its own policy
// turned it off, else its own, else the configured one.
func (m *Manager) idleFor(st *state) int64 {
	switch {
	case st.noIdle:
		return 0
	case st.idle > 0:
		return st.idle
	}
	return m.idle
}

// maxAge returns the Max-Age of st's cookies for a seal at now that expires
// at exp, or -1 for a browser-session cookie.
func (m *Manager) maxAge(st *state, now, exp int64) int64 {
	if m.browserClose(st) {
		return -1
	}
	return min(exp-now, maxCookieAge)
}

// browserClose reports whether st's cookies go without Max-Age.
func (m *Manager) browserClose(st *state) bool {
	return st.explicit && st.browserClose || !st.explicit && m.browser
}

// sealExpiry returns the expiry to seal at now: the session's deadline, or
// with an idle timeout, now plus the timeout if that is earlier.
func (m *Manager) sealExpiry(st *state, now int64) int64 {
	exp := st.deadline
	if idle := m.idleFor(st); idle > 0 && len(st.values) > 0 {
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

// needsSeal reports whether saving st now writes a new sealed value. An
// empty session is sealed only to keep a browser from being migrated again
// (keepEmpty), and only if it does not hold such a cookie already.
func (m *Manager) needsSeal(st *state, now int64) bool {
	if st.empty() {
		return st.keepEmpty && (!st.fromCookie || st.modified || st.oldKey)
	}
	return st.modified || st.oldKey || st.rechecked || m.saveEvery || m.renewalDue(st, now)
}

// checkPolicy is the load stage that holds an authentic session to the
// configuration in force, not only to the expiry sealed in its cookie
// (SPEC.md §13.5), so that lowering Config.Lifetime, adding
// Config.IdleTimeout or setting Config.CreatedAfter reaches sessions
// already issued. A session without its own policy must be younger than
// Lifetime; one that follows the configured idle timeout must have been
// sealed less than IdleTimeout ago; every session must have started at or
// after CreatedAfter. The first two allow the codec's clock skew, as the
// sealed expiry does. Errors wrap ErrExpired.
func (m *Manager) checkPolicy(st *state, now int64) error {
	skew := m.codec.skew
	switch {
	case st.created < m.createdAfter:
		return fmt.Errorf("%w: session started at %s, before Config.CreatedAfter %s",
			ErrExpired, unixText(st.created), unixText(m.createdAfter))
	case !st.explicit && now >= st.created+m.lifetime+skew:
		return fmt.Errorf("%w: session started at %s, more than Config.Lifetime (%v) ago",
			ErrExpired, unixText(st.created), time.Duration(m.lifetime)*time.Second)
	case m.idle > 0 && st.idle == 0 && !st.noIdle && len(st.values) > 0 && now >= st.issued+m.idle+skew:
		return fmt.Errorf("%w: session last saved at %s, more than Config.IdleTimeout (%v) ago",
			ErrExpired, unixText(st.issued), time.Duration(m.idle)*time.Second)
	}
	return nil
}

// unixText formats Unix seconds for an error message.
func unixText(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
