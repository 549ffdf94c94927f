// Package echosession shows cookiesession with echo. Echo runs net/http
// middleware through echo.WrapMiddleware, and that is enough for handlers
// that succeed:
//
//	e := echo.New()
//	e.Use(echo.WrapMiddleware(m.Middleware))
//
// A handler that returns an error, though, has its error response written by
// echo's HTTPErrorHandler after the wrapped middleware has returned, and the
// session middleware commits when the handler returns: with status 200, so
// the session is saved even though the response is a 500. Middleware, below,
// writes the error response inside the session middleware instead, with
// c.Error, as echo's own logging middleware does, so the session sees the
// real status and a 5xx response saves nothing.
package echosession

import (
	"fmt"
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

// Session returns the request's session, or nil outside the middleware.
func Session(c echo.Context) *cookiesession.Session {
	return cookiesession.FromContext(c.Request().Context())
}

// NewEcho returns an echo server whose requests get sessions from
// middleware mw, with one route, GET /visits: You have visited this
// page N times. Pass Middleware(m), or echo.WrapMiddleware(m.Middleware).
func NewEcho(mw echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(mw)
	e.GET("/visits", func(c echo.Context) error {
		s := Session(c)
		n, _, err := cookiesession.Get[int](s, "visits")
		if err != nil {
			return err
		}
		if err := s.Set("visits", n+1); err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.\n", n+1))
	})
	return e
}
