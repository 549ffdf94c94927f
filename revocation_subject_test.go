package cookiesession

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
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
