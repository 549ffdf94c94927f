package cookiesession

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewConfigValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero config", Config{}, true},
		{"name with token punctuation", Config{Name: "s!#$%&'*+-.^_`|~1"}, true},
		{"name of 256", Config{Name: long(256)}, true},
		{"name of 257", Config{Name: long(257)}, false},
		{"name with space", Config{Name: "my session"}, false},
		{"name with semicolon", Config{Name: "a;b"}, false},
		{"name with equals", Config{Name: "a=b"}, false},
		{"name with comma", Config{Name: "a,b"}, false},
		{"name with quote", Config{Name: `a"b`}, false},
		{"name with NUL", Config{Name: "a\x00"}, false},
		{"name non-ASCII", Config{Name: "sessión"}, false},
		{"path /app", Config{Path: "/app"}, true},
		{"path relative", Config{Path: "app"}, false},
		{"path with semicolon", Config{Path: "/a;b"}, false},
		{"path with newline", Config{Path: "/a\nb"}, false},
		{"path with DEL", Config{Path: "/a\x7f"}, false},
		{"path of 1025", Config{Path: "/" + long(1024)}, false},
		{"domain", Config{Domain: "example.com"}, true},
		{"domain leading dot", Config{Domain: ".example.com"}, true},
		{"domain trailing dot", Config{Domain: "example.com."}, false},
		{"domain only dot", Config{Domain: "."}, false},
		{"domain with space", Config{Domain: "exa mple.com"}, false},
		{"domain with underscore", Config{Domain: "ex_ample.com"}, false},
		{"domain with semicolon", Config{Domain: "a.com;b"}, false},
		{"domain of 1025", Config{Domain: long(1025)}, false},
		{"name and attributes too long", Config{Path: "/" + long(1000), Domain: long(1000)}, false},
		{"unknown SameSite", Config{SameSite: 42}, false},
		{"SameSite default mode", Config{SameSite: http.SameSiteDefaultMode}, true},
		{"SameSite None secure", Config{SameSite: http.SameSiteNoneMode}, true},
		{"SameSite None insecure", Config{SameSite: http.SameSiteNoneMode, Insecure: true}, false},
		{"__Host- plain", Config{Name: "__Host-s"}, true},
		{"__Host- with Domain", Config{Name: "__Host-s", Domain: "example.com"}, false},
		{"__Host- with Path /app", Config{Name: "__Host-s", Path: "/app"}, false},
		{"__Host- insecure", Config{Name: "__Host-s", Insecure: true}, false},
		{"__Secure- with Domain and Path", Config{Name: "__Secure-s", Domain: "example.com", Path: "/a"}, true},
		{"__Secure- insecure", Config{Name: "__Secure-s", Insecure: true}, false},
		{"Partitioned secure", Config{Partitioned: true}, true},
		{"Partitioned insecure", Config{Partitioned: true, Insecure: true}, false},
		{"insecure", Config{Insecure: true}, true},
		{"MaxChunks 1", Config{MaxChunks: 1}, true},
		{"MaxChunks 10", Config{MaxChunks: 10}, true},
		{"MaxChunks 11", Config{MaxChunks: 11}, false},
		{"MaxChunks -1", Config{MaxChunks: -1}, false},
		{"MaxSize 512", Config{MaxSize: 512}, true},
		{"MaxSize 511", Config{MaxSize: 511}, false},
		{"MaxSize -1", Config{MaxSize: -1}, false},
		{"Lifetime 1s", Config{Lifetime: time.Second}, true},
		{"Lifetime 400 days", Config{Lifetime: 400 * 24 * time.Hour}, true},
		{"Lifetime 400 days and 1s", Config{Lifetime: 400*24*time.Hour + time.Second}, false},
		{"Lifetime 1.5s", Config{Lifetime: 1500 * time.Millisecond}, false},
		{"Lifetime 500ms", Config{Lifetime: 500 * time.Millisecond}, false},
		{"Lifetime negative", Config{Lifetime: -time.Hour}, false},
		{"IdleTimeout equal to Lifetime", Config{Lifetime: time.Hour, IdleTimeout: time.Hour}, true},
		{"IdleTimeout over Lifetime", Config{Lifetime: time.Hour, IdleTimeout: time.Hour + time.Second}, false},
		{"IdleTimeout over default Lifetime", Config{IdleTimeout: DefaultLifetime + time.Second}, false},
		{"IdleTimeout 1.5s", Config{IdleTimeout: 1500 * time.Millisecond}, false},
		{"IdleTimeout negative", Config{IdleTimeout: -time.Second}, false},
		{"Codec.Now set", Config{Codec: Options{Now: time.Now}}, false},
		{"Codec.ClockSkew out of range", Config{Codec: Options{ClockSkew: time.Hour}}, false},
	}
	kr := oneKeyring(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(kr, tt.cfg)
			switch {
			case tt.ok && (err != nil || m == nil):
				t.Errorf("New: %v", err)
			case !tt.ok && !errors.Is(err, ErrInvalidConfig):
				t.Errorf("New: err %v, want ErrInvalidConfig", err)
			case !tt.ok && m != nil:
				t.Error("New returned a manager with its error")
			}
		})
	}
}

// Browsers match the __Host- and __Secure- prefixes case-insensitively
// (RFC 6265bis; Chrome, Firefox and Safari enforce "__host-" too), so these
// cookies would be refused like their canonical spellings.
func TestNewConfigPrefixCaseInsensitive(t *testing.T) {
	kr := oneKeyring(t)
	for _, cfg := range []Config{
		{Name: "__host-s", Domain: "example.com"},
		{Name: "__HOST-s", Path: "/app"},
		{Name: "__Host-s", Insecure: true},
		{Name: "__secure-s", Insecure: true},
		{Name: "__SECURE-s", Insecure: true},
	} {
		if _, err := New(kr, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(Name %q, Domain %q, Path %q, Insecure %v): err %v, want ErrInvalidConfig",
				cfg.Name, cfg.Domain, cfg.Path, cfg.Insecure, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	e := stNew(t, Config{MaxChunks: 0, MaxSize: 0})
	// Names run to the hard limit of 10, so that chunks left by a larger
	// MaxChunks are still recognized and deleted.
	if diff := cmp.Diff([]string{"session", "session.1", "session.2", "session.3", "session.4", "session.5", "session.6", "session.7", "session.8", "session.9"}, e.m.names); diff != "" {
		t.Errorf("chunk names (-want +got):\n%s", diff)
	}
	if e.m.maxSize != DefaultMaxSize || e.m.lifetime != int64(DefaultLifetime/time.Second) {
		t.Errorf("maxSize %d, lifetime %d", e.m.maxSize, e.m.lifetime)
	}
	if _, err := New(&Keyring{}, Config{}); !errors.Is(err, ErrInvalidKeyring) {
		t.Errorf("New with a zero keyring: %v, want ErrInvalidKeyring", err)
	}
}

func TestSetCookieAttributes(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantName string
		attrs    string // attributes less Max-Age
		maxAge   int
	}{
		{"defaults", Config{}, "session", "; Path=/; HttpOnly; Secure; SameSite=Lax", 1209600},
		{"path domain strict", Config{Path: "/app", Domain: "example.com", SameSite: http.SameSiteStrictMode},
			"session", "; Path=/app; Domain=example.com; HttpOnly; Secure; SameSite=Strict", 1209600},
		{"script access insecure no SameSite", Config{AllowScriptAccess: true, Insecure: true, SameSite: http.SameSiteDefaultMode},
			"session", "; Path=/", 1209600},
		{"None partitioned", Config{SameSite: http.SameSiteNoneMode, Partitioned: true},
			"session", "; Path=/; HttpOnly; Secure; SameSite=None; Partitioned", 1209600},
		{"__Host- name, one hour", Config{Name: "__Host-sid", Lifetime: time.Hour}, "__Host-sid", "; Path=/; HttpOnly; Secure; SameSite=Lax", 3600},
		{"browser session", Config{BrowserSession: true}, "session", "; Path=/; HttpOnly; Secure; SameSite=Lax", -1},
		{"lifetime 400 days", Config{Lifetime: 400 * 24 * time.Hour}, "session", "; Path=/; HttpOnly; Secure; SameSite=Lax", 34560000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, tt.cfg)
			s := stLoad(t, e.m, "")
			s.Set("k", "v")
			lines := stSave(t, e.m, s)
			if len(lines) != 1 {
				t.Fatalf("lines = %q, want 1", lines)
			}
			got := stParse(t, lines[0])
			want := stCookie{name: tt.wantName, value: got.value, attrs: tt.attrs, maxAge: tt.maxAge}
			if tt.maxAge >= 0 {
				want.attrs += "; Max-Age=" + strconv.Itoa(tt.maxAge)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(stCookie{})); diff != "" {
				t.Errorf("Set-Cookie %q (-want +got):\n%s", lines[0], diff)
			}
			// net/http reads the line the same way.
			c, err := http.ParseSetCookie(lines[0])
			if err != nil || c.Name != tt.wantName || c.Value != got.value || c.Path != tt.cfg.Path && tt.cfg.Path != "" {
				t.Errorf("http.ParseSetCookie = %+v, %v", c, err)
			}
			// Deleting uses the same attributes.
			s.Clear()
			del := stSave(t, e.m, s)
			if wantDel := []string{tt.wantName + "=" + tt.attrs + "; Max-Age=0"}; !cmp.Equal(wantDel, del) {
				t.Errorf("deletion lines = %q, want %q", del, wantDel)
			}
		})
	}
}

func TestChunkIndex(t *testing.T) {
	tests := []struct {
		name      string
		maxChunks int
		want      int
	}{
		{"session", 3, 0},
		{"session.1", 3, 1},
		{"session.2", 3, 2},
		{"session.3", 3, 3}, // beyond MaxChunks: recognized, to be deleted
		{"session.01", 3, -1},
		{"session.0", 3, -1},
		{"session.-1", 3, -1},
		{"session.+1", 3, -1},
		{"session. 1", 3, -1},
		{"session.1 ", 3, -1},
		{"session.", 3, -1},
		{"session..1", 3, -1},
		{"session.x", 3, -1},
		{"session.1.2", 3, -1},
		{"sessionx", 3, -1},
		{"xsession", 3, -1},
		{"Session", 3, -1},
		{"", 3, -1},
		{"session.1", 1, 1},
		{"session.9", 10, 9},
		{"session.10", 10, -1},
		{"session.09", 10, -1},
	}
	for _, tt := range tests {
		e := stNew(t, Config{MaxChunks: tt.maxChunks})
		if got := e.m.chunkIndex(tt.name); got != tt.want {
			t.Errorf("chunkIndex(%q) with MaxChunks %d = %d, want %d", tt.name, tt.maxChunks, got, tt.want)
		}
	}
}

func TestParseCount(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		text string
		ok   bool
	}{
		{"AbC-_9", 1, "AbC-_9", true},
		{"", 1, "", true},
		{"2.abc", 2, "abc", true},
		{"10.abc", 10, "abc", true},
		{"99.abc", 99, "abc", true},
		{"2.a.b", 2, "a.b", true},
		{"2.", 2, "", true},
		{"1.abc", 0, "", false},
		{"0.abc", 0, "", false},
		{"02.abc", 0, "", false},
		{"100.abc", 0, "", false},
		{".abc", 0, "", false},
		{"+2.abc", 0, "", false},
		{"-2.abc", 0, "", false},
		{" 2.abc", 0, "", false},
		{"2 .abc", 0, "", false},
		{"x.abc", 0, "", false},
		{"٢.abc", 0, "", false},
	}
	for _, tt := range tests {
		n, text, err := parseCount(tt.in)
		if tt.ok != (err == nil) || n != tt.n || text != tt.text {
			t.Errorf("parseCount(%q) = %d, %q, %v; want %d, %q, ok %v", tt.in, n, text, err, tt.n, tt.text, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("parseCount(%q): %v does not wrap ErrMalformed", tt.in, err)
		}
	}
}

// stBlob returns random bytes whose session (under key "blob") takes exactly
// n cookies in m. Compression makes the sealed length vary by a few bytes
// with the random session ID, so the size is taken from the middle of the
// range of sizes that give n cookies.
func stBlob(t testing.TB, m *Manager, n int) []byte {
	t.Helper()
	r := rand.New(rand.NewChaCha8([32]byte{byte(n)}))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	chunks := func(size int) int {
		s := stLoad(t, m, "")
		s.Set("blob", random[:size])
		lines, err := m.SetCookieHeaders(s)
		if err != nil {
			return 0
		}
		return len(lines)
	}
	lo := 16
	for ; lo < len(random) && chunks(lo) < n; lo += 64 {
	}
	hi := lo
	for ; hi < len(random) && chunks(hi) == n; hi += 64 {
	}
	if hi-lo < 256 {
		t.Fatalf("no range of blob sizes gives %d cookies (%d..%d)", n, lo, hi)
	}
	return random[:(lo+hi)/2]
}

func TestChunking(t *testing.T) {
	configs := map[string]Config{
		"defaults, MaxSize 16K": {MaxSize: 16384},
		"long name and attributes": {Name: "__Secure-" + strings.Repeat("n", 200), Path: "/" + strings.Repeat("p", 400),
			Domain: strings.Repeat("d", 300) + ".example", SameSite: http.SameSiteNoneMode, Partitioned: true, MaxSize: 16384},
	}
	for cname, cfg := range configs {
		for _, n := range []int{1, 2, 3} {
			e := stNew(t, cfg)
			blob := stBlob(t, e.m, n)
			for _, expiry := range []time.Duration{0, 400 * 24 * time.Hour} {
				s := stLoad(t, e.m, "")
				s.Set("blob", blob)
				if expiry != 0 {
					s.SetExpiry(Expiry{Lifetime: expiry}) // the longest Max-Age
				}
				lines := stSave(t, e.m, s)
				var names []string
				size := 0
				for i, l := range lines {
					if len(l) > cookieSizeLimit {
						t.Errorf("%s, %d chunks: line %d is %d bytes", cname, n, i, len(l))
					}
					c := stParse(t, l)
					names = append(names, c.name)
					size += len(c.name) + 1 + len(c.value)
					if i == 0 && (n > 1) != strings.HasPrefix(c.value, strconv.Itoa(n)+".") {
						t.Errorf("%s, %d chunks: first value starts %.5q", cname, n, c.value)
					}
				}
				if diff := cmp.Diff(e.m.names[:n], names); diff != "" {
					t.Errorf("%s, %d chunks: names (-want +got):\n%s", cname, n, diff)
				}
				if size > 16384 {
					t.Errorf("%s, %d chunks: %d bytes over MaxSize", cname, n, size)
				}
				got, ok, err := Get[[]byte](stLoad(t, e.m, stHeader(t, lines)), "blob")
				if !ok || err != nil || !cmp.Equal(blob, got) {
					t.Errorf("%s, %d chunks: blob did not round-trip (ok %v, err %v)", cname, n, ok, err)
				}
			}
		}
	}
}

func TestChunkShrinkGrow(t *testing.T) {
	e := stNew(t, Config{MaxSize: 16384})
	blobs := map[int][]byte{1: stBlob(t, e.m, 1), 2: stBlob(t, e.m, 2), 3: stBlob(t, e.m, 3)}
	header := func(n int) string {
		s := stLoad(t, e.m, "")
		s.Set("blob", blobs[n])
		return stHeader(t, stSave(t, e.m, s))
	}
	tests := []struct {
		from, to int
		want     []string
	}{
		{3, 1, []string{"session set", "session.2 delete", "session.1 delete"}}, // deletions from the highest index
		{3, 2, []string{"session set", "session.1 set", "session.2 delete"}},
		{2, 1, []string{"session set", "session.1 delete"}},
		{1, 2, []string{"session set", "session.1 set"}},
		{1, 3, []string{"session set", "session.1 set", "session.2 set"}},
		{2, 3, []string{"session set", "session.1 set", "session.2 set"}},
		{3, 0, []string{"session.2 delete", "session.1 delete", "session delete"}},
	}
	for _, tt := range tests {
		s := stLoad(t, e.m, header(tt.from))
		if tt.to == 0 {
			s.Delete("blob")
		} else {
			s.Set("blob", blobs[tt.to])
		}
		lines := stSave(t, e.m, s)
		if diff := cmp.Diff(tt.want, stSummary(t, lines)); diff != "" {
			t.Errorf("%d -> %d chunks (-want +got):\n%s", tt.from, tt.to, diff)
		}
		if tt.to == 0 {
			continue
		}
		got, _, err := Get[[]byte](stLoad(t, e.m, stHeader(t, lines)), "blob")
		if err != nil || !cmp.Equal(blobs[tt.to], got) {
			t.Errorf("%d -> %d chunks: blob did not round-trip: %v", tt.from, tt.to, err)
		}
	}
}

func TestSaveTooLarge(t *testing.T) {
	big := stBlob(t, stNew(t, Config{MaxSize: 16384}).m, 3)
	two := stBlob(t, stNew(t, Config{}).m, 2)
	tests := []struct {
		name string
		cfg  Config
		blob []byte
	}{
		{"over MaxSize", Config{}, big},
		{"over small MaxSize", Config{MaxSize: 512}, two[:600]},
		{"over MaxChunks 1", Config{MaxChunks: 1}, two},
		{"over MaxChunks 2", Config{MaxChunks: 2, MaxSize: 16384}, big},
	}
	for _, tt := range tests {
		e := stNew(t, tt.cfg)
		s := stLoad(t, e.m, "")
		s.Set("small", 1)
		ok, _ := stRoundTrip(t, e.m, s)
		ok.Set("blob", tt.blob)
		lines, err := e.m.SetCookieHeaders(ok)
		if !errors.Is(err, ErrTooLarge) || lines != nil {
			t.Errorf("%s: lines %d, err %v; want none, ErrTooLarge", tt.name, len(lines), err)
		}
		ok.Delete("blob")
		if lines := stSave(t, e.m, ok); len(lines) != 1 {
			t.Errorf("%s: after removing the blob, lines = %q", tt.name, lines)
		}
	}
}

func TestSetCookieHeadersOtherManager(t *testing.T) {
	a, b := stNew(t, Config{}), stNew(t, Config{})
	s := stLoad(t, a.m, "")
	s.Set("k", 1)
	lines, err := b.m.SetCookieHeaders(s)
	if !errors.Is(err, ErrInvalidConfig) || lines != nil {
		t.Errorf("saving with another manager: %q, %v", lines, err)
	}
}
