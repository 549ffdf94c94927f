package cookiesession

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SaveHeader adds to h, the header of a response not yet sent, the
// Set-Cookie lines that s needs, if any (see [Manager.SetCookieHeaders],
// whose rules and errors it shares), and keeps shared caches from storing
// the response as the middleware does: "Vary: Cookie" if s was used or
// lines were added, and with lines, "Cache-Control: private" in place of
// any "public" or qualified "private" directive, unless h holds no-store
// or an unqualified private. Set the response's own Cache-Control first.
//
// It is the save for code that builds a response's header itself, such as
// a serverless handler that returns its headers in an event (see
// examples/lambda): put the Set-Cookie values where the event format wants
// them, and the other headers with them. Do not call it for a 5xx
// response.
func (m *Manager) SaveHeader(h http.Header, s *Session) error {
	lines, err := m.SetCookieHeaders(s)
	s.mu.Lock()
	used := s.st.accessed
	s.mu.Unlock()
	if used || len(lines) > 0 {
		addVary(h)
	}
	addSetCookies(h, lines)
	return err
}

// addSetCookies adds lines to h as Set-Cookie headers, and keeps shared
// caches from storing a response that carries them (makePrivate).
func addSetCookies(h http.Header, lines []string) {
	if len(lines) == 0 {
		return
	}
	makePrivate(h)
	for _, l := range lines {
		h.Add("Set-Cookie", l)
	}
}

// save returns the Set-Cookie lines that store st at now, and deletes the
// chunks it no longer uses; on success, st counts as saved. A keptError
// comes with lines that are still to be sent.
func (m *Manager) save(st *state, now int64) ([]string, error) {
	if st.held && st.subject == "" && !st.destroyed {
		// The cookie waits for the revocation store (revocation.go). Writing
		// the fresh session would replace it for good; its changes are
		// dropped, and said to be.
		if st.modified {
			return nil, keptError{errHeldNotSaved, "saved"}
		}
		return nil, nil
	}
	var lines []string
	var kept error
	exp := m.sealExpiry(st, now)
	keep := st.used // chunk cookies in use after this save
	sealed := false
	switch {
	case st.empty() && !st.keepEmpty || exp <= now:
		keep = 0
	case m.needsSeal(st, now):
		buf := getBuf()
		defer putBuf(buf)
		text, n, err := m.seal(buf, st, now, exp)
		if err != nil && !st.modified && errors.Is(err, ErrTooLarge) {
			// Only a renewal failed: the cookie as loaded stays valid.
			kept = keptError{err, "renewed"}
			break
		}
		if err != nil {
			return nil, err
		}
		lines = m.appendLines(make([]string, 0, n), text, n, m.maxAge(st, now, exp))
		keep, sealed = n, true
	}
	// Legacy cookies (Config.Migration) go before the session's own
	// deletions, which end with the first cookie's (see below).
	lines = m.appendLegacyDeletes(lines, st)
	del := st.carried
	switch {
	case st.destroyed:
		del |= 1<<m.maxChunks - 1
	case st.keepCookie && !sealed:
		// The cookie is under a key this instance does not hold (a key
		// file read mid-write, an instance that lags a rotation), or over
		// this instance's MaxSize (a rollout that raises it, or its
		// rollback). It may open again on the next request, or on another
		// instance: only a new session written in its place, or Destroy,
		// ends it.
		del = 0
	}
	// Highest index first, so that the first cookie's deletion comes last:
	// curl (7.88) keeps a deleted cookie when another Set-Cookie follows
	// its deletion in the same response.
	for i := maxChunksLimit - 1; i >= keep; i-- {
		if del&(1<<i) != 0 {
			lines = append(lines, m.setCookie(i, "", nil, 0))
		}
	}
	if sealed {
		st.issued, st.expires, st.oldKey = now, exp, false
	}
	if sealed || st.destroyed {
		st.keepCookie = false
	}
	st.used = keep
	if !st.keepCookie {
		st.carried = 1<<keep - 1
	}
	st.modified, st.destroyed, st.rechecked = false, false, false
	return lines, kept
}

// keptError reports that a session was not sealed and its cookie stays as
// it was, and stays valid: an unmodified session could not be sealed again
// (for idle renewal, key rotation or SaveEveryRequest) because it no longer
// fits the budget ("renewed"), or the fresh session of a request whose
// revocation check failed closed was changed ("saved", errHeldNotSaved).
type keptError struct {
	err  error
	what string // what did not happen to the session
}

// errHeldNotSaved: the changes made to the fresh session of a request whose
// revocation check could not reach the store are not saved.
var errHeldNotSaved = fmt.Errorf("%w: the request's check failed, so the fresh session's changes "+
	"are not saved and the cookie waits for the store", ErrRevocationUnavailable)

func (e keptError) Error() string {
	return "cookiesession: session not " + e.what + ", its cookie is kept: " + unprefixed(e.err)
}

func (e keptError) Unwrap() error { return e.err }

// seal seals st's payload at now, to expire at exp, into *buf, and returns the text
// and the number of cookies it takes. The text is valid until *buf goes
// back to the pool.
func (m *Manager) seal(buf *[]byte, st *state, now, exp int64) ([]byte, int, error) {
	// The payload goes straight into the buffer that is sealed in place.
	rbuf := getBuf()
	defer putBuf(rbuf)
	raw, err := st.appendPayload(append((*rbuf)[:0], make([]byte, sealPrefix)...), m.zmin, m.maxSession, m.maxRatio)
	*rbuf = raw
	if err != nil {
		return nil, 0, err
	}
	text, chunks, err := m.codec.sealIn(rbuf, raw, methodNone, (*buf)[:0], m.names[0], kindSession, time.Unix(now, 0), time.Unix(exp, 0), m.plan)
	*buf = text
	if err != nil {
		return nil, 0, err
	}
	return text, max(chunks, 1), nil
}
