package cookiesession_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The code blocks of README.md are the regions between "readme:begin" and
// "readme:end" below; TestReadmeCodeBlocks checks that they agree, so every
// block in README compiles. Example_serverless runs; the others have no
// Output comment, so they are compiled but not run: they would wait for
// requests, read the environment or print random keys and times. The
// runnable examples in the other files check behaviour.

func Example_keygen() {
	// readme:begin
	k, err := cookiesession.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(kr.Marshal()) // store this as COOKIESESSION_KEYS
	// readme:end
}

func Example_quickStart() {
	addr := "localhost:8080"
	// readme:begin
	kr, err := cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := cookiesession.New(kr, cookiesession.Config{}) // zero fields: the defaults
	if err != nil {
		log.Fatal(err)
	}

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
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy() // state changes go through POST
		fmt.Fprint(w, "Logged out.")
	})
	// SameSite=Lax cookies still come with cross-site top-level navigations;
	// CrossOriginProtection (Go 1.25+) refuses cross-origin POSTs.
	csrf := http.NewCrossOriginProtection()
	log.Fatal(http.ListenAndServe(addr, csrf.Handler(m.Middleware(mux))))
	// readme:end
}

func Example_serverless() {
	m := exampleManager(cookiesession.Config{})
	handle := func(ctx context.Context, cookies []string) ([]string, error) {
		// readme:begin
		// cookies: the event's cookies array (API Gateway HTTP API, payload 2.0)
		s, err := m.LoadCookies(ctx, cookies)
		if err != nil {
			log.Print(err) // the cookie was rejected; s is a fresh session
		}
		if err := s.Set("user", "ada"); err != nil {
			return nil, err
		}
		setCookies, err := m.SetCookieHeaders(s) // the response's cookies array
		if err != nil {
			return nil, err // ErrTooLarge: over Config.MaxSize or MaxChunks
		}
		// readme:end
		return setCookies, nil
	}
	setCookies, err := handle(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	name, rest, _ := strings.Cut(setCookies[0], "=")
	_, attrs, _ := strings.Cut(rest, ";")
	fmt.Printf("%d cookie: %s=...;%s\n", len(setCookies), name, attrs)
	// Output: 1 cookie: __Host-session=...; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=1209600
}

func Example_codec() {
	kr, _ := cookiesession.ParseKeyring(exampleKeys)
	type Prefs struct{ Theme string }
	prefs := Prefs{Theme: "dark"}
	// readme:begin
	c, err := cookiesession.NewCodec(kr, nil) // nil: the default Options
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.Seal("prefs", prefs, time.Now().Add(30*24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	var got Prefs
	info, err := c.Open("prefs", v, &got) // ErrAuthFailed under any other name
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Theme, info.KeyID, info.ExpiresAt)
	// readme:end
}
