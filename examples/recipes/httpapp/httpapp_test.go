package httpapp

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
	"github.com/google/go-cmp/cmp"
)

func managers(t *testing.T) (login, prefs *cookiesession.Manager) {
	login = sessiontest.Manager(t, cookiesession.Config{Lifetime: 2 * time.Hour})
	prefs = sessiontest.Manager(t, cookiesession.Config{Name: "__Host-prefs", Lifetime: 365 * 24 * time.Hour})
	return login, prefs
}

func TestVisitsAndLogout(t *testing.T) {
	c := sessiontest.Serve(t, NewHandler(managers(t)))
	sessiontest.CheckVisits(t, c)
	sessiontest.CheckLogout(t, c)
}

// TestTwoSessions checks that each manager keeps its own session, under
// its own cookie with its own lifetime, and that logging out of one keeps
// the other.
func TestTwoSessions(t *testing.T) {
	c := sessiontest.Serve(t, NewHandler(managers(t)))
	steps := []struct {
		method, path, want string
		setCookies         []string
	}{
		{"GET", "/theme", "Theme: default.\n", nil},
		{"POST", "/theme?value=dark", "Theme: dark.\n", []string{"__Host-prefs"}},
		{"GET", "/visits", "You have visited this page 1 times.\n", []string{cookiesession.DefaultName}},
		{"POST", "/logout", "Logged out.\n", []string{cookiesession.DefaultName}},
		{"GET", "/theme", "Theme: dark.\n", nil},
	}
	for i, st := range steps {
		var resp sessiontest.Response
		if st.method == "POST" {
			resp = c.Post(st.path)
		} else {
			resp = c.Get(st.path)
		}
		if resp.Status != http.StatusOK || resp.Body != st.want {
			t.Errorf("step %d, %s %s: %d %q; want %q", i, st.method, st.path, resp.Status, resp.Body, st.want)
		}
		// The cookies of the other session are never touched. (Destroy
		// may also delete chunk cookies: only the first is checked.)
		got := slices.DeleteFunc(resp.SetCookies(), func(n string) bool { return strings.HasPrefix(n, cookiesession.DefaultName+".") })
		if diff := cmp.Diff(st.setCookies, got); diff != "" {
			t.Errorf("step %d, %s %s: Set-Cookie names (-want +got):\n%s", i, st.method, st.path, diff)
		}
		for _, ck := range (&http.Response{Header: resp.Header}).Cookies() {
			want := map[string]int{"__Host-prefs": 365 * 24 * 3600, cookiesession.DefaultName: 2 * 3600}[ck.Name]
			if ck.MaxAge > 0 && ck.MaxAge != want {
				t.Errorf("step %d: cookie %s has Max-Age %d; want %d", i, ck.Name, ck.MaxAge, want)
			}
		}
	}
}
