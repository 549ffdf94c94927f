// Package ginsession connects cookiesession to the gin web framework
// (github.com/gin-gonic/gin). It is a supported module of cookiesession,
// kept apart so that the library itself does not depend on gin.
//
// # Use
//
//	m, err := cookiesession.New(kr, cookiesession.Config{})
//	r := gin.New()
//	r.Use(gin.Recovery(), ginsession.Middleware(m))
//	r.POST("/visits", func(c *gin.Context) {
//		s := ginsession.Session(c)
//		n := cookiesession.GetOr(s, "visits", 0) + 1
//		if err := s.Set("visits", n); err != nil {
//			c.AbortWithStatus(http.StatusInternalServerError)
//			return
//		}
//		c.String(http.StatusOK, "You have visited this page %d times.", n)
//	})
//
// [Session] returns the request's session; with two managers stacked,
// m.FromContext(c.Request.Context()) reaches each one's. The session
// follows the rules of [cookiesession.Manager.Middleware]: it is opened on
// first use, saved just before the response header goes out, only if it
// changed, and never with a 5xx response.
//
// # Why not wrap the net/http middleware
//
// gin.WrapH and gin.WrapF turn a handler into a gin handler, but gin has
// no wrapper for middleware, and passing c.Writer straight to m.Middleware
// saves the session with status 200 before gin knows the real status, so
// a 500 response would carry a new cookie. [Middleware] runs m.Middleware
// around the rest of gin's chain itself, and gives the handlers a
// gin.ResponseWriter that saves the session at the moment gin sends the
// header (the first write, WriteHeaderNow, Flush, or the end of the chain),
// with the status gin recorded.
package ginsession

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/gin-gonic/gin"
)

// Middleware returns gin middleware that gives every request a session
// from m, reached with Session(c) or
// cookiesession.FromContext(c.Request.Context()). It follows the rules of
// m.Middleware: the session is saved only if it changed, never with a 5xx
// response, and a session that cannot be saved gives the response of
// Config.SaveFailed instead of the handler's.
func Middleware(m *cookiesession.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		outer, req := c.Writer, c.Request
		// Handlers that panic leave through here: the gin writer goes back,
		// so that gin.Recovery answers without saving the session.
		defer func() { c.Writer, c.Request = outer, req }()
		m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &writer{ResponseWriter: outer, w: w}
			c.Writer, c.Request = sw, r
			c.Next()
			// Nothing written: commit with the status the handlers set,
			// adding the Set-Cookie lines; gin sends the header later.
			sw.commit()
		})).ServeHTTP(outer, req)
	}
}

// Session returns the request's session: the one from the innermost
// Middleware, or nil outside Middleware (every method of a nil Session
// panics). It is cookiesession.FromContext(c.Request.Context()).
func Session(c *gin.Context) *cookiesession.Session {
	return cookiesession.FromContext(c.Request.Context())
}

// writer is the gin.ResponseWriter that handlers see inside Middleware.
// Its embedded ResponseWriter is gin's own, which keeps the status and
// size; w is the session middleware's writer, which wraps gin's. Writes go
// to w, which saves the session first.
type writer struct {
	gin.ResponseWriter
	w         http.ResponseWriter
	committed bool
}

// commit hands gin's status to the session middleware once: it saves the
// session into the header (unless the status is 5xx), or writes the
// Config.SaveFailed response. It records the status with gin, which
// sends nothing yet.
func (sw *writer) commit() {
	if sw.committed {
		return
	}
	sw.committed = true
	sw.w.WriteHeader(sw.ResponseWriter.Status())
}

// Write commits the session, then writes through the session middleware,
// which discards the body if the session could not be saved.
func (sw *writer) Write(p []byte) (int, error) {
	sw.commit()
	return sw.w.Write(p)
}

// WriteString is Write for a string.
func (sw *writer) WriteString(s string) (int, error) {
	sw.commit()
	return io.WriteString(sw.w, s)
}

// WriteHeaderNow commits the session, then sends the header.
func (sw *writer) WriteHeaderNow() {
	sw.commit()
	sw.ResponseWriter.WriteHeaderNow()
}

// Flush commits the session, then flushes.
func (sw *writer) Flush() {
	sw.commit()
	// The session middleware's writer always flushes (or does nothing,
	// after a failed save).
	_ = http.NewResponseController(sw.w).Flush()
}

// Hijack hands the connection over through the session middleware, which
// reports a session change that can no longer be saved.
func (sw *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(sw.w).Hijack()
	if err == nil {
		sw.committed = true
	}
	return conn, brw, err
}

// Unwrap returns the session middleware's writer, for
// http.ResponseController.
func (sw *writer) Unwrap() http.ResponseWriter { return sw.w }
