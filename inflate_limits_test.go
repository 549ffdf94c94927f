package cookiesession

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// attackCart is the cart of the attack: one item added over and
// over, about 40 KB of JSON that DEFLATE shrinks several hundredfold.
func attackCart() []string {
	cart := make([]string, 5000)
	for i := range cart {
		cart[i] = "apple"
	}
	return cart
}

// attackCookie returns the Cookie header of a session holding n=7 and the
// attack cart, compressed as a writer without MaxSessionSize and
// MaxCompressionRatio stored it (the code before them did), sealed under
// m's key, and the cart's serialized length.
func attackCookie(t testing.TB, m *Manager) (string, int) {
	t.Helper()
	cart, err := json.Marshal(attackCart())
	if err != nil {
		t.Fatal(err)
	}
	st := state{created: t0, deadline: t0 + 3600}
	st.values.set("cart", cart)
	st.values.set("n", []byte("7"))
	p, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, maxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	return m.names[0] + "=" + hdSealRaw(t, m, p), len(cart)
}

// TestInflateLimitAttack runs the attack: a cookie of under 300
// bytes whose cart inflates to 40 KB, replayed on every request. It is
// refused at load, before anything is inflated: the request gets a fresh
// session, and the hook hears of an error wrapping ErrInflateLimit.
func TestInflateLimitAttack(t *testing.T) {
	e := hdNew(t, Config{})
	header, inflated := attackCookie(t, e.m)
	if len(header) > 400 || inflated < 40000 {
		t.Fatalf("attack cookie of %d bytes inflating to %d; want a small cookie and about 40 KB", len(header), inflated)
	}

	r := e.serve("/", header)
	if r.status != http.StatusOK || r.body != hdFreshBody {
		t.Fatalf("status %d body %q, want 200 %q", r.status, r.body, hdFreshBody)
	}
	if len(r.errs) != 1 || !errors.Is(r.errs[0], ErrInflateLimit) || !errors.Is(r.errs[0], ErrTooLarge) {
		t.Fatalf("ErrorHook got %v, want one error wrapping ErrInflateLimit and ErrTooLarge", r.errs)
	}

	s, err := e.m.LoadHeader(context.Background(), header)
	if !errors.Is(err, ErrInflateLimit) || !s.IsNew() {
		t.Fatalf("LoadHeader: error %v, new %t; want ErrInflateLimit and a new session", err, s.IsNew())
	}

	// Each cap alone refuses it: the cart's ratio is over
	// MaxCompressionRatio, and its 40 KB are over a MaxSessionSize of 32 KiB.
	for _, cfg := range []Config{
		{MaxSessionSize: 1 << 20}, // the ratio cap alone
		{MaxSessionSize: 32 << 10, MaxCompressionRatio: maxCompressionRatio}, // the size cap alone
	} {
		e := hdOn(t, e.kr, e.clock, cfg)
		if _, err := e.m.LoadHeader(context.Background(), header); !errors.Is(err, ErrInflateLimit) {
			t.Errorf("%+v: LoadHeader: error %v, want ErrInflateLimit", cfg, err)
		}
	}
	// With both caps lifted, the cookie opens: the control.
	open := hdOn(t, e.kr, e.clock, Config{MaxSessionSize: 1 << 20, MaxCompressionRatio: maxCompressionRatio})
	s, err = open.m.LoadHeader(context.Background(), header)
	if cart, _, gerr := Get[[]string](s, "cart"); err != nil || gerr != nil || len(cart) != 5000 {
		t.Fatalf("caps lifted: %v, %v, %d items", err, gerr, len(cart))
	}
}

// TestInflateLimitWriter: the writer never makes a cookie that its reader
// refuses. A value that compresses more than MaxCompressionRatio is stored
// as it is, and so the attack cart no longer fits: the caller sees
// ErrTooLarge before any header is written. A cart of realistic items is
// still compressed.
func TestInflateLimitWriter(t *testing.T) {
	e := hdNew(t, Config{})
	s, _ := e.m.LoadHeader(context.Background(), "")
	if err := s.Set("cart", attackCart()); err != nil {
		t.Fatal(err)
	}
	if lines, err := e.m.SetCookieHeaders(s); !errors.Is(err, ErrTooLarge) || len(lines) != 0 {
		t.Fatalf("SetCookieHeaders: %d lines, error %v; want ErrTooLarge and none", len(lines), err)
	}

	s, _ = e.m.LoadHeader(context.Background(), "")
	if err := s.Set("cart", strings.Split(hdWords(8000, 64), ",")); err != nil {
		t.Fatal(err)
	}
	lines, err := e.m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	if i, _ := s.st.values.find("cart"); s.st.values[i].z == nil {
		t.Fatal("a cart of realistic items was not compressed")
	}
	back, err := e.m.LoadHeader(context.Background(), hdCookieHeader(t, lines))
	if err != nil || back.Len() != 1 {
		t.Fatalf("reload: %v, %d keys", err, back.Len())
	}
}

// hdCookieHeader turns Set-Cookie lines into the Cookie header that sends
// them back.
func hdCookieHeader(t testing.TB, lines []string) string {
	t.Helper()
	var pairs []string
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxAge >= 0 {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	return strings.Join(pairs, "; ")
}
