package cookiesession

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Revocation takes stateless sessions back before they expire (SPEC.md
// §11 and §13): a session records whose it is (its subject, set at login),
// and a [RevocationStore] shared by every instance holds marks that refuse
// one session (logout) or every session of a subject started before a time
// (log out everywhere, a password change). The store holds marks only,
// never session data; each mark expires once no session it names could
// still be valid.
//
// What the marks cost: one per logout ([Session.Revoke]) and one per
// [Session.Renew] of a logged-in session, each kept until the login it
// names is LoginLifetime old (plus the clock skew), since a copy of that
// session may have had its expiry moved up to then; and one per subject
// logged out everywhere, kept LoginLifetime. With the default of 400 days,
// a site with 10,000 logouts a day holds up to about 4 million marks (some
// 660 MB in Redis, at about 165 bytes a mark); set LoginLifetime to the
// longest session the application gives (30 days: up to about 300,000
// marks, 50 MB) to keep fewer.
//
// Only sessions with a subject are checked. A session is checked when it is
// loaded, at most once per Bound: the time of its last check is sealed in
// its cookie, which is sealed again when a check passes, so a request whose
// check is not due costs a comparison of two times, and no round trip. A
// client that does not keep that new cookie (one replaying a fixed cookie,
// or a copy of a device-bound session that device binding rejects, a stage
// that comes after this check) costs a round trip per request whose check
// is due: one for one, and only with an authentic cookie.
type Revocation struct {
	// Store holds the marks; see [NewMemoryRevocationStore] for one
	// instance, and the redisstore module for a fleet. Default: nil,
	// revocation is off and no session is checked.
	Store RevocationStore
	// Bound is the longest time a revoked session may still be accepted,
	// by any instance, after the revocation (plus the clock skew between
	// instances): a session is checked again once Bound has passed since
	// its last check, and the check is sealed into its cookie. 0 checks
	// every request of a session with a subject; that costs a round trip
	// to the store per request. Default: 0.
	Bound time.Duration
	// FailOpen accepts a session whose check is due when the store cannot
	// be reached: the error, wrapping ErrRevocationUnavailable, goes to
	// Config.ErrorHook, and the next request checks again. Without it
	// (fail closed) such a request gets a fresh, empty session, and the
	// hook hears of it too, but its cookie is kept: changes to that fresh
	// session are not saved unless the handler logs in
	// ([Session.SetSubject]) or destroys it, so the session comes back
	// once the store does; the hook hears of changes so dropped, and
	// [Manager.SetCookieHeaders] returns an error for them. A logout must
	// therefore use [Session.Revoke] or [Session.Destroy] (Django's
	// flush), not [Session.Clear]: a cleared fresh session is not saved,
	// and the cookie would be back with the store. Default: false, fail
	// closed: a store outage never lets a revoked session in.
	FailOpen bool
	// Timeout is the longest a check, or a revocation, may wait for the
	// store, on top of the request's own deadline. Default:
	// DefaultRevocationTimeout (500 ms).
	Timeout time.Duration
	// LoginLifetime is the longest a login lasts, from
	// [Session.SetSubject], however its expiry is moved: a session whose
	// login is older is refused. So it bounds how long marks live, plus
	// the clock skew: a mark on a subject lives this long after the
	// revocation, a mark on a session ID until that session's login is
	// this old, so that each outlives every copy it names. Set it to the
	// longest login the application gives (its Lifetime, or a "remember
	// me" Expiry, if sessions are not extended past it) to keep marks no
	// longer than needed. Every instance that shares a store must use the
	// same value: a mark's lifetime is set by the instance that revokes,
	// and raising it later does not lengthen marks already written. Whole
	// seconds, up to 400 days. Default: 400 days, the longest a browser
	// keeps a cookie.
	LoginLifetime time.Duration
}

// DefaultRevocationTimeout is the default Revocation.Timeout: 500 ms.
const DefaultRevocationTimeout = 500 * time.Millisecond

// maxSubjectLen is the longest subject, in bytes.
const maxSubjectLen = 256

// Errors from revocation.
var (
	// ErrRevoked means a session was revoked: by its ID, or with every
	// session of its subject. The request goes on with a fresh, empty
	// session, and its cookies are deleted.
	ErrRevoked = errors.New("cookiesession: session revoked")

	// ErrRevocationUnavailable means the revocation store could not be
	// reached, or did not answer within Revocation.Timeout. With
	// Revocation.FailOpen the session was accepted all the same.
	ErrRevocationUnavailable = errors.New("cookiesession: revocation store unavailable")
)

// RevocationStore holds revocation marks for every instance of an
// application. Every method must honour ctx's deadline, and return an
// error, never a zero answer, when it cannot answer. Implementations must
// be safe for concurrent use. The package revocationtest holds a
// conformance suite that every implementation should pass.
type RevocationStore interface {
	// RevokeSession marks the session with this ID (32 lowercase hex
	// digits) revoked for ttl from now, as the store counts time. A
	// second mark on the same ID keeps the later expiry.
	RevokeSession(ctx context.Context, id string, ttl time.Duration) error
	// RevokeSubject marks every session of subject that logged in before
	// before as revoked, for ttl from now, as the store counts time. A
	// second mark on the same subject keeps the later of the two times,
	// and the later expiry.
	RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error
	// Check returns the marks on the session with this ID and on its
	// subject, in one round trip where the store allows it.
	Check(ctx context.Context, id, subject string) (RevocationMarks, error)
}

// RevocationMarks are the marks a store holds on one session.
type RevocationMarks struct {
	// Session is true if the session's ID is revoked.
	Session bool
	// Before is when the subject's sessions were last revoked: every
	// session whose login came before it is revoked. The zero Time: none.
	Before time.Time
}

// revocation is a Manager's checked Revocation.
type revocation struct {
	store    RevocationStore
	bound    int64 // nanoseconds
	failOpen bool
	timeout  time.Duration
	skew     int64 // nanoseconds
	maxLogin int64 // nanoseconds
}

// newRevocation checks rv; it returns nil when revocation is off.
func newRevocation(rv *Revocation, skew int64) (*revocation, error) {
	bad := func(format string, a ...any) (*revocation, error) {
		return nil, fmt.Errorf("%w: Revocation: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	switch {
	case rv.Store == nil && (rv.Bound != 0 || rv.FailOpen || rv.Timeout != 0 || rv.LoginLifetime != 0):
		return bad("Bound, FailOpen, Timeout and LoginLifetime need a Store")
	case rv.Store == nil:
		return nil, nil
	case rv.Bound < 0 || rv.Bound > maxCookieAge*time.Second:
		return bad("Bound %v is not from 0 to 400 days", rv.Bound)
	case rv.Timeout < 0:
		return bad("Timeout %v is negative", rv.Timeout)
	case rv.LoginLifetime < 0 || rv.LoginLifetime > maxCookieAge*time.Second || rv.LoginLifetime%time.Second != 0:
		return bad("LoginLifetime %v is not a whole number of seconds up to 400 days", rv.LoginLifetime)
	}
	return &revocation{
		store:    rv.Store,
		bound:    int64(rv.Bound),
		failOpen: rv.FailOpen,
		timeout:  cmp.Or(rv.Timeout, DefaultRevocationTimeout),
		skew:     skew * int64(time.Second),
		maxLogin: int64(cmp.Or(rv.LoginLifetime, maxCookieAge*time.Second)),
	}, nil
}

// checkRevocation is the revocation stage of a load (SPEC.md §11): it
// decides whether the opened session st is accepted. A session without a
// subject, or whose last check is less than Bound ago, is accepted with no
// round trip. Otherwise the store is asked; a session that passes has the
// check's time recorded, to be sealed. A store that fails gives an error
// wrapping ErrRevocationUnavailable, with the session accepted under
// FailOpen and refused otherwise.
func (m *Manager) checkRevocation(ctx context.Context, st *state) (bool, error) {
	rv := m.revocation
	if rv == nil || st.subject == "" {
		return true, nil
	}
	now := m.now().UnixNano()
	if now-st.login > rv.maxLogin {
		return false, fmt.Errorf("%w: its login is older than Revocation.LoginLifetime", ErrRevoked)
	}
	// A check time ahead of this instance's clock by more than the skew is
	// not trusted to put the next check off.
	if st.checked != 0 && now-st.checked < rv.bound && st.checked-now <= rv.skew {
		return true, nil
	}
	marks, err := rv.ask(ctx, func(ctx context.Context) (RevocationMarks, error) {
		return rv.store.Check(ctx, hex.EncodeToString(st.id[:]), st.subject)
	})
	switch {
	case err != nil:
		return rv.failOpen, fmt.Errorf("%w: %w", ErrRevocationUnavailable, err)
	case marks.Session:
		return false, fmt.Errorf("%w: by its ID", ErrRevoked)
	case !marks.Before.IsZero() && st.login < marks.Before.UnixNano():
		return false, fmt.Errorf("%w: with every session of its subject", ErrRevoked)
	}
	st.checked, st.rechecked = now, true
	return true, nil
}

// checkMigrated is the revocation stage for a session that Migration.Load
// made. Its login time is the migration's, not the legacy login's, which
// cookiesession cannot know: so a session whose subject has a live mark
// (logged out everywhere within the last LoginLifetime) is refused, whenever the
// legacy login happened. A store that fails refuses it too, unless FailOpen.
func (m *Manager) checkMigrated(ctx context.Context, st *state) error {
	rv := m.revocation
	if rv == nil || st.subject == "" {
		return nil
	}
	marks, err := rv.ask(ctx, func(ctx context.Context) (RevocationMarks, error) {
		return rv.store.Check(ctx, hex.EncodeToString(st.id[:]), st.subject)
	})
	switch {
	case err != nil && !rv.failOpen:
		return fmt.Errorf("%w: legacy session not migrated: %w", ErrRevocationUnavailable, err)
	case err == nil && !marks.Before.IsZero():
		return fmt.Errorf("%w: a legacy session of a subject logged out everywhere", ErrRevoked)
	}
	return nil
}

// ask runs one store operation under Timeout.
func (rv *revocation) ask(ctx context.Context, op func(context.Context) (RevocationMarks, error)) (RevocationMarks, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	return op(ctx)
}

// revocationFor returns the Manager's revocation, or an error if it has
// none.
func (m *Manager) revocationFor(op string) (*revocation, error) {
	if m.revocation == nil {
		return nil, fmt.Errorf("%w: %s needs Config.Revocation.Store", ErrInvalidConfig, op)
	}
	return m.revocation, nil
}

// SetSubject records whose session this is, at login, and only then: each
// call starts a new login, so calling it on a session that is logged in
// already (in a middleware that "ensures" the subject, say) would let any
// copy of that session pass a later "log out everywhere". subject is the
// user's ID, 1 to 256 bytes, sealed in the cookie but not among the
// session's values. Revocation checks only sessions with a subject, and
// [Manager.RevokeSubject] refuses every session of a subject that logged in
// before it. The login time is recorded to the nanosecond, so a login just
// after a "log out everywhere" works at once. Call [Session.Renew] first, so
// that the login gets a new ID. An empty subject clears it, as at logout;
// [Session.Destroy] and [Session.Clear] clear it too. A subject out of
// range gives an error wrapping [ErrInvalidConfig], and leaves the session
// unchanged. After the response header was sent it returns
// [ErrHeaderWritten], as [Session.Set] does.
func (s *Session) SetSubject(subject string) error {
	if len(subject) > maxSubjectLen {
		return fmt.Errorf("%w: subject of %d bytes, more than %d", ErrInvalidConfig, len(subject), maxSubjectLen)
	}
	s.lock()
	now := s.m.now().UnixNano()
	// A new login has no mark that could refuse it: it counts as checked
	// (with revocation on; off, the check time is not sealed at all).
	s.st.subject, s.st.login, s.st.checked = subject, now, 0
	if s.m.revocation != nil {
		s.st.checked = now
	}
	if subject == "" {
		s.st.clearSubject()
	}
	s.st.changed()
	return s.unlockChanged()
}

// Subject returns whose session this is, as [Session.SetSubject] set it, or
// "" if nobody's. It reads no session value.
func (s *Session) Subject() string {
	s.lock()
	defer s.unlock()
	return s.st.subject
}

// Revoke ends this session everywhere, at logout: every copy of its cookie,
// such as one stolen before, is refused within Config.Revocation.Bound, on
// every instance that shares the store. It records the mark, then destroys
// the session as [Session.Destroy] does. The mark lasts until the session's
// login is Revocation.LoginLifetime old (400 days by default), plus the
// clock skew: not merely until this copy's end, since a stolen copy may
// have had its expiry moved later ([Session.SetExpiry]). A session without
// a subject, or that did not come from a cookie, has no copies that are
// checked, and needs no mark. The
// session is destroyed even when the store fails; the error, wrapping
// ErrRevocationUnavailable, says the copies may still work. So it does for
// the fresh session of a request whose check could not reach the store
// (failing closed): the cookie is deleted, its copies are not revoked. Without
// Config.Revocation.Store it gives an error wrapping ErrInvalidConfig.
func (s *Session) Revoke(ctx context.Context) error {
	defer s.Destroy()
	rv, err := s.m.revocationFor("Session.Revoke")
	if err != nil {
		return err
	}
	s.lock()
	id, subject, fromCookie := hex.EncodeToString(s.st.id[:]), s.st.subject, s.st.fromCookie
	login, held := s.st.login, s.st.held
	s.unlock()
	if held {
		// The request's cookie was set aside when its check failed: its
		// copies cannot be revoked now.
		return fmt.Errorf("%w: the session's check failed, so its copies are not revoked", ErrRevocationUnavailable)
	}
	if subject == "" || !fromCookie {
		return nil
	}
	ttl := rv.sessionMarkTTL(login, s.m.now())
	if ttl <= 0 {
		return nil // every copy is refused for its login's age
	}
	_, err = rv.ask(ctx, func(ctx context.Context) (RevocationMarks, error) {
		return RevocationMarks{}, rv.store.RevokeSession(ctx, id, ttl)
	})
	if err != nil {
		return fmt.Errorf("%w: session not revoked: %w", ErrRevocationUnavailable, err)
	}
	return nil
}

// sessionMarkTTL is how long, from now, a mark on the ID of a session that
// logged in at login (Unix nanoseconds) must live: as long as any copy of
// that ID may be accepted. Copies share the login but not the expiry (a
// stolen copy may have been extended with [Session.SetExpiry], or renewed
// less recently than the one that logs out), and checkRevocation refuses
// every copy once its login is older than LoginLifetime; the skew covers an
// instance whose clock lags the one that revokes. A result of 0 or less
// means no copy can be accepted any more.
func (rv *revocation) sessionMarkTTL(login int64, now time.Time) time.Duration {
	return time.Duration(login + rv.maxLogin + rv.skew - now.UnixNano())
}

// revokeRenewed revokes the ID that s's cookie had before [Session.Renew]
// replaced it (see state.renewedFrom), once; the save that follows writes
// the new ID. It runs before the save, outside the session's lock, since
// it may wait for the store. The mark lives as long as Revoke's does
// (sessionMarkTTL). A store that fails gives an error wrapping
// ErrRevocationUnavailable: the old cookie's copies may still work.
func (m *Manager) revokeRenewed(ctx context.Context, s *Session) error {
	rv := m.revocation
	if rv == nil {
		return nil // no lock taken: the save of every request comes here
	}
	s.mu.Lock()
	id, login := s.st.renewedFrom, s.st.renewedLogin
	s.mu.Unlock()
	if id == "" {
		return nil
	}
	if ttl := rv.sessionMarkTTL(login, m.now()); ttl > 0 {
		if _, err := rv.ask(ctx, func(ctx context.Context) (RevocationMarks, error) {
			return RevocationMarks{}, rv.store.RevokeSession(ctx, id, ttl)
		}); err != nil {
			return fmt.Errorf("%w: the ID the session had before Renew is not revoked: %w", ErrRevocationUnavailable, err)
		}
	}
	s.mu.Lock()
	if s.st.renewedFrom == id {
		s.st.renewedFrom = ""
	}
	s.mu.Unlock()
	return nil
}

// RevokeSubject ends every session of subject that logged in before now, on
// every instance that shares the store, within Config.Revocation.Bound: log
// out everywhere, after a password change, or when an account is disabled.
// A session that logs in afterwards, even within the same second, is not
// affected. The mark lasts Revocation.LoginLifetime (400 days by default)
// plus the clock skew: the longest a login lasts with revocation on. It
// does not change the request's own session: destroy it too if it should
// end. A store that fails gives an error
// wrapping ErrRevocationUnavailable; an empty subject, or no
// Config.Revocation.Store, one wrapping ErrInvalidConfig.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	rv, err := m.revocationFor("Manager.RevokeSubject")
	if err != nil {
		return err
	}
	if subject == "" || len(subject) > maxSubjectLen {
		return fmt.Errorf("%w: subject of %d bytes is not 1 to %d", ErrInvalidConfig, len(subject), maxSubjectLen)
	}
	before := m.now()
	ttl := time.Duration(rv.maxLogin + rv.skew)
	_, err = rv.ask(ctx, func(ctx context.Context) (RevocationMarks, error) {
		return RevocationMarks{}, rv.store.RevokeSubject(ctx, subject, before, ttl)
	})
	if err != nil {
		return fmt.Errorf("%w: subject not revoked: %w", ErrRevocationUnavailable, err)
	}
	return nil
}

// appendSubject appends the subject fields that flags announce (SPEC.md
// §13.2).
func (st *state) appendSubject(dst []byte, flags byte) []byte {
	if flags&payloadSubject != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(st.subject)))
		dst = append(dst, st.subject...)
		dst = binary.BigEndian.AppendUint64(dst, uint64(st.login))
	}
	if flags&payloadChecked != 0 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(st.checked))
	}
	return dst
}

// readSubject reads the subject fields that flags announce from p[pos:],
// filling st's times, and returns the position after them and the
// subject's bytes (within p).
func (st *state) readSubject(p []byte, pos int, flags byte) (int, []byte, error) {
	var subject []byte
	if flags&payloadSubject != 0 {
		s, e, ok := field(p, pos)
		if !ok || e == s || e-s > maxSubjectLen || len(p)-e < 8 {
			return 0, nil, fmt.Errorf("%w: session subject", ErrMalformed)
		}
		subject = p[s:e]
		st.login, pos = int64(binary.BigEndian.Uint64(p[e:])), e+8
		if st.login <= 0 {
			return 0, nil, fmt.Errorf("%w: session login time out of range", ErrMalformed)
		}
	}
	if flags&payloadChecked != 0 {
		if len(p)-pos < 8 {
			return 0, nil, fmt.Errorf("%w: session check time", ErrMalformed)
		}
		st.checked, pos = int64(binary.BigEndian.Uint64(p[pos:])), pos+8
		if st.checked <= 0 {
			return 0, nil, fmt.Errorf("%w: session check time out of range", ErrMalformed)
		}
	}
	return pos, subject, nil
}

// clearSubject makes st nobody's session.
func (st *state) clearSubject() { st.subject, st.login, st.checked = "", 0, 0 }

// empty reports whether st holds nothing to keep: no value and no subject.
// An empty session's cookies are deleted.
func (st *state) empty() bool { return len(st.values) == 0 && st.subject == "" }
