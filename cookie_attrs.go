package cookiesession

import (
	"fmt"
	"net/http"
	"strings"
)

// The session cookies' attributes (SPEC.md §14): Config's cookie fields,
// checked once in the constructor and turned into the attribute string
// every session cookie carries.

// cookieSpec is what a cookieLayout is made from: the cookie fields of a
// Config, with defaults applied.
type cookieSpec struct {
	name, path, domain   string
	sameSite             http.SameSite
	insecure, noHTTPOnly bool
	partitioned          bool
	maxChunks, maxSize   int
}

// attrs checks the cookie fields and returns the attribute string every
// session cookie carries, less Max-Age.
func (cfg *cookieSpec) attrs() (string, error) {
	bad := func(format string, a ...any) (string, error) {
		return "", fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	switch {
	case cfg.maxChunks < 1 || cfg.maxChunks > maxChunksLimit:
		return bad("MaxChunks %d is outside 1..%d", cfg.maxChunks, maxChunksLimit)
	case cfg.maxSize < minMaxSize:
		return bad("MaxSize %d is under %d", cfg.maxSize, minMaxSize)
	}
	if len(cfg.name) > maxNameLen || !isToken(cfg.name) {
		return bad("cookie Name %q is not a token of 1 to %d characters", cfg.name, maxNameLen)
	}
	if !validPath(cfg.path) {
		return bad("cookie Path %q must start with / and hold no ';' or control characters", cfg.path)
	}
	if !validDomain(cfg.domain) {
		return bad("cookie Domain %q is not a host name", cfg.domain)
	}
	var sameSite string
	switch cfg.sameSite {
	case http.SameSiteLaxMode:
		sameSite = "; SameSite=Lax"
	case http.SameSiteStrictMode:
		sameSite = "; SameSite=Strict"
	case http.SameSiteNoneMode:
		if cfg.insecure {
			return bad("SameSite=None needs Secure, so it cannot be combined with Insecure")
		}
		sameSite = "; SameSite=None"
	case http.SameSiteDefaultMode:
	default:
		return bad("unknown SameSite %d", cfg.sameSite)
	}
	switch {
	case hasPrefixFold(cfg.name, "__Host-") && (cfg.insecure || cfg.path != "/" || cfg.domain != ""):
		return bad("a __Host- cookie needs Secure, Path / and no Domain")
	case hasPrefixFold(cfg.name, "__Secure-") && cfg.insecure:
		return bad("a __Secure- cookie needs Secure")
	case cfg.partitioned && cfg.insecure:
		return bad("a Partitioned cookie needs Secure")
	}

	var b strings.Builder
	b.WriteString("; Path=")
	b.WriteString(cfg.path)
	if cfg.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(cfg.domain)
	}
	if !cfg.noHTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if !cfg.insecure {
		b.WriteString("; Secure")
	}
	b.WriteString(sameSite)
	if cfg.partitioned {
		b.WriteString("; Partitioned")
	}
	if len(cfg.name)+len(".10=")+b.Len()+maxAgeRoom > cookieSizeLimit/2 {
		return bad("cookie Name and attributes leave less than half of a %d-byte cookie for the value", cookieSizeLimit)
	}
	return b.String(), nil
}

// hasPrefixFold is strings.HasPrefix without regard to ASCII case, as
// browsers match the __Host- and __Secure- prefixes.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isToken reports whether s is an HTTP token (RFC 9110), as cookie names are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validPath reports whether p can be a cookie's Path attribute.
func validPath(p string) bool {
	return len(p) <= maxAttrLen && strings.HasPrefix(p, "/") && isAttrValue(p)
}

// validDomain reports whether d can be a cookie's Domain attribute; ""
// (a host-only cookie) can.
func validDomain(d string) bool {
	return d == "" || len(d) <= maxAttrLen && isDomain(d)
}

func isAttrValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == ';' {
			return false
		}
	}
	return true
}

func isDomain(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
