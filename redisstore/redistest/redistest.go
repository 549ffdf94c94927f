// Package redistest starts a throwaway redis-server for tests: on
// loopback, on a free port, with no persistence (--save ” --appendonly
// no), stopped when the test ends.
//
// When redis-server is not installed, [Start] skips the test with a
// message, unless the environment variable CI is "true": then it fails,
// so that a CI run cannot pass without the server. Debian and Ubuntu ship
// it as the package redis-server; Valkey's valkey-server works too when
// named by REDIS_SERVER.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	// Addr is its address, 127.0.0.1:port.
	Addr string
	bin  string
	dir  string
	port int
	args []string // more redis-server arguments
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// URL returns the server's address as a redis:// URL, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts a redis-server for t; it is stopped when t ends. The
// binary is $REDIS_SERVER, else redis-server from PATH.
func Start(t testing.TB) *Server { return start(t) }

func start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := os.Getenv("REDIS_SERVER")
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed (CI=true): %v; install it with apt-get install redis-server", err)
		}
		t.Skipf("redis-server is not installed, so the tests against a real Redis are skipped: install it (apt-get install redis-server) or name it in REDIS_SERVER")
	}
	s := &Server{bin: path, dir: t.TempDir(), args: args}
	var lastErr error
	for range 5 { // another process may take the free port first
		if s.port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		if lastErr = s.start(); lastErr == nil {
			s.Addr = "127.0.0.1:" + strconv.Itoa(s.port)
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redis-server did not start: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server on s.port and waits until it answers PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--logfile", ""}, s.args...)...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v\n%s", err, out)
		default:
		}
		if ping(addr) == nil {
			s.mu.Lock()
			s.cmd = cmd
			s.mu.Unlock()
			go func() { <-exited }() // already waited for
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	return fmt.Errorf("no PONG within 10 s\n%s", out)
}

// ping sends PING and reads the reply, in the protocol's inline form.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

// Stop kills the server, losing every key (it has no persistence). It may
// be called more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	// Wait until the port no longer answers.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ping(s.Addr) != nil {
			return
		}
	}
}

// Restart starts a stopped server again, empty, on the same port.
func (s *Server) Restart() error {
	var err error
	for range 50 { // the old socket may linger briefly
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// StartCluster starts n redis-servers (at least 3) in cluster mode, with no
// replicas, and joins them into one cluster with redis-cli --cluster
// create, which must be in PATH (Debian ships it with redis-server). It
// returns the servers once the cluster is ready.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	var servers []*Server
	var addrs []string
	for range n {
		s := start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		servers = append(servers, s)
		addrs = append(addrs, s.Addr)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli is not installed: %v", err)
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, s := range servers {
		host, port, _ := strings.Cut(s.Addr, ":")
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			info, _ := exec.Command(cli, "-h", host, "-p", port, "cluster", "info").Output()
			if strings.Contains(string(info), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: cluster not ready: %s", s.Addr, info)
			}
		}
	}
	return servers
}
