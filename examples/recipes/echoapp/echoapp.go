// Package echoapp shows cookiesession in an echo application, through the
// supported adapter module github.com/cookiesession/cookiesession/echosession:
//
//	e := echo.New()
//	e.Use(echosession.Middleware(m))
//
// Handlers then find the session with echosession.Session(c).
package echoapp

import (
	"fmt"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/echosession"
	"github.com/labstack/echo/v4"
)

// NewEcho returns an echo server with sessions from m, and two routes:
//
//	GET  /visits   You have visited this page N times.
//	POST /logout   ends the session: Logged out.
func NewEcho(m *cookiesession.Manager) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(echosession.Middleware(m))
	e.GET("/visits", func(c echo.Context) error {
		s := echosession.Session(c)
		n, _, err := cookiesession.Get[int](s, "visits")
		if err != nil {
			return err
		}
		if err := s.Set("visits", n+1); err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.\n", n+1))
	})
	e.POST("/logout", func(c echo.Context) error {
		echosession.Session(c).Destroy()
		return c.String(http.StatusOK, "Logged out.\n")
	})
	return e
}
