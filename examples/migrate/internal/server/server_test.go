package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

func TestConfig(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	all := map[string]string{
		"GORILLA_HASH_KEY":  b64([]byte("gorilla hash key: 32 bytes long!")),
		"GORILLA_BLOCK_KEY": b64([]byte("gorilla block key, AES-256 key!!")),
		"DJANGO_SECRET_KEY": "django secret",
		"JWT_SECRET":        "jwt secret",
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		cookies []string // legacy cookie names configured
		fails   bool
	}{
		{"all three", all, []string{"session", "sessionid", "jwt"}, false},
		{"none", map[string]string{}, nil, false},
		{"django alone", map[string]string{"DJANGO_SECRET_KEY": "x"}, []string{"sessionid"}, false},
		{"gorilla without block key", map[string]string{"GORILLA_HASH_KEY": "aGFzaA"}, []string{"session"}, false},
		{"block key alone", map[string]string{"GORILLA_BLOCK_KEY": "aGFzaA=="}, nil, true},
		{"block key not an AES key", map[string]string{"GORILLA_HASH_KEY": "aGFzaA", "GORILLA_BLOCK_KEY": "aGFzaA=="}, nil, true},
		{"hash key not base64", map[string]string{"GORILLA_HASH_KEY": "not base64!"}, nil, true},
		{"bad keyring", map[string]string{"COOKIESESSION_KEYS": "nonsense"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, cfg, err := Config(func(k string) string { return tc.env[k] }, nil)
			if tc.fails {
				if err == nil {
					t.Error("Config accepted it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range cfg.Migration.Cookies {
				names = append(names, c.Name)
			}
			if diff := cmp.Diff(tc.cookies, names); diff != "" {
				t.Errorf("legacy cookies (-want +got):\n%s", diff)
			}
			if _, err := cookiesession.New(kr, cfg); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

// TestRunSecure: the server's cookies are Secure on a loopback address
// too, unless -insecure (Run's insecure) asks otherwise (issue 19: the
// example used to drop Secure on any loopback address).
func TestRunSecure(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		t.Run(fmt.Sprintf("insecure %v", insecure), func(t *testing.T) {
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- Run(ctx, "127.0.0.1:0", insecure, func(string) string { return "" }, pw) }()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			url := strings.TrimPrefix(strings.TrimSpace(line), "listening on ")
			resp, err := http.Get(url + "visits")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			cookies := resp.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("Set-Cookie %q, want one cookie", resp.Header.Values("Set-Cookie"))
			}
			if c := cookies[0]; c.Secure == insecure {
				t.Errorf("insecure %v: Set-Cookie %q has Secure %v", insecure, resp.Header.Values("Set-Cookie"), c.Secure)
			}
		})
	}
}
