package cookiesession

import (
	"context"
	"strings"
	"testing"
)

// The default name is __Host-session wherever the configuration allows the
// prefix, and session elsewhere.
func TestDefaultName(t *testing.T) {
	kr := oneKeyring(t)
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, "__Host-session"},
		{"Path /", Config{Path: "/"}, "__Host-session"},
		{"Insecure", Config{Insecure: true}, "session"},
		{"Path /app", Config{Path: "/app"}, "session"},
		{"Domain", Config{Domain: "example.com"}, "session"},
		{"named", Config{Name: "sid"}, "sid"},
	} {
		m, err := New(kr, tt.cfg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := stLoad(t, m, "")
		s.Set("a", 1)
		lines := stSave(t, m, s)
		if got := stParse(t, lines[0]).name; got != tt.want {
			t.Errorf("%s: cookie %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The attack from a sibling subdomain: it plants four cookies of the
// session's name (Domain=example.com), which the browser sends before the
// real one. Under the plain name they hide it, and the next save replaces
// it; a browser refuses such cookies under a __Host- name, so under the
// default name they are only other cookies.
func TestSiblingSubdomainCannotShadowDefaultName(t *testing.T) {
	kr := oneKeyring(t)
	planted := strings.Repeat("session=planted; ", maxCandidates)
	for _, tt := range []struct {
		cfg   Config
		keeps bool
	}{
		{Config{Name: DefaultPlainName}, false},
		{Config{}, true},
	} {
		m, err := New(kr, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := stLoad(t, m, "")
		s.Set("user", "ada")
		real := stHeader(t, stSave(t, m, s))
		s, _ = m.LoadHeader(context.Background(), planted+real)
		if got := GetOr(s, "user", ""); (got == "ada") != tt.keeps {
			t.Errorf("name %q: user %q after planting, want kept %v", m.names[0], got, tt.keeps)
		}
	}
}
