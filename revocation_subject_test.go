package cookiesession

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// Revocation of sessions by subject: one that holds only a subject, the
// age of a login, and a session migrated from a legacy cookie.

// TestRevocationSubjectOnly: a session that holds a subject and no value
// keeps its cookie; Destroy and Clear clear the subject.
func TestRevocationSubjectOnly(t *testing.T) {
	e := newRVEnv(t, Revocation{})
	m := e.m
	s, _ := m.LoadHeader(t.Context(), "")
	if err := s.SetSubject("ivy"); err != nil {
		t.Fatal(err)
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil || len(lines) != 1 {
		t.Fatalf("%v %v", lines, err)
	}
	s2, err := m.LoadHeader(t.Context(), strings.Split(lines[0], ";")[0])
	if err != nil || s2.Subject() != "ivy" || s2.Len() != 0 {
		t.Fatalf("%q %v", s2.Subject(), err)
	}
	s2.Clear()
	if s2.Subject() != "" {
		t.Fatal("Clear kept the subject")
	}
	if err := s2.SetSubject(strings.Repeat("x", 257)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("a subject of 257 bytes: %v", err)
	}
}

// TestRevocationLoginAge: with revocation on, a login lasts at most
// LoginLifetime (400 days by default), however its expiry was extended; a
// subject's mark lasts that long, plus the skew.
func TestRevocationLoginAge(t *testing.T) {
	for _, life := range []time.Duration{0, 60 * 24 * time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			e := newRVEnv(t, Revocation{Bound: time.Hour, LoginLifetime: life})
			life := cmp.Or(life, 400*24*time.Hour)
			b := newBrowser()
			e.do(t, b, "/login?user=jo")
			for d := time.Duration(0); d < life; d += 13 * 24 * time.Hour {
				e.at(d)
				if body, _ := e.do(t, b, "/extend"); body != "jo" {
					t.Fatalf("at %v: %q", d, body)
				}
			}
			e.at(life + time.Second)
			if body, _ := e.do(t, b, "/extend"); body != "" {
				t.Fatalf("after %v: %q", life, body)
			}
			// A mark on the subject lives LoginLifetime plus the skew (10 s).
			if err := e.m.RevokeSubject(t.Context(), "jo"); err != nil {
				t.Fatal(err)
			}
			at := e.clock.Now()
			for _, tt := range []struct {
				after time.Duration
				live  bool
			}{{life + 9*time.Second, true}, {life + 10*time.Second, false}} {
				e.clock.Set(at.Add(tt.after))
				marks, _ := e.store.Check(t.Context(), "x", "jo")
				if !marks.Before.IsZero() != tt.live {
					t.Errorf("%v after the revocation: mark %v, want live %v", tt.after, marks.Before, tt.live)
				}
			}
		})
	}
}

// TestRevocationMigratedSession: a legacy session migrated for a subject
// that was logged out everywhere is refused, since its legacy login time is
// unknown; one for another subject is migrated.
func TestRevocationMigratedSession(t *testing.T) {
	clock := newTestClock(t0)
	store := NewMemoryRevocationStore(clock.Now)
	m, err := New(oneKeyring(t), Config{Name: "s", Insecure: true, Now: clock.Now,
		Revocation: Revocation{Store: store},
		Migration: Migration{Cookies: []LegacyCookie{{Name: "old"}}, Load: func(r *http.Request, s *Session) error {
			c, err := r.Cookie("old")
			if err != nil {
				return nil
			}
			return s.SetSubject(c.Value) // the legacy cookie names its user
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeSubject(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	for user, want := range map[string]string{"gone": "", "kept": "kept"} {
		s, err := m.LoadHeader(t.Context(), "old="+user)
		if s.Subject() != want || (want == "") != errors.Is(err, ErrRevoked) {
			t.Errorf("legacy cookie of %q: subject %q, error %v", user, s.Subject(), err)
		}
	}
}

// TestRevokedCopyExtendedBeforeLogout: a copy stolen and extended before the
// logout (SetExpiry, as the demo's POST /expiry allows) is still refused
// when the logging-out copy's own end has passed: the mark on the ID lives
// as long as any copy of that login may (its login plus LoginLifetime, plus
// the skew), not as long as the copy that logged out. The same holds for the
// mark that the save after Renew puts on the old ID.
func TestRevokedCopyExtendedBeforeLogout(t *testing.T) {
	const day = 24 * time.Hour
	for _, renew := range []bool{false, true} {
		t.Run(fmt.Sprintf("renew=%v", renew), func(t *testing.T) {
			e := newRVEnv(t, Revocation{Bound: 30 * time.Second})
			user := newBrowser()
			e.do(t, user, "/login?user=alice")
			e.at(10 * day)
			e.do(t, user, "/visit")
			thief := user.steal()
			if body, _ := e.do(t, thief, "/extend"); body != "alice" {
				t.Fatalf("the thief's extension: %q", body)
			}
			if renew {
				e.do(t, user, "/renew") // revokes the stolen ID, on save
			}
			logout := 10*day + time.Hour
			e.at(logout)
			e.do(t, user, "/logout")
			// The user's copy ended on day 14 (Lifetime); the thief's on
			// day 40. Each try uses a fresh copy of the stolen cookie.
			for _, after := range []time.Duration{time.Hour, 119 * time.Hour, 695 * time.Hour} {
				e.at(logout + after)
				if body, _ := e.do(t, thief.steal(), "/visit"); body != " 1" {
					t.Errorf("%v after the logout, the extended copy: %q, want a fresh session", after, body)
				}
			}
			// Each mark lives until the login is LoginLifetime (400 days)
			// old, plus the skew (10 s): the login was at t0.
			want := []time.Duration{400*day + 10*time.Second - logout}
			if renew {
				want = []time.Duration{400*day + 10*time.Second - 10*day, want[0]}
			}
			if diff := gocmp.Diff(want, e.store.sessionTTLs()); diff != "" {
				t.Errorf("TTLs of the marks on session IDs (-want +got):\n%s", diff)
			}
		})
	}
}
