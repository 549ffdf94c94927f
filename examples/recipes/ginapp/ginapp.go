// Package ginapp shows cookiesession in a gin application, through the
// supported adapter module github.com/cookiesession/cookiesession/ginsession:
//
//	r := gin.New()
//	r.Use(gin.Recovery(), ginsession.Middleware(m))
//
// Handlers then find the session with ginsession.Session(c).
package ginapp

import (
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/ginsession"
	"github.com/gin-gonic/gin"
)

// NewRouter returns a gin engine with gin.Recovery, sessions from m, and
// two routes:
//
//	GET  /visits   You have visited this page N times.
//	POST /logout   ends the session: Logged out.
func NewRouter(m *cookiesession.Manager) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery(), ginsession.Middleware(m))
	r.GET("/visits", func(c *gin.Context) {
		s := ginsession.Session(c)
		n, _, err := cookiesession.Get[int](s, "visits")
		if err == nil {
			err = s.Set("visits", n+1)
		}
		if err != nil {
			c.String(http.StatusInternalServerError, "bad session")
			return
		}
		c.String(http.StatusOK, "You have visited this page %d times.\n", n+1)
	})
	r.POST("/logout", func(c *gin.Context) {
		ginsession.Session(c).Destroy()
		c.String(http.StatusOK, "Logged out.\n")
	})
	return r
}
