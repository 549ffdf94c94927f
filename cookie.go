package cookiesession

import (
	"fmt"
	"strconv"
	"strings"
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
	// maxCookiePairs: like net/http, a request whose Cookie lines hold
	// more ";"-separated pieces than this (empty ones and ones without "="
	// included) is not read at all, and its lines are scanned no further.
	maxCookiePairs = 3000
	// maxCandidates is how many cookies of one name (chunk index) are kept
	// as candidates; maxAttempts bounds the combinations opened.
	maxCandidates = 4
	maxAttempts   = 16
)

// cookieLayout is the cookie layer: the session cookies' names and
// attributes, how a sealed text is split over them, and the size budgets.
// It knows nothing of sessions or sealing; the Manager holds one.
type cookieLayout struct {
	names     []string // chunk cookie names: Name, Name.1, ... up to maxChunksLimit
	attrs     string   // attributes after the value, less Max-Age
	secure    bool     // attrs has Secure
	maxChunks int
	maxSize   int
	devName   string // the device cookie's name (dbsc.go); "": binding off
}

// newCookieLayout checks spec and returns its layout. Errors wrap
// ErrInvalidConfig.
func newCookieLayout(spec cookieSpec) (cookieLayout, error) {
	attrs, err := spec.attrs()
	if err != nil {
		return cookieLayout{}, err
	}
	l := cookieLayout{attrs: attrs, secure: !spec.insecure, maxChunks: spec.maxChunks, maxSize: spec.maxSize}
	// Names up to the hard limit, so that chunks left by a larger MaxChunks
	// are still recognized and deleted.
	for i := range maxChunksLimit {
		name := spec.name
		if i > 0 {
			name = spec.name + "." + strconv.Itoa(i)
		}
		l.names = append(l.names, name)
	}
	return l, nil
}

// countPrefix is the clear prefix of a chunked session's first cookie.
func countPrefix(n int) string { return strconv.Itoa(n) + "." }

// room is how many bytes of value cookie i can hold.
func (l *cookieLayout) room(i int) int {
	return cookieSizeLimit - len(l.names[i]) - 1 - len(l.attrs) - maxAgeRoom
}

// plan returns how many cookies a sealed text of textLen characters needs,
// or ErrTooLarge if it is over Config.MaxSize or Config.MaxChunks.
func (l *cookieLayout) plan(textLen int) (int, error) {
	if total := len(l.names[0]) + 1 + textLen; total > l.maxSize {
		return 0, fmt.Errorf("%w: session cookie of %d bytes is over MaxSize %d", ErrTooLarge, total, l.maxSize)
	}
	if textLen <= l.room(0) {
		return 1, nil
	}
	for n := 2; n <= l.maxChunks; n++ {
		capacity := -len(countPrefix(n))
		total := textLen + len(countPrefix(n))
		for i := range n {
			capacity += l.room(i)
			total += len(l.names[i]) + 1
		}
		if total > l.maxSize {
			return 0, fmt.Errorf("%w: %d session cookies of %d bytes in all are over MaxSize %d", ErrTooLarge, n, total, l.maxSize)
		}
		if textLen <= capacity {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: session of %d characters needs more than MaxChunks (%d) cookies", ErrTooLarge, textLen, l.maxChunks)
}

// appendLines appends the Set-Cookie lines that store text, split over the
// n cookies that plan chose, to lines.
func (l *cookieLayout) appendLines(lines []string, text []byte, n int, maxAge int64) []string {
	for i := range n {
		take, prefix := l.room(i), ""
		if n > 1 && i == 0 {
			prefix = countPrefix(n)
			take -= len(prefix)
		}
		take = min(take, len(text))
		lines = append(lines, l.setCookie(i, prefix, text[:take], maxAge))
		text = text[take:]
	}
	return lines
}

// setCookie returns a Set-Cookie header value for chunk i holding prefix
// and value. A maxAge of -1 writes no Max-Age, for a browser-session
// cookie; 0 deletes the cookie.
func (l *cookieLayout) setCookie(i int, prefix string, value []byte, maxAge int64) string {
	var b strings.Builder
	b.Grow(len(l.names[i]) + 1 + len(prefix) + len(value) + len(l.attrs) + maxAgeRoom)
	b.WriteString(l.names[i])
	b.WriteByte('=')
	b.WriteString(prefix)
	b.Write(value)
	b.WriteString(l.attrs)
	if maxAge >= 0 {
		var digits [20]byte
		b.WriteString("; Max-Age=")
		b.Write(strconv.AppendInt(digits[:0], maxAge, 10))
	}
	return b.String()
}

// jar holds the session cookies a request carried: up to maxCandidates
// values for each chunk index, in the order the request sent them, less
// the values that cannot be a chunk (see chunkValue).
type jar struct {
	vals    [maxChunksLimit][maxCandidates]string
	n       [maxChunksLimit]int
	carried uint32 // bit i: chunk i was present, with a value kept or not
	pairs   int    // the ";"-separated pieces seen, as net/http counts them
	// dropped is why the first value of chunk 0 that was not kept was
	// dropped: ErrTooLarge or ErrMalformed; nil if none was.
	dropped error
	// legacy names other cookies to look for in the same pass (a
	// Migration's legacy cookies); bit i of legacyBits: legacy[i] was present.
	legacy     []string
	legacyBits uint32
	// dev holds the device cookies (dbsc.go) among the pairs, up to
	// maxCandidates; ndev counts every one seen.
	dev  [maxCandidates]string
	ndev int
	// devOptional: a bound session loads without a valid device cookie
	// (the registration and refresh endpoints).
	devOptional bool
}

// scan adds the session cookies among the cookie pairs of one Cookie header
// line (or one element of a cookie list) to j. Every ";"-separated piece
// counts toward maxCookiePairs, so a line counts one more than its ";"s,
// as in net/http; scanning stops once the count is over the limit, so a
// header of a million ";" costs no more than one of 3001.
func (l *cookieLayout) scan(j *jar, line string) {
	for j.pairs <= maxCookiePairs {
		pair, rest, more := strings.Cut(line, ";")
		j.pairs++
		if name, value, ok := strings.Cut(pair, "="); ok {
			l.scanPair(j, name, value)
		}
		if !more {
			return
		}
		line = rest
	}
}

// scanPair adds one cookie to j if it is a session cookie.
func (l *cookieLayout) scanPair(j *jar, name, value string) {
	name = strings.Trim(name, " \t")
	i := l.chunkIndex(name)
	if i < 0 && name == l.devName && l.devName != "" {
		// The device cookie of Config.DeviceBinding (dbsc.go).
		if j.ndev < maxCandidates {
			j.dev[j.ndev] = strings.Trim(value, " \t")
		}
		j.ndev++
		return
	}
	if i < 0 {
		for k, n := range j.legacy {
			if n == name {
				j.legacyBits |= 1 << k
			}
		}
		return
	}
	value = strings.Trim(value, " \t")
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	j.carried |= 1 << i
	switch {
	case j.n[i] >= maxCandidates:
	case len(name)+1+len(value) > l.maxSize:
		if i == 0 && j.dropped == nil {
			j.dropped = errOverBudget
		}
	case !chunkValue(value, i):
		if i == 0 && j.dropped == nil {
			j.dropped = ErrMalformed
		}
	default:
		j.vals[i][j.n[i]] = value
		j.n[i]++
	}
}

// chunkValue reports whether value has the syntax of the value of chunk i
// (SPEC.md §14.2, step 2): base64url characters, at least one, after a
// count prefix of decimal digits and "." in chunk 0.
func chunkValue(value string, i int) bool {
	if i == 0 {
		if d := strings.IndexByte(value, '.'); d > 0 {
			for k := range d {
				if c := value[k]; c < '0' || c > '9' {
					return false
				}
			}
			value = value[d+1:]
		}
	}
	if value == "" {
		return false
	}
	for k := 0; k < len(value); k++ {
		if !isBase64URL[value[k]] {
			return false
		}
	}
	return true
}

// isBase64URL: the characters of the base64url alphabet (RFC 4648 §5).
var isBase64URL = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// errOverBudget wraps ErrTooLarge for session cookies longer than this
// instance's MaxSize lets a writer make. Another instance, with a larger
// MaxSize, may have written them (a rollout, or its rollback), so such a
// cookie is not deleted unless a new session takes its place (see save).
var errOverBudget = fmt.Errorf("%w for this instance's MaxSize", ErrTooLarge)

// checkJoined returns errOverBudget if the chunks of a session of n cookies,
// joined, make a text of size characters that no writer under this layout
// produces: it would be over MaxSize once the cookie names, the "="s and
// the count prefix are added (SPEC.md §14.1, Budget). It runs before the
// parts are joined and before any AEAD open, so a hostile header of many
// long candidates costs each attempt a sum of lengths, not an open of the
// longest text MaxPayloadSize allows.
func (l *cookieLayout) checkJoined(n, size int) error {
	room := l.maxSize
	if n > 1 {
		room -= len(countPrefix(n))
	}
	for i := range n {
		room -= len(l.names[i]) + 1
	}
	if size > room {
		return fmt.Errorf("%w: %d session cookies hold %d characters, over the %d that MaxSize %d leaves", errOverBudget, n, size, max(room, 0), l.maxSize)
	}
	return nil
}

// chunkIndex returns i if name is the name of chunk i, or -1. Only exact
// names count: Name, and Name.i for i from 1 to 9 in decimal without
// leading zeros. Indices from MaxChunks up are never read, but are deleted
// like other stale chunks, in case MaxChunks was lowered.
func (l *cookieLayout) chunkIndex(name string) int {
	rest, ok := strings.CutPrefix(name, l.names[0])
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

// quoteMax is the most bytes of attacker input an error quotes.
const quoteMax = 16

// quoteFew quotes at most the first quoteMax bytes of s, which comes from a
// request, and says how long s was if that cut it: an error that echoes
// attacker input must stay small, since it may be logged.
func quoteFew(s string) string {
	if len(s) <= quoteMax {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:quoteMax]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
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
		return 0, "", fmt.Errorf("%w: bad chunk count %s", ErrMalformed, quoteFew(digits))
	}
	return n, text, nil
}
