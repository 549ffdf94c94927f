package cookiesession

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cookie limits (SPEC.md §14).
const (
	// cookieSizeLimit is the most bytes one cookie may take, counting its
	// name, value and attributes: RFC 6265bis lets browsers drop larger
	// ones, and Chrome counts attributes toward it.
	cookieSizeLimit = 4096
	// maxAgeRoom is the length of the longest Max-Age attribute written.
	maxAgeRoom = len("; Max-Age=34560000")
	// maxCookieAge is the longest Max-Age, in seconds: 400 days, the cap
	// browsers apply.
	maxCookieAge = 400 * 24 * 60 * 60
	// maxChunksLimit is the largest Config.MaxChunks.
	maxChunksLimit = 10
	// maxNameLen is the longest Config.Name.
	maxNameLen = 256
	// maxAttrLen is the longest Path or Domain: RFC 6265bis lets browsers
	// ignore attribute values over 1024 bytes.
	maxAttrLen = 1024
	// maxCookiePairs: like net/http, a request with more cookies than
	// this is not read at all.
	maxCookiePairs = 3000
	// maxCandidates is how many cookies of one name (chunk index) are kept
	// as candidates; maxAttempts bounds the combinations opened.
	maxCandidates = 4
	maxAttempts   = 16
)

// cookieAttrs checks the cookie fields of cfg, with defaults applied, and
// returns the attribute string every session cookie carries, less Max-Age.
func cookieAttrs(cfg *Config) (string, error) {
	bad := func(format string, a ...any) (string, error) {
		return "", fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	if len(cfg.Name) > maxNameLen || !isToken(cfg.Name) {
		return bad("cookie Name %q is not a token of 1 to %d characters", cfg.Name, maxNameLen)
	}
	if len(cfg.Path) > maxAttrLen || !strings.HasPrefix(cfg.Path, "/") || !isAttrValue(cfg.Path) {
		return bad("cookie Path %q must start with / and hold no ';' or control characters", cfg.Path)
	}
	if cfg.Domain != "" && (len(cfg.Domain) > maxAttrLen || !isDomain(cfg.Domain)) {
		return bad("cookie Domain %q is not a host name", cfg.Domain)
	}
	var sameSite string
	switch cfg.SameSite {
	case http.SameSiteLaxMode:
		sameSite = "; SameSite=Lax"
	case http.SameSiteStrictMode:
		sameSite = "; SameSite=Strict"
	case http.SameSiteNoneMode:
		if cfg.Insecure {
			return bad("SameSite=None needs Secure, so it cannot be combined with Insecure")
		}
		sameSite = "; SameSite=None"
	case http.SameSiteDefaultMode:
	default:
		return bad("unknown SameSite %d", cfg.SameSite)
	}
	switch {
	case hasPrefixFold(cfg.Name, "__Host-") && (cfg.Insecure || cfg.Path != "/" || cfg.Domain != ""):
		return bad("a __Host- cookie needs Secure, Path / and no Domain")
	case hasPrefixFold(cfg.Name, "__Secure-") && cfg.Insecure:
		return bad("a __Secure- cookie needs Secure")
	case cfg.Partitioned && cfg.Insecure:
		return bad("a Partitioned cookie needs Secure")
	}

	var b strings.Builder
	b.WriteString("; Path=")
	b.WriteString(cfg.Path)
	if cfg.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(cfg.Domain)
	}
	if !cfg.AllowScriptAccess {
		b.WriteString("; HttpOnly")
	}
	if !cfg.Insecure {
		b.WriteString("; Secure")
	}
	b.WriteString(sameSite)
	if cfg.Partitioned {
		b.WriteString("; Partitioned")
	}
	if len(cfg.Name)+len(".10=")+b.Len()+maxAgeRoom > cookieSizeLimit/2 {
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

// countPrefix is the clear prefix of a chunked session's first cookie.
func countPrefix(n int) string { return strconv.Itoa(n) + "." }

// room is how many bytes of value cookie i can hold.
func (m *Manager) room(i int) int {
	return cookieSizeLimit - len(m.names[i]) - 1 - len(m.attrs) - maxAgeRoom
}

// plan returns how many cookies a sealed text of textLen characters needs,
// or ErrTooLarge if it is over Config.MaxSize or Config.MaxChunks.
func (m *Manager) plan(textLen int) (int, error) {
	if total := len(m.names[0]) + 1 + textLen; total > m.maxSize {
		return 0, fmt.Errorf("%w: session cookie of %d bytes is over MaxSize %d", ErrTooLarge, total, m.maxSize)
	}
	if textLen <= m.room(0) {
		return 1, nil
	}
	for n := 2; n <= m.maxChunks; n++ {
		capacity := -len(countPrefix(n))
		total := textLen + len(countPrefix(n))
		for i := range n {
			capacity += m.room(i)
			total += len(m.names[i]) + 1
		}
		if total > m.maxSize {
			return 0, fmt.Errorf("%w: %d session cookies of %d bytes in all are over MaxSize %d", ErrTooLarge, n, total, m.maxSize)
		}
		if textLen <= capacity {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: session of %d characters needs more than MaxChunks (%d) cookies", ErrTooLarge, textLen, m.maxChunks)
}

// appendLines appends the Set-Cookie lines that store text, split over the
// n cookies that plan chose, to lines.
func (m *Manager) appendLines(lines []string, text []byte, n int, maxAge int64) []string {
	for i := range n {
		take, prefix := m.room(i), ""
		if n > 1 && i == 0 {
			prefix = countPrefix(n)
			take -= len(prefix)
		}
		take = min(take, len(text))
		lines = append(lines, m.setCookie(i, prefix, text[:take], maxAge))
		text = text[take:]
	}
	return lines
}

// setCookie returns a Set-Cookie header value for chunk i holding prefix
// and value. A maxAge of -1 writes no Max-Age, for a browser-session
// cookie; 0 deletes the cookie.
func (m *Manager) setCookie(i int, prefix string, value []byte, maxAge int64) string {
	var b strings.Builder
	b.Grow(len(m.names[i]) + 1 + len(prefix) + len(value) + len(m.attrs) + maxAgeRoom)
	b.WriteString(m.names[i])
	b.WriteByte('=')
	b.WriteString(prefix)
	b.Write(value)
	b.WriteString(m.attrs)
	if maxAge >= 0 {
		var digits [20]byte
		b.WriteString("; Max-Age=")
		b.Write(strconv.AppendInt(digits[:0], maxAge, 10))
	}
	return b.String()
}

// save returns the Set-Cookie lines that store st at now, and deletes the
// chunks it no longer uses; on success, st counts as saved. A keptError
// comes with lines that are still to be sent.
func (m *Manager) save(st *state, now int64) ([]string, error) {
	var lines []string
	var kept error
	exp := m.sealExpiry(st, now)
	keep := st.used // chunk cookies in use after this save
	sealed := false
	switch {
	case len(st.values) == 0 || exp <= now:
		keep = 0
	case m.needsSeal(st, now):
		buf := getBuf()
		defer putBuf(buf)
		text, n, err := m.seal(buf, st, now, exp)
		if err != nil && !st.modified && errors.Is(err, ErrTooLarge) {
			// Only a renewal failed: the cookie as loaded stays valid.
			kept = keptError{err}
			break
		}
		if err != nil {
			return nil, err
		}
		maxAge := min(exp-now, maxCookieAge)
		if m.browser && !st.explicit {
			maxAge = -1
		}
		lines = m.appendLines(make([]string, 0, n), text, n, maxAge)
		keep, sealed = n, true
	}
	del := st.carried
	if st.destroyed {
		del |= 1<<m.maxChunks - 1
	}
	for i := keep; i < maxChunksLimit; i++ {
		if del&(1<<i) != 0 {
			lines = append(lines, m.setCookie(i, "", nil, 0))
		}
	}
	lines = m.appendLegacyDeletes(lines, st)
	if sealed {
		st.issued, st.expires, st.oldKey = now, exp, false
	}
	st.used, st.carried = keep, 1<<keep-1
	st.modified, st.destroyed = false, false
	return lines, kept
}

// keptError reports that an unmodified session could not be sealed again
// (for idle renewal, key rotation or SaveEveryRequest) because it no longer
// fits the budget. Its cookie stays as it was, and stays valid.
type keptError struct{ err error }

func (e keptError) Error() string {
	return "cookiesession: session not renewed, its cookie is kept: " + e.err.Error()
}

func (e keptError) Unwrap() error { return e.err }

// seal seals st's payload at now, to expire at exp, into *buf, and returns the text
// and the number of cookies it takes. The text is valid until *buf goes
// back to the pool.
func (m *Manager) seal(buf *[]byte, st *state, now, exp int64) ([]byte, int, error) {
	pbuf := getBuf()
	defer putBuf(pbuf)
	payload, err := st.appendPayload((*pbuf)[:0], m.zmin, m.codec.max)
	*pbuf = payload
	if err != nil {
		return nil, 0, err
	}
	text, chunks, err := m.codec.appendSeal((*buf)[:0], m.names[0], kindSession, payload, time.Unix(now, 0), time.Unix(exp, 0), m.plan)
	*buf = text
	if err != nil {
		return nil, 0, err
	}
	return text, max(chunks, 1), nil
}

// jar holds the session cookies a request carried: up to maxCandidates
// values for each chunk index, in the order the request sent them.
type jar struct {
	vals    [maxChunksLimit][maxCandidates]string
	n       [maxChunksLimit]int
	carried uint32 // bit i: chunk i was present
	pairs   int
}

// scan adds the session cookies among the cookie pairs of one Cookie header
// line (or one element of a cookie list) to j.
func (m *Manager) scan(j *jar, line string) {
	for line != "" && j.pairs <= maxCookiePairs {
		var pair string
		pair, line, _ = strings.Cut(line, ";")
		name, value, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		j.pairs++
		i := m.chunkIndex(strings.Trim(name, " \t"))
		if i < 0 {
			continue
		}
		value = strings.Trim(value, " \t")
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		j.carried |= 1 << i
		if j.n[i] < maxCandidates {
			j.vals[i][j.n[i]] = value
			j.n[i]++
		}
	}
}

// chunkIndex returns i if name is the name of chunk i, or -1. Only exact
// names count: Name, and Name.i for i from 1 to 9 in decimal without
// leading zeros. Indices from MaxChunks up are never read, but are deleted
// like other stale chunks, in case MaxChunks was lowered.
func (m *Manager) chunkIndex(name string) int {
	rest, ok := strings.CutPrefix(name, m.names[0])
	switch {
	case !ok:
		return -1
	case rest == "":
		return 0
	case len(rest) < 2 || len(rest) > 3 || rest[0] != '.' || rest[1] == '0':
		return -1
	}
	i, err := strconv.Atoi(rest[1:])
	if err != nil || i < 1 || i >= maxChunksLimit || strconv.Itoa(i) != rest[1:] {
		return -1
	}
	return i
}

// parseCount splits a first cookie value into its chunk count and text. A
// value without a count prefix is a whole sealed value: count 1.
func parseCount(v string) (int, string, error) {
	digits, text, ok := strings.Cut(v, ".")
	if !ok {
		return 1, v, nil
	}
	n, err := strconv.Atoi(digits)
	if err != nil || len(digits) > 2 || digits[0] == '0' || n < 2 || strconv.Itoa(n) != digits {
		return 0, "", fmt.Errorf("%w: bad chunk count %q", ErrMalformed, digits)
	}
	return n, text, nil
}
