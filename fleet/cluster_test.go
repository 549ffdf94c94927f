package fleet

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// build compiles a package of the root module into dir and returns the
// executable's path.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command(goCmd, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// keyDir is a directory laid out as the kubelet lays out a Secret volume:
// "keys" links to "..data/keys", and "..data" links to a timestamped
// directory that holds the file.
type keyDir struct {
	dir string
	n   int
}

// path is the file the instance watches.
func (k *keyDir) path() string { return filepath.Join(k.dir, "keys") }

// write replaces the keyring as the kubelet does: the new file goes into a
// new directory, a new "..data" link is renamed over the old one, and the
// old directory is removed.
func (k *keyDir) write(t *testing.T, text string) {
	t.Helper()
	k.n++
	ts := fmt.Sprintf("..2026_11_30_12_00_00.%09d", k.n)
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(os.Mkdir(filepath.Join(k.dir, ts), 0o755))
	check(os.WriteFile(filepath.Join(k.dir, ts, "keys"), []byte(text), 0o600))
	old, _ := os.Readlink(filepath.Join(k.dir, "..data"))
	tmp := filepath.Join(k.dir, "..data_tmp")
	check(os.Symlink(ts, tmp))
	check(os.Rename(tmp, filepath.Join(k.dir, "..data")))
	if _, err := os.Lstat(k.path()); err != nil {
		check(os.Symlink(filepath.Join("..data", "keys"), k.path()))
	}
	if old != "" {
		check(os.RemoveAll(filepath.Join(k.dir, old)))
	}
}

// capped keeps the first max bytes written to it, for the instances' logs.
type capped struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}

// instance is one demo process.
type instance struct {
	name  string
	url   *url.URL // the application
	debug *url.URL // -debug-addr: /debug/keys
	keys  *keyDir
	log   *capped
}

// pollInterval is the instances' -keys-poll.
const pollInterval = 250 * time.Millisecond

// startInstance runs the demo with its own key directory, holding text, on
// a loopback port, with the extra flags given.
func startInstance(t *testing.T, demo, name, text string, extra ...string) *instance {
	t.Helper()
	in := &instance{name: name, keys: &keyDir{dir: t.TempDir()}, log: &capped{max: 1 << 20}}
	in.keys.write(t, text)
	cmd := exec.Command(demo, append([]string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0",
		"-keys-file", in.keys.path(), "-keys-poll", pollInterval.String()}, extra...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COOKIESESSION_") { // keys, Redis URL
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The debug listener's URL is logged before the listening line; the
	// rest of the log goes on to in.log.
	logs := bufio.NewReader(stderr)
	debugRE := regexp.MustCompile(`debug endpoints.* url=(http://127\.0\.0\.1:[0-9]+/)`)
	for in.debug == nil {
		l, err := logs.ReadString('\n')
		in.log.Write([]byte(l))
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: no debug listener logged: %v\n%s", name, err, in.log)
		}
		if m := debugRE.FindStringSubmatch(l); m != nil {
			in.debug, _ = url.Parse(m[1])
		}
	}
	go io.Copy(in.log, logs)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, in.log)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: reading its first line: %v\n%s", name, err, in.log)
	}
	m := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%s: first line %q", name, line)
	}
	in.url, _ = url.Parse(m[1])
	return in
}

// keyLine is one line of GET /debug/keys.
type keyLine struct {
	state        string
	opens, seals uint64
}

var keyLineRE = regexp.MustCompile(`^([0-9a-f]{8}) (\S+) opens=([0-9]+) seals=([0-9]+) `)

// debugKeys reads the instance's GET /debug/keys, on its debug listener.
func (in *instance) debugKeys(t *testing.T) map[string]keyLine {
	t.Helper()
	resp, err := http.Get(in.debug.JoinPath("debug/keys").String())
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: /debug/keys: %d %v", in.name, resp.StatusCode, err)
	}
	out := map[string]keyLine{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m := keyLineRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s: /debug/keys line %q", in.name, l)
		}
		opens, _ := strconv.ParseUint(m[3], 10, 64)
		seals, _ := strconv.ParseUint(m[4], 10, 64)
		out[m[1]] = keyLine{m[2], opens, seals}
	}
	return out
}

// proxy is a round-robin reverse proxy over the instances, on loopback.
type proxy struct {
	srv      *httptest.Server
	backends []*instance
	next     atomic.Uint64
}

func startProxy(t *testing.T, backends []*instance) *proxy {
	p := &proxy{backends: backends}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			in := p.backends[p.next.Add(1)%uint64(len(p.backends))]
			r.SetURL(in.url)
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 128},
		// The client sees a 502 and counts it; requests that the test
		// cancels at its end need no log line.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewServer(rp) // 127.0.0.1
	t.Cleanup(p.srv.Close)
	return p
}

// waitFor polls cond every 50 ms until it holds, or fails after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		<-tick.C
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
