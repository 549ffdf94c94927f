// Package echosession connects cookiesession to the echo web framework
// (github.com/labstack/echo/v4). It is a supported module of cookiesession,
// kept apart so that the library itself does not depend on echo.
//
// # Use
//
//	m, err := cookiesession.New(kr, cookiesession.Config{})
//	e := echo.New()
//	e.Use(echosession.Middleware(m))
//	e.POST("/visits", func(c echo.Context) error {
//		s := echosession.Session(c)
//		n := cookiesession.GetOr(s, "visits", 0) + 1
//		if err := s.Set("visits", n); err != nil {
//			return err
//		}
//		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.", n))
//	})
//
// [Session] returns the request's session; with two managers stacked,
// m.FromContext(c.Request().Context()) reaches each one's. The session
// follows the rules of [cookiesession.Manager.Middleware]: it is opened on
// first use, saved just before the response header goes out, only if it
// changed, and never with a 5xx response.
//
// # Why not echo.WrapMiddleware
//
// Echo runs net/http middleware through echo.WrapMiddleware, and that is
// enough for handlers that succeed. A handler that returns an error,
// though, has its error response written by echo's HTTPErrorHandler after
// the wrapped middleware has returned, and the session middleware commits
// when the handler returns: with status 200, so the session is saved even
// though the response is a 500. [Middleware] writes the error response
// inside the session middleware instead, with c.Error, as echo's own
// request logger does, so the session sees the real status and a 5xx
// response saves nothing.
package echosession

import (
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/labstack/echo/v4"
)

// Middleware returns echo middleware that gives every request a session
// from m, reached with Session(c). Errors that handlers return are written
// with c.Error before the session is saved, and returned as well, as echo
// middleware does; echo's default error handler skips responses already
// written.
func Middleware(m *cookiesession.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			outer, req := c.Response(), c.Request()
			var err error
			m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(echo.NewResponse(w, c.Echo()))
				if err = next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(outer, req)
			// outer saw every write, so its status and size are right for
			// the middleware that runs before this one.
			c.SetResponse(outer)
			return err
		}
	}
}

// Session returns the request's session: the one from the innermost
// Middleware, or nil outside Middleware (every method of a nil Session
// panics). It is cookiesession.FromContext(c.Request().Context()).
func Session(c echo.Context) *cookiesession.Session {
	return cookiesession.FromContext(c.Request().Context())
}
