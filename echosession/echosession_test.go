package echosession

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// newEcho returns an echo server whose requests get sessions from
// middleware mw, with one route, GET /visits: You have visited this
// page N times.
func newEcho(mw echo.MiddlewareFunc) *echo.Echo {
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

func TestVisitsCounter(t *testing.T) {
	m := sessiontest.Manager(t, cookiesession.Config{})
	for name, mw := range map[string]echo.MiddlewareFunc{
		"WrapMiddleware": echo.WrapMiddleware(m.Middleware),
		"Middleware":     Middleware(m),
	} {
		t.Run(name, func(t *testing.T) {
			c := sessiontest.Serve(t, newEcho(mw))
			sessiontest.CheckVisits(t, c)
		})
	}
}

// TestErrorResponses checks which error responses carry the session:
// WrapMiddleware saves it even with a 500, as the package documentation
// explains; Middleware saves it with a 4xx, and not with a 5xx.
func TestErrorResponses(t *testing.T) {
	m := sessiontest.Manager(t, cookiesession.Config{})
	failWith := func(err error) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := Session(c).Set("user", "ada"); err != nil {
				return err
			}
			return err
		}
	}
	tests := []struct {
		name   string
		mw     echo.MiddlewareFunc
		err    error
		status int
		saved  bool
	}{
		{"WrapMiddleware, plain error", echo.WrapMiddleware(m.Middleware), errors.New("db down"), 500, true},
		{"Middleware, plain error", Middleware(m), errors.New("db down"), 500, false},
		{"Middleware, 503", Middleware(m), echo.NewHTTPError(http.StatusServiceUnavailable), 503, false},
		{"Middleware, 404", Middleware(m), echo.ErrNotFound, 404, true},
		{"Middleware, no error", Middleware(m), nil, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				logged []int
			)
			e := newEcho(tt.mw)
			// A logger outside the session middleware, configured to write
			// error responses itself, sees the status that went out.
			e.Pre(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
				LogStatus:   true,
				HandleError: true,
				LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
					mu.Lock()
					defer mu.Unlock()
					logged = append(logged, v.Status)
					return nil
				},
			}))
			e.GET("/fail", failWith(tt.err))
			resp := sessiontest.Serve(t, e).Get("/fail")
			if resp.Status != tt.status {
				t.Errorf("status %d; want %d", resp.Status, tt.status)
			}
			if got := len(resp.SetCookies()) > 0; got != tt.saved {
				t.Errorf("session saved: %v (Set-Cookie %v); want %v", got, resp.SetCookies(), tt.saved)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(logged) != 1 || logged[0] != tt.status {
				t.Errorf("request logger saw statuses %v; want [%d]", logged, tt.status)
			}
		})
	}
}
