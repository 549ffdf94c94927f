package ginsession

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/sessiontest"
	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	gin.DefaultErrorWriter = io.Discard // gin.Recovery's stack traces
	os.Exit(m.Run())
}

// newRouter returns a gin engine with gin.Recovery, sessions from m, and
// one route, GET /visits: You have visited this page N times.
func newRouter(m *cookiesession.Manager) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery(), Middleware(m))
	r.GET("/visits", func(c *gin.Context) {
		s := Session(c)
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
	return r
}

func TestVisitsCounter(t *testing.T) {
	c := sessiontest.Serve(t, newRouter(sessiontest.Manager(t, cookiesession.Config{})))
	sessiontest.CheckVisits(t, c)
}

// hookLog collects the errors the Manager's ErrorHook receives.
type hookLog struct {
	mu   sync.Mutex
	errs []error
}

func (h *hookLog) hook(_ *http.Request, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
}

func (h *hookLog) take() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	errs := h.errs
	h.errs = nil
	return errs
}

// TestCommitFollowsGin checks that the session is saved with the status gin
// finally sends, whichever way the handler sets it, and that the Set-Cookie
// lines go out with the header.
func TestCommitFollowsGin(t *testing.T) {
	var hooks hookLog
	m := sessiontest.Manager(t, cookiesession.Config{ErrorHook: hooks.hook})
	r := newRouter(m)
	set := func(c *gin.Context) {
		if err := Session(c).Set("user", "ada"); err != nil {
			t.Error(err)
		}
	}
	huge := make([]byte, 8000)
	rand.Read(huge)

	tests := []struct {
		name    string
		handler gin.HandlerFunc
		status  int
		saved   bool
		body    string // "" means any
		hookErr error
	}{
		{"String", func(c *gin.Context) { set(c); c.String(200, "ok") }, 200, true, "ok", nil},
		{"JSON 201", func(c *gin.Context) { set(c); c.JSON(201, gin.H{"ok": true}) }, 201, true, `{"ok":true}`, nil},
		{"status only", func(c *gin.Context) { set(c); c.Status(204) }, 204, true, "", nil},
		{"nothing written", set, 200, true, "", nil},
		{"status before the change", func(c *gin.Context) { c.Status(202); set(c); c.String(202, "later") }, 202, true, "later", nil},
		{"AbortWithStatus", func(c *gin.Context) { set(c); c.AbortWithStatus(401) }, 401, true, "", nil},
		{"Flush", func(c *gin.Context) { set(c); c.Writer.Flush(); c.Writer.WriteString("streamed") }, 200, true, "streamed", nil},
		{"500 String", func(c *gin.Context) { set(c); c.String(500, "oops") }, 500, false, "oops", nil},
		{"503 status only", func(c *gin.Context) { set(c); c.Status(503) }, 503, false, "", nil},
		{"panic", func(c *gin.Context) { set(c); panic("boom") }, 500, false, "", nil},
		{"too large", func(c *gin.Context) {
			if err := Session(c).Set("blob", base64.StdEncoding.EncodeToString(huge)); err != nil {
				t.Error(err)
			}
			c.String(200, "handler body")
		}, 500, false, "Internal Server Error\n", cookiesession.ErrTooLarge},
		{"change after the header", func(c *gin.Context) {
			Session(c).Has("user")
			c.String(200, "early")
			if err := Session(c).Set("user", "ada"); !errors.Is(err, cookiesession.ErrHeaderWritten) {
				t.Errorf("Set after the header: %v; want ErrHeaderWritten", err)
			}
		}, 200, false, "early", cookiesession.ErrHeaderWritten},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fmt.Sprintf("/case/%d", i)
			r.GET(path, tt.handler)
			resp := sessiontest.Serve(t, r).Get(path)
			if resp.Status != tt.status {
				t.Errorf("status %d; want %d", resp.Status, tt.status)
			}
			if tt.body != "" && resp.Body != tt.body {
				t.Errorf("body %q; want %q", resp.Body, tt.body)
			}
			var want []string
			if tt.saved {
				want = []string{cookiesession.DefaultName}
			}
			if diff := cmp.Diff(want, resp.SetCookies()); diff != "" {
				t.Errorf("Set-Cookie names (-want +got):\n%s", diff)
			}
			errs := hooks.take()
			switch {
			case tt.hookErr == nil && len(errs) > 0:
				t.Errorf("ErrorHook got %v; want nothing", errs)
			case tt.hookErr != nil && len(errs) == 0:
				t.Errorf("ErrorHook got nothing; want %v", tt.hookErr)
			}
			for _, err := range errs {
				if tt.hookErr != nil && !errors.Is(err, tt.hookErr) {
					t.Errorf("ErrorHook got %v; want %v", err, tt.hookErr)
				}
			}
		})
	}
}

// TestWithoutCommitBeforeHeader shows why Middleware wraps gin's writer:
// passing gin's writer straight to m.Middleware, as a plain adapter
// would, commits the session with status 200 before gin knows the real
// status, so a 500 response carries a Set-Cookie line.
func TestWithoutCommitBeforeHeader(t *testing.T) {
	m := sessiontest.Manager(t, cookiesession.Config{})
	naive := func(c *gin.Context) {
		m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
	}
	failing := func(c *gin.Context) {
		if err := Session(c).Set("user", "ada"); err != nil {
			t.Error(err)
		}
		c.Status(http.StatusInternalServerError)
	}
	for _, tt := range []struct {
		name  string
		mw    gin.HandlerFunc
		saved bool
	}{
		{"naive adapter", naive, true},
		{"Middleware", Middleware(m), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := gin.New()
			r.Use(tt.mw)
			r.GET("/", failing)
			resp := sessiontest.Serve(t, r).Get("/")
			if resp.Status != http.StatusInternalServerError {
				t.Fatalf("status %d; want 500", resp.Status)
			}
			if got := len(resp.SetCookies()) > 0; got != tt.saved {
				t.Errorf("session saved with the 500: %v; want %v", got, tt.saved)
			}
		})
	}
}
