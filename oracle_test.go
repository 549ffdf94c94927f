package cookiesession

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

// The compression oracle (CRIME/BREACH) of issue 12, run as an attacker
// runs it, through the public API. A victim's session holds a CSRF token
// of 32 hex digits, about 2 KiB of other data, and a search term that the
// attacker chooses: a cross-site GET to the search page stores it. The
// attacker sees only the total length of the Set-Cookie lines of each
// response, as TLS record sizes show it, and guesses the token by length.
//
// The attack relies on DEFLATE finding the attacker's string in the token:
// both are JSON strings after `":"`, so the stored search term `":"9f8`
// repeats the bytes before and at the start of the stored token
// `":"9f86...` if the guess is right, and that changes the cookie's length.

// oracleItem is one line of the victim's cart: the 2 KiB of other data.
// The names are capitalized, so that no '"' in it precedes a hex digit.
type oracleItem struct {
	Sku   string
	Name  string
	Qty   int
	Price int
}

// oracleState is a session value that holds the token, the cart and the
// search term together: the residual risk of SPEC.md §11.
type oracleState struct {
	Token  string
	Cart   []oracleItem
	Search string
}

// oracleVictim is a site and one victim's session on it.
type oracleVictim struct {
	h      http.Handler
	cookie string // the Cookie header the victim's browser sends
	token  string
}

// oracleCart returns about 2 KiB of cart.
func oracleCart() []oracleItem {
	names := []string{"Green Tea", "Black Tea", "Mug", "Teapot", "Strainer", "Oolong", "Kettle"}
	var cart []oracleItem
	for i := range 30 {
		cart = append(cart, oracleItem{fmt.Sprintf("TEA-%04d", 17*i+3), names[i%len(names)], 1 + i%3, 499 + 100*i})
	}
	return cart
}

// newOracleVictim starts a site with the default Config and a victim's
// session. If shared, the site keeps the token, cart and search term in one
// value; otherwise under the keys "csrf", "cart" and "q".
func newOracleVictim(t *testing.T, rng *rand.Rand, shared bool) oracleVictim {
	t.Helper()
	clock := newTestClock(t0)
	m, err := New(testKeyring(t), Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]byte, 16)
	for i := range tok {
		tok[i] = byte(rng.Uint32())
	}
	v := oracleVictim{token: hex.EncodeToString(tok)}
	s, _ := m.LoadHeader(context.Background(), "")
	if shared {
		err = s.Set("state", oracleState{Token: v.token, Cart: oracleCart()})
	} else {
		err = errors.Join(s.Set("csrf", v.token), s.Set("cart", oracleCart()))
	}
	if err != nil {
		t.Fatal(err)
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	v.cookie = stHeader(t, lines)
	// Compression is on: the cart, over the threshold, is stored
	// compressed, or the cookie could not be shorter than it.
	if cart, _ := json.Marshal(oracleCart()); len(v.cookie) >= len(cart) {
		t.Fatalf("the cookie of %d bytes is not compressed (the cart alone is %d)", len(v.cookie), len(cart))
	}
	// The search page remembers the last search: a state change on GET,
	// the mistake that lets a cross-site request store the attacker's data.
	v.h = m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		q := r.URL.Query().Get("q")
		var err error
		if shared {
			var st oracleState
			if st, _, err = Get[oracleState](s, "state"); err == nil {
				st.Search = q
				err = s.Set("state", st)
			}
		} else {
			err = s.Set("q", q)
		}
		if err != nil {
			t.Error(err)
		}
	}))
	return v
}

// observe makes the victim's browser search for q, and returns what the
// attacker sees: the total length of the Set-Cookie lines.
func (v oracleVictim) observe(q string) int {
	r := httptest.NewRequest(http.MethodGet, "/search?q="+url.QueryEscape(q), nil)
	r.Header.Set("Cookie", v.cookie)
	w := httptest.NewRecorder()
	v.h.ServeHTTP(w, r)
	n := 0
	for _, l := range w.Result().Header.Values("Set-Cookie") {
		n += len(l)
	}
	return n
}

// attack guesses the token, n hex digits, one at a time, adaptively, and
// returns the guess and the number of requests it made. Every search term
// it sends ends with fill, which can make the stored term long enough to
// be compressed.
//
// For each candidate digit c it compares two requests that hold the same
// bytes: known+c+pad, where a right c extends the match with the token,
// and known+pad+c, where nothing can. The difference isolates the match
// from how c itself codes. Each round uses a new random pad, which moves
// the output's bit alignment, so that differences smaller than the
// rounding to bytes and base64 characters show up over several rounds. A
// right guess stands out from the others, shorter or (when the match
// costs more than the literals it replaces) longer; the attacker stops
// when one candidate stands out by a margin, or after maxRounds, and then
// picks at random among the ones furthest out.
func attack(v oracleVictim, rng *rand.Rand, n int, fill string) (string, int) {
	const (
		hexDigits = "0123456789abcdef"
		minRounds = 4
		maxRounds = 12
		margin    = 2
	)
	requests := 0
	known := ""
	for len(known) < n {
		var scores [16]int
		var pick []int
		for round := range maxRounds {
			pad := oraclePad(rng)
			for i, c := range hexDigits {
				scores[i] += v.observe(known+string(c)+pad+fill) - v.observe(known+pad+string(c)+fill)
				requests += 2
			}
			var stands bool
			if pick, stands = outliers(scores[:], margin); stands && round+1 >= minRounds {
				break
			}
		}
		known += string(hexDigits[pick[rng.IntN(len(pick))]])
	}
	return known, requests
}

// oraclePad returns 1 to 8 characters found nowhere else in the session.
func oraclePad(rng *rand.Rand) string {
	const symbols = "!#%&*+;~^|"
	b := make([]byte, 1+rng.IntN(8))
	for i := range b {
		b[i] = symbols[rng.IntN(len(symbols))]
	}
	return string(b)
}

// outliers returns the indices of the scores furthest from their median,
// and whether there is one alone, ahead of the next by at least margin.
func outliers(scores []int, margin int) ([]int, bool) {
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	med := (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	dev := make([]int, len(scores))
	for i, s := range scores {
		dev[i] = max(s-med, med-s)
	}
	top := slices.Max(dev)
	var idx []int
	second := 0
	for i, d := range dev {
		if d == top {
			idx = append(idx, i)
		} else {
			second = max(second, d)
		}
	}
	return idx, len(idx) == 1 && top-second >= margin
}

// commonPrefix is the number of leading characters a and b share.
func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func TestCompressionOracle(t *testing.T) {
	// All 32 digits; 8 under the race detector, which makes each request
	// about ten times slower and has nothing to find in the attack.
	digits := 32
	if hdRace() {
		digits = 8
	}
	// Chance: each digit is right with probability 1/16. A right prefix of 4
	// or more comes with probability 16^-4 (1.5e-5); maxSame digits or more
	// in place with probability under 1e-4.
	maxSame := chanceBound(digits, 1.0/16, 1e-4)
	// A search term this long is over the value compression threshold.
	long := hdWords(DefaultValueCompressThreshold+100, 64) // compresses, within the ratio cap
	tests := []struct {
		name   string
		shared bool
		fill   string
	}{
		// The default: the token, the cart and the search term are separate
		// values, each compressed (if at all) on its own, so no length
		// depends on how the search term compresses against the token.
		{"separate values (default Config)", false, ""},
		// The same, with search terms that the attacker makes long enough
		// to be compressed: on their own, still.
		{"separate values, search term compressed (default Config)", false, long},
		// The residual risk, documented in SPEC.md §11 and README: one value
		// that holds both the secret and the attacker's data is compressed
		// as one, and leaks. The attack must recover the token here, or
		// the tests above would show nothing.
		{"token and search term in one value", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, 1))
			v := newOracleVictim(t, rng, tt.shared)
			if tt.fill != "" {
				// The long term is stored compressed, or the cookie would
				// grow by more than its length.
				if grew := v.observe(tt.fill) - v.observe(""); grew >= len(tt.fill) {
					t.Fatalf("a search term of %d bytes grew the cookie by %d: not compressed", len(tt.fill), grew)
				}
			}
			guess, requests := attack(v, rng, digits, tt.fill)
			got := commonPrefix(guess, v.token)
			same := 0
			for i := range guess {
				if guess[i] == v.token[i] {
					same++
				}
			}
			t.Logf("%d requests: guessed %s for %s: first %d digits right, %d of %d in place",
				requests, guess, v.token[:digits], got, same, digits)
			if tt.shared {
				if got != digits {
					t.Fatalf("the attack recovered %d of %d digits from a value that mixes the token and attacker data; it should recover all, or the default's result means nothing", got, digits)
				}
				return
			}
			if got >= 4 || same >= maxSame {
				t.Fatalf("the attack did better than chance: first %d digits right, %d of %d in place", got, same, digits)
			}
		})
	}
}

// chanceBound returns the least k such that k or more successes in n
// trials of probability p come with probability under q.
func chanceBound(n int, p, q float64) int {
	for k := 0; k <= n; k++ {
		tail := 0.0
		for i := k; i <= n; i++ {
			tail += binomial(n, i) * math.Pow(p, float64(i)) * math.Pow(1-p, float64(n-i))
		}
		if tail < q {
			return k
		}
	}
	return n + 1
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := range k {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}
