package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// Revocation when the store fails: down, hung, or down during a logout.
// The harness (rvEnv, countingStore) is in revocation_test.go.

// TestRevocationFailurePolicy: with the store down, a session whose check
// is due gets a fresh session and keeps its cookie (fail closed), or is
// accepted and checked again on the next request (fail open); the hook
// hears of it either way, and once the store is back the session works,
// and a revocation made before the outage holds.
func TestRevocationFailurePolicy(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailOpen=%v", open), func(t *testing.T) {
			e := newRVEnv(t, Revocation{Bound: 10 * time.Second, FailOpen: open})
			user, revoked := newBrowser(), newBrowser()
			e.do(t, user, "/login?user=fay")
			e.do(t, revoked, "/login?user=gus")
			thief := revoked.steal()
			e.at(time.Second)
			e.do(t, revoked, "/logout")
			e.store.down.Store(true)
			e.at(20 * time.Second) // both checks are due
			checks := e.store.checks.Load()
			userJar := maps.Clone(user.jar)
			var bodies []string
			for range 2 {
				for _, b := range []*browser{user, thief} {
					body, _ := e.do(t, b, "/visit")
					bodies = append(bodies, body)
				}
			}
			want := []string{" 1", " 1", " 1", " 1"}
			if open {
				want = []string{"fay 1", "gus 1", "fay 2", "gus 2"}
			}
			if diff := gocmp.Diff(want, bodies); diff != "" {
				t.Fatalf("store down (-want +got):\n%s", diff)
			}
			if n := e.store.checks.Load() - checks; n != 4 {
				t.Errorf("%d checks in 4 requests while the store was down, want 4", n)
			}
			heard := e.heard()
			if !errorsAre(heard, ErrRevocationUnavailable) {
				t.Fatal("the hook did not hear ErrRevocationUnavailable alone")
			}
			// Failing closed, each request's /visit changed the fresh
			// session, and the hook hears that the change was dropped.
			var dropped int
			for _, err := range heard {
				if errors.Is(err, errHeldNotSaved) {
					dropped++
				}
			}
			if want := map[bool]int{false: 4, true: 0}[open]; dropped != want {
				t.Errorf("the hook heard %d dropped changes in 4 requests, want %d: %v", dropped, want, heard)
			}
			if !open && !maps.Equal(userJar, user.jar) {
				t.Fatal("failing closed, the fresh session's changes replaced the cookie")
			}
			e.store.down.Store(false)
			e.at(21 * time.Second)
			if body, _ := e.do(t, user, "/visit"); !strings.HasPrefix(body, "fay ") {
				t.Fatalf("the user once the store is back: %q", body)
			}
			if body, _ := e.do(t, thief, "/visit"); body != " 1" {
				t.Fatalf("the revoked copy once the store is back: %q", body)
			}
		})
	}
}

// TestRevocationHungStore: a store that never answers holds a request no
// longer than Revocation.Timeout.
func TestRevocationHungStore(t *testing.T) {
	e := newRVEnv(t, Revocation{Timeout: 20 * time.Millisecond})
	b := newBrowser()
	e.do(t, b, "/login?user=hal")
	e.store.RevocationStore = hungStore{}
	if body, _ := e.do(t, b, "/visit"); body != " 1" {
		t.Fatalf("%q", body)
	}
	errs := e.heard()
	if !errorsAre(errs, ErrRevocationUnavailable) || !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Fatalf("the hook heard %v", errs)
	}
}

type hungStore struct{}

func (hungStore) RevokeSession(ctx context.Context, _ string, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (hungStore) RevokeSubject(ctx context.Context, _ string, _ time.Time, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (hungStore) Check(ctx context.Context, _, _ string) (RevocationMarks, error) {
	<-ctx.Done()
	return RevocationMarks{}, ctx.Err()
}

// TestRevokeWhileStoreDown: a logout in a request whose check could not
// reach the store deletes the cookie and says that its copies live on.
func TestRevokeWhileStoreDown(t *testing.T) {
	e := newRVEnv(t, Revocation{})
	b := newBrowser()
	e.do(t, b, "/login?user=lu")
	e.store.down.Store(true)
	req := httptest.NewRequest(http.MethodPost, "http://x/", nil)
	for k, v := range b.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	var err error
	e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err = FromContext(r.Context()).Revoke(r.Context())
	})).ServeHTTP(rec, req)
	if !errors.Is(err, ErrRevocationUnavailable) {
		t.Fatalf("Revoke: %v", err)
	}
	deleted := map[string]bool{}
	for _, c := range rec.Result().Cookies() {
		deleted[c.Name] = c.MaxAge < 0
	}
	if !deleted["s"] {
		t.Fatalf("the cookie was not deleted: %v", rec.Result().Cookies())
	}
}

// TestSaveHeaderWhileStoreDown: outside the middleware, a session loaded
// while the store is down (failing closed) and then changed gives no
// Set-Cookie and an error wrapping ErrRevocationUnavailable from
// SaveHeader, so the request's cookie is neither replaced nor deleted; a
// fresh session left unchanged gives neither.
func TestSaveHeaderWhileStoreDown(t *testing.T) {
	e := newRVEnv(t, Revocation{})
	b := newBrowser()
	e.do(t, b, "/login?user=ida")
	var header []string
	for k, v := range b.jar {
		header = append(header, k+"="+v)
	}
	e.store.down.Store(true)
	for _, change := range []bool{false, true} {
		s, err := e.m.LoadHeader(context.Background(), strings.Join(header, "; "))
		if !errors.Is(err, ErrRevocationUnavailable) || !s.IsNew() {
			t.Fatalf("load with the store down: %v, IsNew %v", err, s.IsNew())
		}
		if change {
			s.Set("n", 1)
		}
		h := http.Header{}
		err = e.m.SaveHeader(h, s)
		if got := errors.Is(err, ErrRevocationUnavailable); got != change {
			t.Errorf("change=%v: SaveHeader error %v", change, err)
		}
		if lines := h.Values("Set-Cookie"); len(lines) != 0 {
			t.Errorf("change=%v: Set-Cookie %q, want none", change, lines)
		}
	}
	e.store.down.Store(false)
	if body, _ := e.do(t, b, "/visit"); body != "ida 1" {
		t.Fatalf("once the store is back: %q", body)
	}
}
