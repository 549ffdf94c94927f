package cookiesession

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
)

// Session is one visitor's session data: string keys, each holding any
// value the serializer can encode. It works like Django's request.session.
//
// The middleware puts a Session in every request's context ([FromContext]);
// [Manager.Load] and its siblings make one from cookies directly. A Session
// loads its cookie the first time a method is called, so a request that never
// touches its session pays for no decoding. Methods are safe for concurrent
// use by the goroutines of one request.
//
// Read values with [Get], [GetOr] and [Pop]; write them with [Session.Set].
//
// A nil *Session, as [FromContext] returns in a handler that the
// middleware does not wrap, panics in every method with a message that
// names [Manager.Middleware].
type Session struct {
	mu        sync.Mutex
	m         *Manager
	req       *http.Request   // the middleware loads from it on first use
	ctx       context.Context // its context without this session, for Validate
	hookReq   *http.Request   // the middleware's request, for ErrorHook
	committed bool            // the middleware has sent the response header
	returned  bool            // the middleware's handler has returned
	loaded    bool
	st        state
}

// state is everything a Session knows, apart from its lock and its source.
type state struct {
	id       [16]byte
	hasID    bool
	created  int64 // Unix seconds: when the session started, or was renewed
	deadline int64 // Unix seconds: the session's absolute end

	// The session's own expiry, from SetExpiry: it replaces Config's
	// Lifetime and BrowserSession for this session, and its IdleTimeout
	// if idle or noIdle is set.
	explicit     bool
	idle         int64 // seconds; 0: Config.IdleTimeout, or none if noIdle
	noIdle       bool  // no idle timeout, whatever Config says
	browserClose bool  // no Max-Age
	values       values

	// Whose session it is, for revocation (revocation.go).
	subject   string // "": nobody's
	login     int64  // Unix nanoseconds: when the subject was set
	checked   int64  // Unix nanoseconds: the last revocation check it passed; 0: none
	rechecked bool   // checked moved in this request: seal again
	held      bool   // fresh because the revocation store failed: keep the cookie
	// renewedFrom is the ID of the cookie the request carried, once Renew
	// replaced it on a session with a subject and revocation on; its
	// copies are revoked when the session is saved (revokeRenewed), for
	// as long as a copy of that login may be accepted: until renewedLogin
	// (Unix nanoseconds) plus Revocation.LoginLifetime, plus the skew.
	renewedFrom  string
	renewedLogin int64
	// Device binding (dbsc.go): the session is bound to devKey, a P-256
	// public key as x || y (payload flags bit 6).
	bound  bool
	devKey [64]byte
	dev    devState // the request's device cookie, and what to write

	// What the request carried.
	fromCookie bool   // the session came from an authentic cookie
	info       Info   // describes that cookie
	issued     int64  // issued_at of that cookie
	expires    int64  // expires_at of that cookie
	oldKey     bool   // sealed under a key that is no longer primary
	used       int    // how many chunk cookies the session occupied
	carried    uint32 // bit i: the request carried chunk i (any value)
	legacy     uint32 // bit i: the request carried Migration.Cookies[i]
	keepCookie bool   // its cookie failed for a reason that may pass (a key this instance lacks, over its budget): see save
	keepEmpty  bool   // sealed even when empty: the browser is not to be migrated again

	accessed  bool // a method was called: the response varies by Cookie
	modified  bool
	destroyed bool
	gen       uint64 // counts changes, to find those made after the header went out
}

// faultPending reports that the request's session cookie did not load for
// a reason that may pass (keepCookie, held): the cookie is kept, and the
// session may load on the next try.
func (st *state) faultPending() bool { return !st.fromCookie && (st.keepCookie || st.held) }

// errNoSession is the panic of a nil or zero Session.
const errNoSession = "cookiesession: no session: FromContext found none in the request's context. " +
	"Wrap the handler in Manager.Middleware, or make sessions with Manager.Load"

// check panics, with a message that says what is wrong, if s is not a
// session from a Manager.
func (s *Session) check() {
	if s == nil || s.m == nil {
		panic(errNoSession)
	}
}

// lock locks s and loads its cookie if that has not happened yet.
func (s *Session) lock() {
	s.check()
	s.mu.Lock()
	if !s.loaded {
		r, err := s.m.loadLazy(s)
		if err != nil || s.committed {
			// The hook may use the session: report unlocked.
			s.mu.Unlock()
			s.m.report(r, err)
			if s.committed {
				s.m.report(r, errLateLoad)
			}
			s.mu.Lock()
		}
	}
	s.st.accessed = true
}

func (s *Session) unlock() { s.mu.Unlock() }

// errChangedAfterHeader is what a change returns once the response header
// has gone out.
var errChangedAfterHeader = fmt.Errorf("%w: the change is not saved", ErrHeaderWritten)

// unlockChanged unlocks s after a change, and returns ErrHeaderWritten if
// the response header had already gone out, so that the change will not be
// saved. The middleware reports such changes to Config.ErrorHook when the
// handler returns; a change after that (from a goroutine the handler left
// running) is reported here, since nothing else will see it.
func (s *Session) unlockChanged() error {
	committed, returned, r := s.committed, s.returned, s.hookReq
	s.mu.Unlock()
	if !committed {
		return nil
	}
	if returned && r != nil {
		err := fmt.Errorf("%w: session changed after the handler returned", ErrHeaderWritten)
		s.m.hook(r, err)
		return err
	}
	return errChangedAfterHeader
}

// changed records a change.
func (st *state) changed() {
	st.modified = true
	st.gen++
}

// Modified reports whether the session holds changes that are not saved
// yet, like Django's request.session.modified. These mark it modified:
// [Session.Set], [Session.Clear], [Session.Destroy], [Session.Renew],
// [Session.SetExpiry], [Session.ResetExpiry] and [Session.AddFlash], always
// (Clear and Destroy even on an empty session); [Session.Delete] and [Pop]
// when the key was there ([Session.Flashes] when there were messages); a
// session filled from a legacy cookie by Config.Migration; and changes
// that Config.Validate makes. Reads never do, nor does a failed change. A
// save clears it: the middleware's, just before the response header goes
// out, or [Manager.Save] and [Manager.SetCookieHeaders]. So it is false
// after the header, unless the session changed after that (and the change
// was lost: see [ErrHeaderWritten]).
//
// A session can be saved when it is not modified: for its idle renewal,
// under a new primary key, or with Config.SaveEveryRequest. Modified does
// not report those. It does not open the session's cookie either: before
// the first use of another method, it reports false.
func (s *Session) Modified() bool {
	s.check()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.modified
}

// raw returns the serialized value under key, inflated. Stored slices are
// never written to again, so the result stays valid after the lock is
// released. An error (a compressed value that does not inflate) wraps
// ErrMalformed.
func (s *Session) raw(key string) ([]byte, bool, error) {
	s.lock()
	defer s.unlock()
	return s.st.values.get(key)
}

// Get returns the value stored under key, decoded into a T. A key that is
// not in the session gives T's zero value, false and a nil error. A value
// that does not decode into a T, such as a string read as an int, gives
// T's zero value, true, and an error wrapping [ErrValueType].
//
// A large value stored compressed is inflated the first time it is read in
// a request, and only then; one that does not inflate (which only a bug in
// the sealer can cause, since cookies are authenticated) gives an error
// wrapping [ErrMalformed].
//
// Each call decodes afresh, so changing the result does not change the
// session; call [Session.Set] to store a change.
func Get[T any](s *Session, key string) (T, bool, error) {
	raw, ok, err := s.raw(key)
	if !ok || err != nil {
		var zero T
		return zero, ok, err
	}
	v, err := decodeValue[T](s.m.codec, key, raw)
	return v, true, err
}

// GetOr returns the value stored under key, decoded into a T, or def if the
// key is not in the session or its value does not decode into a T. It is
// [Get] for reads that need no error check:
//
//	n := cookiesession.GetOr(s, "visits", 0)
//
// Under the middleware, a value that does not decode is reported to
// Config.ErrorHook (as an error wrapping [ErrValueType]); use Get to see
// that error yourself.
func GetOr[T any](s *Session, key string, def T) T {
	v, ok, err := Get[T](s, key)
	if err != nil {
		s.mu.Lock()
		r := s.hookReq
		s.mu.Unlock()
		if r != nil {
			s.m.hook(r, err)
		}
		return def
	}
	if !ok {
		return def
	}
	return v
}

// decodeValue decodes the stored value of key into a T.
func decodeValue[T any](c *Codec, key string, raw []byte) (T, error) {
	v, err := unmarshalValue[T](c, raw)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%w: key %q as %T: %w", ErrValueType, key, v, err)
	}
	return v, nil
}

// errLateLoad reports a session used for the first time after the response
// header was sent, which therefore lacks Vary: Cookie.
var errLateLoad = fmt.Errorf("%w: session first used after it, so the response has no Vary: Cookie", ErrHeaderWritten)

// Pop returns the value stored under key, like [Get], and removes it from
// the session, which is then modified. If the key is absent, or its value
// does not decode into a T, the session is left unchanged. After the
// response header was sent, it returns the value with [ErrHeaderWritten]:
// the removal is not saved.
func Pop[T any](s *Session, key string) (T, bool, error) {
	s.lock()
	raw, ok, err := s.st.values.get(key)
	if !ok || err != nil {
		s.unlock()
		var zero T
		return zero, ok, err
	}
	v, err := decodeValue[T](s.m.codec, key, raw)
	if err != nil {
		s.unlock()
		return v, true, err
	}
	s.st.values.del(key)
	s.st.changed()
	return v, true, s.unlockChanged()
}

// Set stores value under key, replacing any value there, and marks the
// session modified. The value is serialized now, so later changes to it are
// not seen unless Set is called again; the serializer's error, if any, is
// returned and the session left unchanged.
//
// After the response header was sent, Set returns [ErrHeaderWritten]: the
// value is stored for the rest of the request, but not saved, and the
// middleware also reports it to Config.ErrorHook.
func (s *Session) Set(key string, value any) error {
	s.check()
	raw, err := s.m.codec.marshalValue(value)
	if err != nil {
		return fmt.Errorf("cookiesession: serialize session value %q: %w", key, err)
	}
	s.lock()
	s.st.values.set(key, raw)
	s.st.changed()
	return s.unlockChanged()
}

// Delete removes key from the session. It marks the session modified only
// if the key was there. A change after the response header was sent is
// reported to Config.ErrorHook, as for [Session.Set].
func (s *Session) Delete(key string) {
	s.lock()
	if !s.st.values.del(key) {
		s.unlock()
		return
	}
	s.st.changed()
	s.unlockChanged()
}

// Has reports whether key is in the session.
func (s *Session) Has(key string) bool {
	s.lock()
	defer s.unlock()
	_, ok := s.st.values.find(key)
	return ok
}

// Keys returns the session's keys in sorted order.
func (s *Session) Keys() []string {
	s.lock()
	defer s.unlock()
	keys := make([]string, len(s.st.values))
	for i, e := range s.st.values {
		keys[i] = e.key
	}
	return keys
}

// Len returns the number of keys in the session.
func (s *Session) Len() int {
	s.lock()
	defer s.unlock()
	return len(s.st.values)
}

// Clear removes every key, and the subject, and marks the session modified.
// The session keeps its ID and expiry; if nothing is stored again before the
// response, its cookies are deleted, as for any empty session.
func (s *Session) Clear() {
	s.lock()
	s.st.values.clear()
	s.st.clearSubject()
	s.st.changed()
	s.unlockChanged()
}

// Destroy removes every key, and deletes every session cookie, at every
// chunk index up to Config.MaxChunks, when the response is written. Use it
// at logout. Values set after Destroy start a new session, with a new ID.
// With a Config.Migration that loads, the first cookie is not deleted but
// replaced by an empty session, so that the browser is not migrated again
// from a legacy cookie that the logout could not delete (see [Migration]).
// It ends a device binding (Config.DeviceBinding) too, and the middleware
// deletes the device cookie.
func (s *Session) Destroy() {
	s.lock()
	now := s.m.nowUnix()
	s.st.values.clear()
	s.st.hasID = false
	s.st.created, s.st.deadline = now, now+s.m.lifetime
	s.st.explicit, s.st.idle, s.st.browserClose, s.st.noIdle = false, 0, false, false
	s.st.bound, s.st.devKey, s.st.dev.offer = false, [64]byte{}, false // logout ends the binding
	s.st.destroyed = true
	s.st.clearSubject()
	s.st.fromCookie, s.st.info = false, Info{}
	s.st.issued, s.st.expires, s.st.oldKey = 0, 0, false
	s.st.changed()
	s.unlockChanged()
}

// Renew gives the session a new random ID and restarts its lifetime, keeping
// its data, and marks it modified. Call it when privileges change, as at
// login, so an ID seen before login is of no use after it. An expiry set
// with [Session.SetExpiry] is kept, and so is a device binding: the
// middleware writes the device cookie again for the new ID, expiring when
// the old one did. With Config.Revocation, renewing a session that has a
// subject revokes the ID its cookie had when the session is saved, so that
// a copy of the old cookie does not outlive a later [Session.Revoke] (the
// middleware reports a store that fails to the hook; SetCookieHeaders and
// SaveHeader return its error with the lines to send).
func (s *Session) Renew() {
	s.lock()
	now := s.m.nowUnix()
	if s.m.revocation != nil && s.st.subject != "" && s.st.fromCookie && s.st.hasID && s.st.renewedFrom == "" {
		// Copies of the cookie under the old ID would outlive a later
		// Revoke, which marks the new ID: the save revokes the old one.
		s.st.renewedFrom = hex.EncodeToString(s.st.id[:])
		s.st.renewedLogin = s.st.login
	}
	s.st.hasID = false
	s.st.created = now
	if !s.st.explicit {
		s.st.deadline = now + s.m.lifetime
	}
	s.st.changed()
	s.unlockChanged()
}

// ID returns the session's random 128-bit ID as 32 lowercase hex digits. It
// is sealed inside the cookie, so applications may log it, or keep a list of
// revoked IDs and reject them in Config.Validate. A new session gets its ID
// on first use; [Session.Renew] and [Session.Destroy] change it.
func (s *Session) ID() string {
	s.lock()
	defer s.unlock()
	s.st.ensureID()
	return hex.EncodeToString(s.st.id[:])
}

func (st *state) ensureID() {
	if !st.hasID {
		rand.Read(st.id[:]) // never fails (crypto/rand, Go 1.24)
		st.hasID = true
	}
}

// IsNew reports whether the session did not come from an authentic cookie:
// the request had none, or it was rejected.
func (s *Session) IsNew() bool {
	s.lock()
	defer s.unlock()
	return !s.st.fromCookie
}

// Info describes the cookie the session was loaded from: the key that
// sealed it, whether that key is still primary, when it was issued and when
// it expires. Info.Compressed is always false for a session: its values are
// compressed one by one, never as a whole. For a new session it is the
// zero Info. Saving the session does not change it.
func (s *Session) Info() Info {
	s.lock()
	defer s.unlock()
	return s.st.info
}
