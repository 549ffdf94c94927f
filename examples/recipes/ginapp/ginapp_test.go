package ginapp

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
	"github.com/gin-gonic/gin"
)

func TestVisitsAndLogout(t *testing.T) {
	gin.SetMode(gin.TestMode)
	c := sessiontest.Serve(t, NewRouter(sessiontest.Manager(t, cookiesession.Config{})))
	sessiontest.CheckVisits(t, c)
	sessiontest.CheckLogout(t, c)
}
