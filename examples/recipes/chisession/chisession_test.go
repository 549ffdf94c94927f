package chisession

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/recipes/internal/recipetest"
)

func TestVisitsCounter(t *testing.T) {
	c := recipetest.Serve(t, NewRouter(recipetest.Manager(t, cookiesession.Config{})))
	for n := 1; n <= 3; n++ {
		resp := c.Get("/visits")
		if want := fmt.Sprintf("You have visited this page %d times.\n", n); resp.Status != http.StatusOK || resp.Body != want {
			t.Fatalf("request %d: %d %q; want %q", n, resp.Status, resp.Body, want)
		}
		if got := resp.Header.Get("Vary"); got != "Cookie" {
			t.Errorf("request %d: Vary = %q; want Cookie", n, got)
		}
	}
}

func TestURLParamIntoSession(t *testing.T) {
	m := recipetest.Manager(t, cookiesession.Config{})
	h := NewRouter(m)
	alice, other := recipetest.Serve(t, h), recipetest.Serve(t, h)
	tests := []struct {
		c          *recipetest.Client
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
