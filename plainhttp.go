package cookiesession

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
)

// ErrPlainHTTP means the middleware set Secure session cookies in answer to
// a request that came over plain HTTP, from a host other than localhost or
// a loopback address: browsers drop such cookies, so every session there is
// lost without a trace. Config.ErrorHook receives it once per process (see
// [Manager.Middleware]); the response goes out as usual.
//
// httptest.NewRequest makes exactly such a request (plain HTTP to
// example.com), so in an application's tests the first response that sets
// a cookie may report it: give test requests an https:// URL, or set
// Config.Insecure in tests that use plain HTTP on purpose.
var ErrPlainHTTP = errors.New("cookiesession: Secure cookies over plain HTTP")

// plainHTTPWarned is set once ErrPlainHTTP has been reported: it is
// reported once per process, whichever Manager sees it first.
var plainHTTPWarned atomic.Bool

// warnPlainHTTP reports ErrPlainHTTP to the hook if r came over plain HTTP
// from a host that browsers do not treat as secure, and the cookies m sets
// are Secure; once per process. It runs only when a response sets
// cookies, and checks the cheapest facts first, so that a request over
// TLS, and every request after the report, costs one or two loads.
func (m *Manager) warnPlainHTTP(r *http.Request) {
	if r.TLS != nil || plainHTTPWarned.Load() || !m.secure ||
		forwardedHTTPS(r.Header) || secureHost(r.Host) || plainHTTPWarned.Swap(true) {
		return
	}
	m.hook(r, fmt.Errorf("%w: the response sets Secure cookies, but the request came over plain HTTP "+
		"(no TLS, no X-Forwarded-Proto: https) to host %s, which is not localhost or a loopback address, "+
		"so browsers drop the cookies and every session is lost. Terminate TLS in front of the server "+
		"(a proxy that terminates it should send X-Forwarded-Proto: https), or, for plain-HTTP development "+
		"only, set Config.Insecure. Reported once per process", ErrPlainHTTP, quoteFew(r.Host)))
}

// forwardedHTTPS reports whether a proxy in front said that the client's
// request came over HTTPS: the first value of X-Forwarded-Proto is https.
func forwardedHTTPS(h http.Header) bool {
	v := h["X-Forwarded-Proto"]
	if len(v) == 0 {
		return false
	}
	first, _, _ := strings.Cut(v[0], ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// secureHost reports whether browsers accept Secure cookies from host over
// plain HTTP: localhost, a name under .localhost, or a loopback address,
// with or without a port. An empty host, which no browser sends, counts as
// secure too: there is no browser to lose the cookie.
func secureHost(host string) bool {
	if host == "" {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") ||
		len(host) > len(".localhost") && strings.EqualFold(host[len(host)-len(".localhost"):], ".localhost") {
		return true
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
