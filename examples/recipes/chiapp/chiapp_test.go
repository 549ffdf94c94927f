package chiapp

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
)

func TestVisitsCounter(t *testing.T) {
	c := sessiontest.Serve(t, NewRouter(sessiontest.Manager(t, cookiesession.Config{})))
	sessiontest.CheckVisits(t, c)
}

func TestURLParamIntoSession(t *testing.T) {
	m := sessiontest.Manager(t, cookiesession.Config{})
	h := NewRouter(m)
	alice, other := sessiontest.Serve(t, h), sessiontest.Serve(t, h)
	tests := []struct {
		c          *sessiontest.Client
		path, want string
		setCookie  bool
	}{
		{alice, "/name", "Hello, stranger.\n", false},
		{alice, "/name/Ada", "Hello, Ada.\n", true},
		{alice, "/name", "Hello, Ada.\n", false},
		{other, "/name", "Hello, stranger.\n", false},
	}
	for i, tt := range tests {
		resp := tt.c.Get(tt.path)
		if resp.Body != tt.want {
			t.Errorf("step %d, GET %s = %q; want %q", i, tt.path, resp.Body, tt.want)
		}
		if got := len(resp.SetCookies()) > 0; got != tt.setCookie {
			t.Errorf("step %d, GET %s: Set-Cookie %v; want %v", i, tt.path, resp.SetCookies(), tt.setCookie)
		}
	}
}
