package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// startProcess runs the demo as a process, as `go run ./examples/demo`
// does, with args, and returns the URL it listens on and the URL of its
// debug listener, if it logged one. The process ends with the test.
func startProcess(t *testing.T, args ...string) (app, debug string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COOKIESESSION_KEYS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DEMO_TEST_RUN_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The debug listener's URL is logged before the listening line.
	logged := make(chan string, 1)
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		debugURL := regexp.MustCompile(`debug endpoints.* url=(http://\S+/)`)
		sent := false
		for sc.Scan() {
			if m := debugURL.FindStringSubmatch(sc.Text()); m != nil && !sent {
				logged <- m[1]
				sent = true
			}
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	app, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	if slices.Contains(args, "-debug-addr") {
		if debug = <-logged; debug == "" {
			t.Fatal("no debug listener logged")
		}
	}
	return app, debug
}

// fetch GETs url and returns its status and body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDebugNotPublic: the application's listener does not serve
// /debug/keys or /debug/vars (expvar: the command line, memory statistics,
// the key schedule), with or without -debug-addr (issue 19, examples).
func TestDebugNotPublic(t *testing.T) {
	app, _ := startProcess(t, "-addr", "127.0.0.1:0")
	for _, path := range []string{"debug/keys", "debug/vars"} {
		if status, body := fetch(t, app+path); status != http.StatusNotFound {
			t.Errorf("GET /%s on the application's listener: %d %.80q, want 404", path, status, body)
		}
	}
}

// TestDebugListener: with -debug-addr, a listener of its own serves
// /debug/keys and /debug/vars, and nothing of the application.
func TestDebugListener(t *testing.T) {
	app, debug := startProcess(t, "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0")
	if app == debug {
		t.Fatalf("one listener for both: %s", app)
	}
	if status, body := fetch(t, debug+"debug/keys"); status != http.StatusOK || !strings.Contains(body, " primary opens=") {
		t.Errorf("GET /debug/keys on the debug listener: %d %q", status, body)
	}
	status, body := fetch(t, debug+"debug/vars")
	var vars map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &vars); status != http.StatusOK || err != nil || vars["cookiesession_keys"] == nil {
		t.Errorf("GET /debug/vars on the debug listener: %d, %v, keys %s", status, err, vars["cookiesession_keys"])
	}
	for _, path := range []string{"visits", ""} {
		if status, _ := fetch(t, debug+path); status != http.StatusNotFound {
			t.Errorf("GET /%s on the debug listener: %d, want 404", path, status)
		}
	}
	for _, path := range []string{"debug/keys", "debug/vars"} {
		if status, _ := fetch(t, app+path); status != http.StatusNotFound {
			t.Errorf("GET /%s on the application's listener: %d, want 404", path, status)
		}
	}
	if status, body := fetch(t, app+"visits"); status != http.StatusOK || body != "You have visited this page 1 times.\n" {
		t.Errorf("GET /visits: %d %q", status, body)
	}
}
