package cookiesession_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// exampleManager returns a Manager on the published example keys, with a
// fixed clock so that the output does not change.
func exampleManager(cfg cookiesession.Config) *cookiesession.Manager {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Now = func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// cookieHeader turns Set-Cookie lines into the Cookie header a browser would
// send back, leaving out deleted cookies.
func cookieHeader(setCookies []string) string {
	var pairs []string
	for _, l := range setCookies {
		pair, attrs, _ := strings.Cut(l, ";")
		if !strings.Contains(attrs, "Max-Age=0") {
			pairs = append(pairs, pair)
		}
	}
	return strings.Join(pairs, "; ")
}

func ExampleManager_Middleware() {
	// In production: cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS")),
	// then cookiesession.New(kr, cookiesession.Config{}).
	m := exampleManager(cookiesession.Config{})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n := cookiesession.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "You have visited this page %d times.", n)
	})
	handler := m.Middleware(mux) // http.ListenAndServe(addr, handler)

	// Three requests from one browser.
	cookie := ""
	for range 3 {
		req := httptest.NewRequest("GET", "/visits", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Body.String(), "Vary:", rec.Header().Get("Vary"))
		cookie = cookieHeader(rec.Header().Values("Set-Cookie"))
	}
	// Output:
	// You have visited this page 1 times. Vary: Cookie
	// You have visited this page 2 times. Vary: Cookie
	// You have visited this page 3 times. Vary: Cookie
}

func ExampleGet() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "") // a new session

	type Prefs struct {
		Color string
		Size  int
	}
	s.Set("prefs", Prefs{Color: "teal", Size: 12})
	s.Set("user", "ada")

	prefs, ok, err := cookiesession.Get[Prefs](s, "prefs")
	fmt.Println(prefs, ok, err)

	// An unknown key is not an error.
	cart, ok, err := cookiesession.Get[[]string](s, "cart")
	fmt.Println(cart, ok, err)

	// A value read as a type it does not fit is.
	_, ok, err = cookiesession.Get[int](s, "user")
	fmt.Println(ok, errors.Is(err, cookiesession.ErrValueType))
	// Output:
	// {teal 12} true <nil>
	// [] false <nil>
	// true true
}

func ExamplePop() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "")

	// One request leaves a flash message ...
	s.Set("flash", "Saved!")

	// ... and the next shows it once.
	msg, ok, _ := cookiesession.Pop[string](s, "flash")
	fmt.Println(msg, ok)
	_, ok, _ = cookiesession.Pop[string](s, "flash")
	fmt.Println(ok)
	// Output:
	// Saved! true
	// false
}

// Serverless handlers, such as an AWS Lambda behind an API Gateway HTTP API,
// have no middleware chain: they load the session from the event's cookies
// and return Set-Cookie values.
func ExampleManager_SetCookieHeaders() {
	m := exampleManager(cookiesession.Config{Name: "__Host-session"})

	// The event's "cookies" array: here, from a browser with no session yet.
	eventCookies := []string{"theme=dark"}
	s, err := m.LoadCookies(context.Background(), eventCookies)
	if err != nil {
		// A rejected cookie: s is a fresh session; err says why.
		log.Print(err)
	}
	s.Set("user", "ada")

	setCookies, err := m.SetCookieHeaders(s) // the response's "cookies" array
	if err != nil {
		log.Fatal(err) // ErrTooLarge: nothing was written
	}
	for _, c := range setCookies {
		name, rest, _ := strings.Cut(c, "=")
		_, attrs, _ := strings.Cut(rest, ";")
		fmt.Println(name, attrs)
	}

	// The next request carries the cookie back.
	s, err = m.LoadCookies(context.Background(), []string{"theme=dark", cookieHeader(setCookies)})
	user, _, _ := cookiesession.Get[string](s, "user")
	fmt.Println(user, err)
	// Output:
	// __Host-session  Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=1209600
	// ada <nil>
}

func ExampleSession_SetExpiry() {
	m := exampleManager(cookiesession.Config{IdleTimeout: 30 * time.Minute})
	s, _ := m.LoadHeader(context.Background(), "")
	s.Set("user", "ada")
	fmt.Println("policy:", s.Expiry()) // 30 minutes of inactivity

	// "Remember me": 30 days, with no idle timeout.
	s.SetExpiry(cookiesession.Expiry{Lifetime: 30 * 24 * time.Hour, NoIdleTimeout: true})
	fmt.Println("remember me:", s.Expiry())
	lines, _ := m.SetCookieHeaders(s)
	fmt.Println(strings.Contains(lines[0], "Max-Age=2592000"))

	// Or one of Django's set_expiry cases.
	s.SetExpiry(cookiesession.Expiry{IdleTimeout: time.Hour}) // set_expiry(3600)
	fmt.Println("an hour idle:", s.Expiry())
	s.SetExpiry(cookiesession.Expiry{BrowserClose: true}) // set_expiry(0)
	lines, _ = m.SetCookieHeaders(s)
	fmt.Println("browser close, Max-Age:", strings.Contains(lines[0], "Max-Age"))
	s.ResetExpiry() // set_expiry(None)
	fmt.Println("policy again:", s.Expiry())

	// Out of range, as in Config, is an error.
	err := s.SetExpiry(cookiesession.Expiry{Lifetime: 1500 * time.Millisecond})
	fmt.Println(errors.Is(err, cookiesession.ErrInvalidConfig))
	// Output:
	// policy: 2026-11-22 12:30:00 +0000 UTC
	// remember me: 2026-12-22 12:00:00 +0000 UTC
	// true
	// an hour idle: 2026-11-22 13:00:00 +0000 UTC
	// browser close, Max-Age: false
	// policy again: 2026-11-22 12:30:00 +0000 UTC
	// true
}

// Reading a session's expiry policy back, as Django's
// get_expire_at_browser_close and get_expiry_age do.
func ExampleSession_OwnExpiry() {
	m := exampleManager(cookiesession.Config{IdleTimeout: 30 * time.Minute})
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) // exampleManager's clock
	s, _ := m.LoadHeader(context.Background(), "")
	s.Set("user", "ada")

	_, own := s.OwnExpiry()
	fmt.Println("own policy:", own, "at browser close:", s.ExpiresAtBrowserClose())
	fmt.Println("expiry age:", s.Expiry().Sub(now))

	s.SetExpiry(cookiesession.Expiry{Lifetime: 30 * 24 * time.Hour, NoIdleTimeout: true})
	e, own := s.OwnExpiry()
	fmt.Println("own policy:", own, "ends:", e.Deadline, "idle timeout off:", e.NoIdleTimeout)
	fmt.Println("expiry age:", s.Expiry().Sub(now))

	s.SetExpiry(cookiesession.Expiry{BrowserClose: true})
	e, _ = s.OwnExpiry()
	fmt.Println("at browser close:", s.ExpiresAtBrowserClose(), "own idle timeout:", e.IdleTimeout, "off:", e.NoIdleTimeout)
	fmt.Println("expiry age:", s.Expiry().Sub(now)) // Config.IdleTimeout still applies
	// Output:
	// own policy: false at browser close: false
	// expiry age: 30m0s
	// own policy: true ends: 2026-12-22 12:00:00 +0000 UTC idle timeout off: true
	// expiry age: 720h0m0s
	// at browser close: true own idle timeout: 0s off: false
	// expiry age: 30m0s
}
