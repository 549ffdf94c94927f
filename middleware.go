package cookiesession

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

type contextKey struct{}

// managerKey finds the session of one Manager's middleware in a context.
type managerKey struct{ m *Manager }

// FromContext returns the session that the middleware put in a request's
// context, or nil if the context has none: the handler is not wrapped in
// [Manager.Middleware]. With several managers' middleware stacked, it is
// the session of the innermost; [Manager.FromContext] finds each one's.
// Every method of a nil *Session panics with a message that says so.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}

// FromContext returns the session that m's middleware put in a request's
// context, or nil if m's middleware does not wrap the handler. Use it when
// two managers' middleware wrap one handler, as for a short-lived login
// session beside long-lived preferences under another cookie name, like
// gorilla/sessions' store.Get(r, name): the package-level [FromContext]
// returns the innermost session only. If m's middleware wraps the handler
// twice, it returns the inner one's session.
func (m *Manager) FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(managerKey{m}).(*Session)
	return s
}

// sessionContext is a request context that carries a session. It does what
// context.WithValue does, but lives inside the middleware's one allocation
// per request.
type sessionContext struct {
	context.Context
	s *Session
}

func (c *sessionContext) Value(key any) any {
	switch key {
	case contextKey{}, managerKey{c.s.m}:
		return c.s
	}
	return c.Context.Value(key)
}

// exchange is everything the middleware needs for one request, allocated
// together.
type exchange struct {
	rw  responseWriter
	ctx sessionContext
	req http.Request
}

// Middleware returns a handler that gives every request a session, reached
// with FromContext(r.Context()), or m.FromContext(r.Context()) when several
// managers' middleware wrap one handler, and then calls next.
//
// The session's cookie is opened only when the handler first uses the
// session. A cookie that does not open gives a fresh, empty session, and
// the reason goes to Config.ErrorHook; the request goes on normally. A
// cookie sealed under a key the keyring does not hold (ErrUnknownKey) is
// not deleted unless the response writes a new session in its place or
// the handler calls Destroy: the key may be missing only for a moment (a
// key file read mid-write, an instance that lags a rotation), and the
// cookie opens again once it is back.
//
// The session is saved just before the response header is sent: at the
// handler's first WriteHeader, Write, ReadFrom or Flush, or when it returns
// without writing. It is saved only if it was modified, its idle renewal is
// due, it was sealed under a key that is no longer primary, or
// Config.SaveEveryRequest is set; it is not saved at all if the response
// status is 500 or above. An empty session has its cookies deleted.
//
// If the session was used, the response gets "Vary: Cookie". A response
// that carries session cookies also gets "Cache-Control: private", in place
// of any "public" directive and of a qualified "private" (as
// private="X-User"), unless the handler set "no-store" or an unqualified
// "private" itself, so that no shared cache stores one visitor's cookies
// and serves them to others.
//
// Finish with the session before writing the response: a change made after
// the header has gone out cannot reach the browser. [Session.Set] and the
// other methods that return an error return ErrHeaderWritten then, and the
// change is reported to Config.ErrorHook, as is a session used for the
// first time after the header went out, which then lacks Vary: Cookie, and
// a change from a goroutine after the handler returned. If a
// modified session cannot be saved, as when it is over Config.MaxSize, the
// error goes to Config.ErrorHook and Config.SaveFailed writes the response
// instead of the handler. An unmodified session that only needed a renewed
// seal keeps its cookie instead, and the error goes to the hook alone.
//
// Browsers drop Secure cookies (the default) that come over plain HTTP,
// unless the page's host is localhost or a loopback address, so behind a
// misconfigured proxy, or on a LAN address without TLS, every session is
// lost without a trace. The first time in the process that a response sets
// Secure cookies in answer to a request with no TLS, no
// "X-Forwarded-Proto: https" and a Host other than localhost or a
// loopback address, Config.ErrorHook receives an error wrapping
// [ErrPlainHTTP] that names the fixes (TLS termination, or
// Config.Insecure); the response goes out unchanged. The check runs only
// when a response sets cookies, and stops after the first report.
//
// The ResponseWriter that next receives supports http.Flusher,
// http.Hijacker and io.ReaderFrom, and unwraps for http.ResponseController.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return &middleware{m: m, next: next}
}

type middleware struct {
	m    *Manager
	next http.Handler
}

func (mw *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if mw.m.dev != nil && mw.m.deviceRoute(w, r) {
		return
	}
	x := new(exchange)
	rw := &x.rw
	rw.w, rw.m, rw.s.m = w, mw.m, mw.m
	x.ctx.Context, x.ctx.s = r.Context(), &rw.s
	// WithContext is inlined here, so its copy of the request stays on the
	// stack, and the request the handler sees lives in x.
	x.req = *r.WithContext(&x.ctx)
	rw.r = &x.req
	rw.s.req, rw.s.ctx, rw.s.hookReq = rw.r, r.Context(), rw.r
	mw.next.ServeHTTP(rw, rw.r)
	rw.finish()
}

// responseWriter saves the session when the response is committed.
type responseWriter struct {
	w         http.ResponseWriter
	m         *Manager
	r         *http.Request
	s         Session
	committed bool
	status    int    // status committed with
	gen       uint64 // s.st.gen when committed
	failed    error  // the save failed; the handler's output is discarded
}

// commit saves the session into the header, once, before it is sent.
func (rw *responseWriter) commit(status int) {
	if rw.committed {
		return
	}
	rw.committed, rw.status = true, status
	if status < 500 {
		if err := rw.m.revokeRenewed(rw.r.Context(), &rw.s); err != nil {
			rw.m.hook(rw.r, err)
		}
	}
	lines, loadErr, err := rw.save(status)
	rw.m.report(rw.r, loadErr)
	if err != nil && isKept(err) {
		rw.m.hook(rw.r, err)
		err = nil
	}
	if err != nil {
		// Hooks run unlocked: they may use the session.
		rw.failed = saveError{err}
		rw.m.hook(rw.r, rw.failed)
		rw.m.saveFailed(rw.w, rw.r, rw.failed)
		return
	}
	if len(lines) == 0 {
		return
	}
	rw.m.warnPlainHTTP(rw.r)
	addSetCookies(rw.w.Header(), lines) // save added Vary: Cookie
}

// save returns the Set-Cookie lines for the session, under its lock, and
// the error from loading it if SaveEveryRequest loaded it just now. It adds
// "Vary: Cookie" to a response that used the session or that carries lines.
func (rw *responseWriter) save(status int) (lines []string, loadErr, err error) {
	s := &rw.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = true
	defer func() { rw.gen = s.st.gen }() // after loading: Validate may change it
	if !s.loaded {
		if !rw.m.saveEvery || status >= 500 {
			return nil, nil, nil
		}
		_, loadErr = rw.m.loadLazy(s)
	}
	if status < 500 {
		now, destroyed := rw.m.nowUnix(), s.st.destroyed
		lines, err = rw.m.save(&s.st, now)
		if rw.m.dev != nil && (err == nil || isKept(err)) {
			lines, err = rw.m.deviceSave(rw.w.Header(), &s.st, now, destroyed, lines, err)
		}
	}
	if s.st.accessed || len(lines) > 0 {
		addVary(rw.w.Header())
	}
	return lines, loadErr, err
}

// finish runs when the handler returns: it commits an unwritten response
// and reports changes that came too late.
func (rw *responseWriter) finish() {
	if !rw.committed {
		rw.commit(http.StatusOK)
	}
	s := &rw.s
	s.mu.Lock()
	late := s.st.gen != rw.gen
	s.returned = true // from now on, a change reports itself
	s.mu.Unlock()
	if late && rw.status < 500 && rw.failed == nil {
		rw.m.hook(rw.r, fmt.Errorf("%w: session changed after the response header was sent", ErrHeaderWritten))
	}
}

// addVary adds Cookie to the Vary header unless it is there already.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

// privateValue is the Cache-Control of a response whose handler set none.
// Header values are not written to once set, so it is shared.
var privateValue = []string{"private"}

// makePrivate keeps shared caches from storing a response that carries
// session cookies: unless the handler marked it no-store or (unqualified)
// private, it drops any public directive and any qualified private (as
// private="X-User", which lets a shared cache store the rest of the
// response), adds private, and keeps the other directives (such as
// max-age, which then applies to the browser's own cache).
func makePrivate(h http.Header) {
	vals := h.Values("Cache-Control")
	if len(vals) == 0 {
		h["Cache-Control"] = privateValue
		return
	}
	keep := []string{"private"}
	for _, v := range vals {
		for v != "" {
			var d string
			d, v = nextDirective(v)
			d = strings.TrimSpace(d)
			name, _, qualified := strings.Cut(d, "=")
			name = strings.TrimSpace(name)
			switch {
			case !qualified && (strings.EqualFold(name, "no-store") || strings.EqualFold(name, "private")):
				return
			case strings.EqualFold(name, "public"), strings.EqualFold(name, "private"), d == "":
			default:
				keep = append(keep, d)
			}
		}
	}
	h.Set("Cache-Control", strings.Join(keep, ", "))
}

// nextDirective splits a Cache-Control value at its first comma outside
// a quoted string (private="X-User, X-Plan" is one directive).
func nextDirective(v string) (d, rest string) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	// Informational responses (103 Early Hints) go out before the final
	// header, which is the one that carries the session.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code)
		return
	}
	rw.commit(code)
	if rw.failed == nil {
		rw.w.WriteHeader(code)
	}
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.commit(http.StatusOK)
	if rw.failed != nil {
		return 0, rw.failed
	}
	return rw.w.Write(p)
}

// ReadFrom keeps the underlying writer's sendfile path for io.Copy.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	rw.commit(http.StatusOK)
	if rw.failed != nil {
		return 0, rw.failed
	}
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rw.w}, src)
}

type writerOnly struct{ io.Writer }

// Flush commits the session, then flushes if the underlying writer can.
func (rw *responseWriter) Flush() {
	rw.commit(http.StatusOK)
	if rw.failed != nil {
		return
	}
	http.NewResponseController(rw.w).Flush()
}

// Hijack hands the connection over; the session can no longer be saved,
// and a change still unsaved is reported as ErrHeaderWritten.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.w).Hijack()
	if err != nil || rw.committed {
		return conn, brw, err
	}
	rw.committed, rw.status = true, http.StatusSwitchingProtocols
	s := &rw.s
	s.mu.Lock()
	s.committed = true
	rw.gen = s.st.gen
	pending := s.loaded && s.st.modified
	s.mu.Unlock()
	if pending {
		rw.m.hook(rw.r, fmt.Errorf("%w: connection hijacked with unsaved changes", ErrHeaderWritten))
	}
	return conn, brw, nil
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

func isKept(err error) bool {
	var kept keptError
	return errors.As(err, &kept)
}
