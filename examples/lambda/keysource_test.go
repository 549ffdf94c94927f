package main

// The key source that README.md shows ("Keys from Secrets Manager, and
// rotation"), compiled and run against a stand-in for the AWS Parameters
// and Secrets Lambda Extension on loopback.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// readme:begin

// secretsManagerSource reads the keyring text from the secret secretID
// (its AWSCURRENT version) through the Parameters and Secrets extension.
func secretsManagerSource(secretID string) cookiesession.KeySource {
	port := cmp.Or(os.Getenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"), "2773")
	u := "http://localhost:" + port + "/secretsmanager/get?secretId=" + url.QueryEscape(secretID)
	return func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("X-Aws-Parameters-Secrets-Token", os.Getenv("AWS_SESSION_TOKEN"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("secrets extension: %s", resp.Status) // never the body
		}
		var out struct{ SecretString string }
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
			return "", errors.New("secrets extension: the answer is not a secret value")
		}
		return out.SecretString, nil
	}
}

// readme:end

// TestReadmeKeySource checks that README.md shows secretsManagerSource as
// this file has it, so that the README's code compiles and is the code
// these tests run.
func TestReadmeKeySource(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("keysource_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, region, _ := strings.Cut(string(self), "// readme:begin\n\n")
	region, _, _ = strings.Cut(region, "\n// readme:end")
	if !strings.Contains(string(readme), "```go\n"+region+"```\n") {
		t.Errorf("README.md has no Go block that is exactly the readme region of keysource_test.go:\n%s", region)
	}
}

// extension is a stand-in for the Parameters and Secrets extension: it
// serves one secret, and answers as the extension does.
type extension struct {
	token, secretID string

	mu     sync.Mutex
	secret string // SecretString
	status int    // 0: 200 with the secret
	gets   int
}

func (x *extension) set(secret string, status int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.secret, x.status = secret, status
}

func (x *extension) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.gets++
	switch {
	case r.Header.Get("X-Aws-Parameters-Secrets-Token") != x.token:
		http.Error(w, "missing or wrong token", http.StatusUnauthorized)
	case r.Method != http.MethodGet || r.URL.Path != "/secretsmanager/get" || r.URL.Query().Get("secretId") != x.secretID:
		http.Error(w, "no such secret", http.StatusBadRequest)
	case x.status != 0:
		http.Error(w, "the body names "+x.secret, x.status)
	default:
		json.NewEncoder(w).Encode(map[string]any{
			"ARN":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + x.secretID,
			"Name":          x.secretID,
			"SecretString":  x.secret,
			"VersionStages": []string{"AWSCURRENT"},
		})
	}
}

// startExtension serves x on a loopback port, and points the source at it
// through PARAMETERS_SECRETS_EXTENSION_HTTP_PORT.
func startExtension(t *testing.T, x *extension) {
	srv := httptest.NewServer(x) // 127.0.0.1
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", port)
	t.Setenv("AWS_SESSION_TOKEN", x.token)
}

func TestSecretsManagerSource(t *testing.T) {
	first, second := newKeyring(t), newKeyring(t)
	x := &extension{token: "session-token", secretID: "prod/cookiesession keys"}
	x.set(first.Marshal(), 0)
	startExtension(t, x)
	src := secretsManagerSource(x.secretID)
	ctx := t.Context()

	text, err := src(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if text != first.Marshal() {
		t.Fatal("the source did not return the secret's SecretString")
	}

	// An error status: an error that does not quote the body (which, from
	// a real extension, could hold anything).
	x.set(second.Marshal(), http.StatusForbidden)
	_, err = src(ctx)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a 403 gave %v, want an error naming the status", err)
	}
	if strings.Contains(err.Error(), second.Marshal()) {
		t.Fatal("the error quotes the answer's body")
	}

	// Without the token, the extension refuses: the source must send it.
	t.Setenv("AWS_SESSION_TOKEN", "another")
	x.set(first.Marshal(), 0)
	if _, err := src(ctx); err == nil {
		t.Fatal("a wrong token gave no error")
	}
}

// Keyring.Watch, polling the source, picks up a new secret version.
func TestSecretsManagerSourceWatch(t *testing.T) {
	first, second := newKeyring(t), newKeyring(t)
	x := &extension{token: "session-token", secretID: "cookiesession-keys"}
	x.set(first.Marshal(), 0)
	startExtension(t, x)
	src := secretsManagerSource(x.secretID)

	text, err := src(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- kr.Watch(ctx, src, cookiesession.WatchConfig{
			Interval:  10 * time.Millisecond,
			ErrorHook: func(err error) { t.Errorf("watch: %v", err) },
			OnChange:  func(*cookiesession.Keyring) { changed <- struct{}{} },
		})
	}()
	x.set(second.Marshal(), 0)
	<-changed // or the test's -timeout ends it
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v, want context.Canceled", err)
	}
	if kr.Primary() != second.Primary() {
		t.Fatalf("primary %v, want the new version's %v", kr.Primary(), second.Primary())
	}
}
