package echoapp

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
)

func TestVisitsAndLogout(t *testing.T) {
	c := sessiontest.Serve(t, NewEcho(sessiontest.Manager(t, cookiesession.Config{})))
	sessiontest.CheckVisits(t, c)
	sessiontest.CheckLogout(t, c)
}
