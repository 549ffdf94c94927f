package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cookiesession/cookiesession"
)

// writeKeys replaces the file at path with text by rename, as kubelet and
// "cookiesession rotate -o" do.
func writeKeys(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	a, b := newKeyring(t), newKeyring(t)
	writeKeys(t, path, "# demo keys\n"+a.Marshal()+"\n")
	synctest.Test(t, func(t *testing.T) {
		log := captureLog(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		kr, err := keyring(ctx, "", path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if kr.Primary() != a.Primary() {
			t.Fatalf("primary %v, want %v", kr.Primary(), a.Primary())
		}
		// advance moves the bubble's fake clock on and lets the watcher run.
		advance := func(d time.Duration) {
			<-time.After(d)
			synctest.Wait()
		}

		// Staged rotation, step 1: b is added as decrypt-only.
		kb := b.Keys()[0].ID
		next, err := cookiesession.ParseKeyring(a.Marshal() + "," + strings.Replace(b.Marshal(), "primary", "decrypt-only", 1))
		if err != nil {
			t.Fatal(err)
		}
		writeKeys(t, path, next.Marshal())
		advance(time.Second)
		if got := kr.String(); got != next.String() {
			t.Fatalf("after a poll: %v, want %v", got, next)
		}
		// A broken file leaves the keys as they were.
		writeKeys(t, path, "csk1:broken")
		advance(time.Second)
		if got := kr.String(); got != next.String() || !strings.Contains(log.String(), "keeping the keys in use") {
			t.Fatalf("after a broken file: %v; log %q", got, log)
		}
		// Step 2: b is promoted.
		if err := next.Promote(kb); err != nil {
			t.Fatal(err)
		}
		writeKeys(t, path, next.Marshal())
		advance(time.Second)
		if kr.Primary() != kb {
			t.Fatalf("primary %v after the promotion, want %v", kr.Primary(), kb)
		}
	})
}

// -keys-file wins over COOKIESESSION_KEYS_FILE, which is used without it.
func TestKeysFileSetting(t *testing.T) {
	saved := *keysFile
	t.Cleanup(func() { *keysFile = saved })
	tests := []struct{ flag, env, want string }{
		{"", "", ""},
		{"", "/run/secrets/env-keys", "/run/secrets/env-keys"},
		{"/etc/keys", "", "/etc/keys"},
		{"/etc/keys", "/run/secrets/env-keys", "/etc/keys"},
	}
	for _, tt := range tests {
		*keysFile = tt.flag
		t.Setenv("COOKIESESSION_KEYS_FILE", tt.env)
		if got := keysFileSetting(); got != tt.want {
			t.Errorf("-keys-file %q, COOKIESESSION_KEYS_FILE %q: %q, want %q", tt.flag, tt.env, got, tt.want)
		}
	}
}

func TestKeyringSettings(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	kr := newKeyring(t)
	text := kr.Marshal()
	writeKeys(t, good, text)
	secret := text[strings.LastIndexByte(text, ':')+1:]
	writeKeys(t, bad, strings.Replace(text, "primary", "decrypt-only", 1))
	tests := []struct {
		name, keys, file string
		poll             time.Duration
		want             string
	}{
		{"both", text, good, time.Second, "not both"},
		{"no poll", "", good, 0, "-keys-poll 0s"},
		{"missing file", "", filepath.Join(dir, "none"), time.Second, "no such file"},
		{"bad file", "", bad, time.Second, bad + ": cookiesession: invalid keyring"},
		{"bad variable", "csk1:" + secret, "", time.Second, "COOKIESESSION_KEYS: entry 1: cookiesession: invalid keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyring(t.Context(), tt.keys, tt.file, tt.poll)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), secret) {
				t.Fatalf("got %v, want an error with %q and no key material", err, tt.want)
			}
		})
	}
	// Neither: the throwaway key.
	log := captureLog(t)
	if kr, err := keyring(t.Context(), "", "", time.Second); err != nil || kr.Primary() == 0 || !strings.Contains(log.String(), "throwaway") {
		t.Fatalf("no keys configured: %v, %v, log %q", kr, err, log)
	}
}

func TestDebugKeys(t *testing.T) {
	a, b := newKeyring(t), newKeyring(t)
	promote := time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC)
	kr, err := cookiesession.ParseKeyring(a.Marshal() + "," + strings.Replace(b.Marshal(), "primary", "decrypt-only", 1) +
		":primary-from=" + promote.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	kr.SetClock(c.Now)
	cfg := config(false)
	cfg.Now = c.Now
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	app, debug := newHandler(m), debugHandler(kr)
	get := func(path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		h := app
		if strings.HasPrefix(path, "/debug/") {
			h = debug
		}
		r := httptest.NewRequest("GET", path, nil)
		for _, ck := range cookies {
			r.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	first := get("/visits").Result().Cookies()
	c.Add(time.Minute)
	get("/visits", first...)

	ka, kb := a.Primary(), b.Primary()
	w := get("/debug/keys")
	want := ka.String() + " primary opens=1 seals=2 last-open=2030-01-02T03:05:05Z last-use=2030-01-02T03:05:05Z\n" +
		kb.String() + " decrypt-only opens=0 seals=0 last-open=never last-use=never primary-from=2030-01-02T04:00:00Z\n"
	if w.Code != 200 || w.Body.String() != want || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("/debug/keys: %d %q, Set-Cookie %q; want\n%s", w.Code, w.Body, w.Header().Get("Set-Cookie"), want)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

	// At the scheduled time the new key takes over, and the session moves.
	c.Add(time.Hour)
	get("/visits", first...)
	want = ka.String() + " decrypt-only opens=2 seals=2 last-open=2030-01-02T04:05:05Z last-use=2030-01-02T04:05:05Z\n" +
		kb.String() + " primary opens=0 seals=1 last-open=never last-use=2030-01-02T04:05:05Z primary-from=2030-01-02T04:00:00Z\n"
	if got := get("/debug/keys").Body.String(); got != want {
		t.Fatalf("/debug/keys after the promotion:\n%s\nwant\n%s", got, want)
	}

	var vars struct {
		Keys map[string]keyVar `json:"cookiesession_keys"`
	}
	if err := json.NewDecoder(get("/debug/vars").Body).Decode(&vars); err != nil {
		t.Fatal(err)
	}
	if got := vars.Keys[kb.String()]; got != (keyVar{"primary", 0, 1, 0, promote.Add(5*time.Minute + 5*time.Second).Unix()}) {
		t.Fatalf("expvar for %v: %+v", kb, got)
	}
}
