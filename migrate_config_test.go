package cookiesession

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// With Load left out, legacy cookies are only deleted: the clean-up phase.
func TestMigrationDeleteOnly(t *testing.T) {
	kr := oneKeyring(t)
	m, err := New(kr, Config{Name: "cs", Insecure: true, Migration: Migration{Cookies: []LegacyCookie{
		{Name: "old"}, {Name: "__Secure-old", Domain: ".example.com"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.LoadHeader(context.Background(), "old=visits-5; __Secure-old=1")
	if err != nil || s.Len() != 0 {
		t.Fatalf("LoadHeader: %d keys, error %v; want a fresh session", s.Len(), err)
	}
	lines, err := m.SetCookieHeaders(s)
	want := []string{
		"old=; Path=/; Max-Age=0",
		"__Secure-old=; Path=/; Domain=.example.com; Max-Age=0; Secure",
	}
	if diff := cmp.Diff(want, lines); err != nil || diff != "" {
		t.Errorf("SetCookieHeaders error %v, lines (-want +got):\n%s", err, diff)
	}
}

func TestMigrationConfig(t *testing.T) {
	kr := oneKeyring(t)
	load := func(*http.Request, *Session) error { return nil }
	many := make([]LegacyCookie, maxLegacyCookies+1)
	for i := range many {
		many[i].Name = "old" + strconv.Itoa(i)
	}
	for _, tc := range []struct {
		name string
		mg   Migration
	}{
		{"Load without Cookies", Migration{Load: load}},
		{"too many", Migration{Cookies: many, Load: load}},
		{"empty name", Migration{Cookies: []LegacyCookie{{}}}},
		{"bad name", Migration{Cookies: []LegacyCookie{{Name: "a b"}}}},
		{"session name", Migration{Cookies: []LegacyCookie{{Name: DefaultName}}}},
		{"chunk name", Migration{Cookies: []LegacyCookie{{Name: DefaultName + ".2"}}}},
		{"relative path", Migration{Cookies: []LegacyCookie{{Name: "old", Path: "app"}}}},
		{"path with ;", Migration{Cookies: []LegacyCookie{{Name: "old", Path: "/a;b"}}}},
		{"bad domain", Migration{Cookies: []LegacyCookie{{Name: "old", Domain: "a b"}}}},
		{"__Host- with a path", Migration{Cookies: []LegacyCookie{{Name: "__Host-old", Path: "/app"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(kr, Config{Migration: tc.mg}); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New error %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := New(kr, Config{Migration: Migration{Cookies: many[:maxLegacyCookies], Load: load}}); err != nil {
		t.Errorf("%d cookies: %v", maxLegacyCookies, err)
	}
}
