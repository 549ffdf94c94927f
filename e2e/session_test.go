package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// The browser's limit on one cookie's name and value together (RFC 6265bis,
// and Chromium's own), and the library's default MaxSize.
const (
	browserCookieLimit = 4096
	defaultMaxSize     = 6144
)

// cartItems is how many items of itemLen random letters the tests put in a
// cart to make it take two cookies; the demo's limit is about 35.
const (
	cartItems = 30
	itemLen   = 200
)

// randomItems returns n items of itemLen random lowercase letters, the same
// for the same seed. Random letters compress poorly, so the cart stays big.
func randomItems(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 0))
	items := make([]string, n)
	for i := range items {
		b := make([]byte, itemLen)
		for j := range b {
			b[j] = 'a' + byte(r.IntN(26))
		}
		items[i] = string(b)
	}
	return items
}

// fillCart adds items to the tab's cart, one request each, checking the
// cart the demo answers with each time.
func (tb *tab) fillCart(items []string) {
	tb.t.Helper()
	for i, item := range items {
		tb.mustPost("cart/add/"+item, strings.Join(items[:i+1], "\n"))
	}
}

// checkAttributes fails the test unless c carries the attributes the demo's
// configuration gives every session cookie: host-only, Path /, HttpOnly,
// SameSite Lax, Secure (on loopback too), and the default 14-day lifetime.
func checkAttributes(t *testing.T, c *network.Cookie) {
	t.Helper()
	type attrs struct {
		Domain, Path      string
		HTTPOnly, Secure  bool
		SameSite          network.CookieSameSite
		Session           bool
		NameValueInLimit  bool
		SizeIsNamePlusVal bool
	}
	got := attrs{c.Domain, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.Session,
		len(c.Name)+len(c.Value) <= browserCookieLimit, c.Size == int64(len(c.Name)+len(c.Value))}
	want := attrs{"127.0.0.1", "/", true, true, network.CookieSameSiteLax, false, true, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cookie %s (%d bytes of name and value): attributes (-want +got):\n%s", c.Name, len(c.Name)+len(c.Value), diff)
	}
	left := time.Until(time.Unix(int64(c.Expires), 0))
	if left < 13*24*time.Hour || left > 15*24*time.Hour {
		t.Errorf("cookie %s expires in %v, want about 14 days (the default lifetime)", c.Name, left)
	}
}

// names returns the names in m, sorted.
func names(m map[string]*network.Cookie) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestVisitCounter(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	for n := 1; n <= 4; n++ {
		tb.mustOpen("visits", fmt.Sprintf("You have visited this page %d times.", n))
	}
	got := tb.sessionCookies()
	if diff := cmp.Diff([]string{sessionName}, names(got)); diff != "" {
		t.Fatalf("session cookies (-want +got):\n%s", diff)
	}
	checkAttributes(t, got[sessionName])
}

func TestChunkedCart(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	items := randomItems(1, cartItems)
	tb.fillCart(items)

	store := tb.sessionCookies()
	if diff := cmp.Diff([]string{sessionName, chunk1}, names(store)); diff != "" {
		t.Fatalf("session cookies after %d items (-want +got):\n%s", len(items), diff)
	}
	for _, c := range store {
		checkAttributes(t, c)
	}
	if !strings.HasPrefix(store[sessionName].Value, "2.") {
		t.Errorf("first cookie's value starts %.10q, want the chunk count 2.", store[sessionName].Value)
	}

	// The browser sends both cookies back, and they open to the same cart.
	tb.mustOpen("cart", strings.Join(items, "\n"))
	m, err := cookiesession.New(tb.h.keyring, cookiesession.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.LoadCookies(context.Background(), []string{
		sessionName + "=" + store[sessionName].Value, chunk1 + "=" + store[chunk1].Value,
	})
	if err != nil {
		t.Fatalf("opening the browser's cookies with the demo's keys: %v", err)
	}
	cart, _, err := cookiesession.Get[[]string](s, "cart")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(items, cart); diff != "" {
		t.Errorf("cart sealed in the browser's cookies (-want +got):\n%s", diff)
	}

	// Past the budget, the demo answers 413 and the browser keeps the last
	// session that fit.
	more := randomItems(2, 20)
	for _, item := range more {
		before := values(tb.sessionCookies())
		status, text := tb.post("cart/add/" + item)
		if status == 200 {
			items = append(items, item)
			continue
		}
		if status != 413 || text != "Session too large: clear the cart." {
			t.Fatalf("POST /cart/add/ item %d: %d %s, want 200 or 413", len(items)+1, status, short(text))
		}
		if diff := cmp.Diff(before, values(tb.sessionCookies())); diff != "" {
			t.Errorf("a 413 changed the cookies (-before +after):\n%s", diff)
		}
		size := 0
		for name, v := range before {
			size += len(name) + 1 + len(v)
		}
		if size > defaultMaxSize {
			t.Errorf("the last session that fit takes %d bytes of Cookie header, over %d", size, defaultMaxSize)
		}
		tb.mustOpen("cart", strings.Join(items, "\n"))
		return
	}
	t.Fatalf("%d items of %d letters all fit; want a 413 before", cartItems+len(more), itemLen)
}

func TestShrinkDropsStaleChunk(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.mustPost("color/set?value=teal", "Session data set!")
	tb.fillCart(randomItems(3, cartItems))
	if got := names(tb.sessionCookies()); len(got) < 2 {
		t.Fatalf("session cookies %q with a full cart, want several", got)
	}

	tb.mustPost("cart/clear", "Cart cleared.")
	store := tb.sessionCookies()
	if diff := cmp.Diff([]string{sessionName}, names(store)); diff != "" {
		t.Fatalf("session cookies after clearing the cart (-want +got):\n%s", diff)
	}
	checkAttributes(t, store[sessionName])
	if v := store[sessionName].Value; strings.Contains(v, ".") {
		t.Errorf("single cookie value %.20q... has a chunk count", v)
	}
	tb.mustOpen("color", "Favorite color is teal")
	tb.mustOpen("cart", "Your cart is empty.")
}

func TestLogoutRemovesEveryCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items int
		want  []string // session cookies before logout
	}{
		{"one cookie", 1, []string{sessionName}},
		{"two cookies", cartItems, []string{sessionName, chunk1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTab(t)
			tb.setCookie("other", "kept") // not the session's: logout leaves it
			tb.fillCart(randomItems(uint64(10+i), tt.items))
			if diff := cmp.Diff(tt.want, names(tb.sessionCookies())); diff != "" {
				t.Fatalf("session cookies before logout (-want +got):\n%s", diff)
			}
			tb.mustPost("logout", "Logged out.")
			if diff := cmp.Diff([]string{"other"}, names(tb.cookies())); diff != "" {
				t.Errorf("cookies after logout (-want +got):\n%s", diff)
			}
			tb.mustOpen("cart", "Your cart is empty.")
			tb.mustOpen("visits", "You have visited this page 1 times.")
		})
	}
}

func TestCookieHiddenFromScriptAndCrossSite(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.mustOpen("visits", "You have visited this page 1 times.")

	// HttpOnly: scripts see a cookie of their own, not the session's.
	if status, _ := tb.open(""); status != 200 {
		t.Fatalf("GET /: %d, want 200", status)
	}
	seen := eval[string](tb, `document.cookie = "script=1"; document.cookie`)
	if seen != "script=1" {
		t.Errorf("document.cookie = %q, want only the script's own cookie, script=1", seen)
	}
	store := tb.cookies()
	if store[sessionName] == nil || store["script"] == nil {
		t.Fatalf("cookies in the store: %q, want session and script", names(store))
	}
	checkAttributes(t, store[sessionName])

	// SameSite=Lax: a same-site image request carries the session, a
	// cross-site one (from localhost, another site than 127.0.0.1) does not,
	// and the session it gets back is not stored.
	load := func(page, src string) {
		t.Helper()
		status, _ := tb.openURL(page)
		if status != 200 {
			t.Fatalf("GET %s: %d", page, status)
		}
		eval[bool](tb, fmt.Sprintf(`new Promise(done => { const i = new Image(); i.onload = i.onerror = () => done(true); i.src = %q; })`, src))
	}
	sameSite := tb.url("visits?from=image")
	crossSite, err := url.Parse(tb.h.base)
	if err != nil {
		t.Fatal(err)
	}
	crossSite.Host = "localhost:" + crossSite.Port()

	before := tb.sessionCookies()[sessionName].Value
	load(tb.url(""), sameSite)
	afterSame := tb.sessionCookies()[sessionName].Value
	if afterSame == before {
		t.Errorf("the same-site image request did not update the session cookie")
	}
	load(crossSite.String(), sameSite)
	if got := tb.sessionCookies()[sessionName].Value; got != afterSame {
		t.Errorf("the cross-site image request changed the session cookie")
	}
	tb.mustOpen("visits", "You have visited this page 3 times.")
}
