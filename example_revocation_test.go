package cookiesession_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/cookiesession/cookiesession"
)

// A password change ends every other session of the user, with no store at
// all, as Django does with get_session_auth_hash: the session keeps an HMAC
// of the user's password hash, and Validate compares it with the current
// one on every request. The session where the password changed keeps
// working, because it stores the new HMAC (Django's
// update_session_auth_hash). What this cannot do is end one session alone,
// as at logout: that takes the revocation store (Config.Revocation).
func Example_credentialHash() {
	// The application's users: name -> password hash (bcrypt or argon2id
	// in a real application).
	var mu sync.Mutex
	passwords := map[string]string{"ada": "$argon2id$v=19$...$first"}
	// authKey is a secret of the application's own, apart from the
	// session keys.
	authKey := []byte("an application secret for the credential HMAC")
	authHash := func(user string) string {
		mu.Lock()
		defer mu.Unlock()
		mac := hmac.New(sha256.New, authKey)
		mac.Write([]byte(passwords[user]))
		return hex.EncodeToString(mac.Sum(nil))
	}
	errPasswordChanged := errors.New("the password changed since this login")

	m := exampleManager(cookiesession.Config{
		Validate: func(ctx context.Context, s *cookiesession.Session) error {
			user := cookiesession.GetOr(s, "user", "")
			if user == "" {
				return nil // not logged in: nothing to check
			}
			if !hmac.Equal([]byte(cookiesession.GetOr(s, "auth_hash", "")), []byte(authHash(user))) {
				return errPasswordChanged
			}
			return nil
		},
	})
	login := func(user string) string {
		s, _ := m.LoadHeader(context.Background(), "")
		s.Renew()
		s.Set("user", user)
		s.Set("auth_hash", authHash(user))
		lines, err := m.SetCookieHeaders(s)
		if err != nil {
			log.Fatal(err)
		}
		return cookieHeader(lines)
	}
	whoami := func(device, cookie string) {
		s, err := m.LoadHeader(context.Background(), cookie)
		fmt.Printf("%s: %q, %v\n", device, cookiesession.GetOr(s, "user", ""), err)
	}

	laptop, phone := login("ada"), login("ada")
	whoami("laptop", laptop)
	whoami("phone", phone)

	// Ada changes her password on the laptop.
	s, _ := m.LoadHeader(context.Background(), laptop)
	mu.Lock()
	passwords["ada"] = "$argon2id$v=19$...$second"
	mu.Unlock()
	s.Set("auth_hash", authHash("ada")) // this session goes on
	lines, _ := m.SetCookieHeaders(s)
	laptop = cookieHeader(lines)

	whoami("laptop", laptop)
	whoami("phone", phone)
	// Output:
	// laptop: "ada", <nil>
	// phone: "ada", <nil>
	// laptop: "ada", <nil>
	// phone: "", cookiesession: session rejected by Validate: the password changed since this login
}

// Logout that ends every copy of the cookie, and "log out everywhere", with
// the in-memory store (for one instance; the redisstore module shares the
// marks across a fleet). Bound 0 checks every request; a bound of a minute
// checks each session at most once a minute.
func ExampleSession_Revoke() {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := cookiesession.NewMemoryRevocationStore(clock)
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	m, err := cookiesession.New(kr, cookiesession.Config{Now: clock,
		Revocation: cookiesession.Revocation{Store: store, Bound: 0}})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	login := func(user string) string {
		s, _ := m.LoadHeader(ctx, "")
		s.Renew()
		s.SetSubject(user) // whose session it is
		s.Set("cart", []string{"tea"})
		lines, err := m.SetCookieHeaders(s)
		if err != nil {
			log.Fatal(err)
		}
		return cookieHeader(lines)
	}
	whose := func(device, cookie string) {
		s, err := m.LoadHeader(ctx, cookie)
		fmt.Printf("%s: %q, %v\n", device, s.Subject(), err)
	}

	laptop := login("ada")
	stolen := laptop // a copy, taken before logout
	s, _ := m.LoadHeader(ctx, laptop)
	if err := s.Revoke(ctx); err != nil { // logout: every copy of this cookie
		log.Fatal(err)
	}
	whose("stolen copy", stolen)

	now = now.Add(time.Millisecond)
	phone, tablet := login("bob"), login("bob")
	now = now.Add(time.Millisecond)
	if err := m.RevokeSubject(ctx, "bob"); err != nil { // log out everywhere
		log.Fatal(err)
	}
	now = now.Add(time.Millisecond)
	newLogin := login("bob") // the same second: it still works
	whose("phone", phone)
	whose("tablet", tablet)
	whose("new login", newLogin)
	// Output:
	// stolen copy: "", cookiesession: session revoked: by its ID
	// phone: "", cookiesession: session revoked: with every session of its subject
	// tablet: "", cookiesession: session revoked: with every session of its subject
	// new login: "bob", <nil>
}

// The README's revocation setup: the in-memory store here; in a fleet,
// store, err := redisstore.New(rdb, redisstore.Options{}), from the
// redisstore module.
func ExampleRevocation() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	store := cookiesession.NewMemoryRevocationStore(nil)
	checkPassword := func(r *http.Request) (string, bool) { return r.FormValue("user"), true }
	// readme:begin
	m, err := cookiesession.New(kr, cookiesession.Config{
		Revocation: cookiesession.Revocation{Store: store, Bound: time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		userID, ok := checkPassword(r)
		if !ok {
			http.Error(w, "Wrong user or password.", http.StatusForbidden)
			return
		}
		s := cookiesession.FromContext(r.Context())
		s.Renew()            // a new ID for the login
		s.SetSubject(userID) // whose session it is: sealed in the cookie
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		// This cookie, and every copy of it, within the bound.
		if err := cookiesession.FromContext(r.Context()).Revoke(r.Context()); err != nil {
			log.Print(err) // the cookie is deleted all the same
		}
	})
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if s.Subject() == "" {
			http.Error(w, "Not logged in.", http.StatusForbidden)
			return
		}
		if err := m.RevokeSubject(r.Context(), s.Subject()); err != nil {
			http.Error(w, "Try again.", http.StatusServiceUnavailable)
			return
		}
		s.Destroy()
	})
	handler := m.Middleware(mux)
	// readme:end
	_ = handler
}
