package cookiesession

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The session payload (SPEC.md §13): per-value compression, lazy
// inflation, no needless recompression, the inflated-size cap and strict
// uvarints. The tests that count DEFLATE calls (deflates, inflates) are
// not parallel, so no other test compresses meanwhile.

// noise returns n bytes that DEFLATE cannot shrink.
func noise(n int) []byte {
	b := make([]byte, n)
	(&detReader{label: "noise"}).Read(b)
	return b
}

// stored reports how each value of st is stored: "z" compressed, "-" as it is.
func stored(st *state) map[string]string {
	out := map[string]string{}
	for _, e := range st.values {
		out[e.key] = "-"
		if e.z != nil {
			out[e.key] = "z"
		}
	}
	return out
}

func TestValueCompression(t *testing.T) {
	vals := map[string][]byte{
		"token":   []byte(`"9f86d081884c7d659a2feaa0c55ad015"`),
		"under":   bytes.Repeat([]byte("a"), DefaultValueCompressThreshold-1),
		"at":      bytes.Repeat([]byte("b"), DefaultValueCompressThreshold),
		"large":   []byte(strings.Repeat(`{"sku":"TEA-0042","qty":1},`, 200)),
		"noise":   noise(3000),
		"noise-1": noise(DefaultValueCompressThreshold),
	}
	tests := []struct {
		name      string
		threshold int
		ratio     int
		want      map[string]string
	}{
		{"default threshold", 0, maxCompressionRatio, map[string]string{"token": "-", "under": "-", "at": "z", "large": "z", "noise": "-", "noise-1": "-"}},
		{"threshold 1", 1, maxCompressionRatio, map[string]string{"token": "-", "under": "z", "at": "z", "large": "z", "noise": "-", "noise-1": "-"}},
		{"off", -1, maxCompressionRatio, map[string]string{"token": "-", "under": "-", "at": "-", "large": "-", "noise": "-", "noise-1": "-"}},
		// One letter repeated, and one short JSON object repeated, shrink
		// more than 32 times: stored as they are, so a reader with the
		// default ratio cap accepts them.
		{"default ratio cap", 0, 0, map[string]string{"token": "-", "under": "-", "at": "-", "large": "-", "noise": "-", "noise-1": "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, Config{ValueCompressThreshold: tt.threshold, MaxSize: 16384, MaxChunks: 10,
				MaxCompressionRatio: tt.ratio, Codec: Options{Serializer: rawSerializer{}}})
			s := stLoad(t, e.m, "")
			for k, v := range vals {
				if err := s.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			back, _ := stRoundTrip(t, e.m, s)
			if diff := cmp.Diff(tt.want, stored(&s.st)); diff != "" {
				t.Errorf("stored when saved (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, stored(&back.st)); diff != "" {
				t.Errorf("stored when loaded (-want +got):\n%s", diff)
			}
			for k, v := range vals {
				got, ok, err := Get[[]byte](back, k)
				if !ok || err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get(%q) after the round trip: %d bytes, %v, %v; want %d bytes", k, len(got), ok, err, len(v))
				}
			}
		})
	}
}

// largeSession returns a manager and the Cookie header of the large fixture
// session (a 150-item cart), saved once.
func largeSession(t *testing.T) (stEnv, string) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	for k, v := range fixtureValues(t, "large") {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return e, stHeader(t, stSave(t, e.m, s))
}

func TestLazyInflation(t *testing.T) {
	e, header := largeSession(t)
	before := inflates.Load()
	s := stLoad(t, e.m, header)
	if tok, ok, err := Get[string](s, "csrf"); !ok || err != nil || tok == "" {
		t.Fatalf("Get csrf: %q %v %v", tok, ok, err)
	}
	if !s.Has("cart") || s.Len() != 4 || len(s.Keys()) != 4 {
		t.Fatalf("Has cart %v, Len %d", s.Has("cart"), s.Len())
	}
	if n := inflates.Load() - before; n != 0 {
		t.Fatalf("loading and reading small keys inflated %d times, want 0", n)
	}
	for range 3 {
		if cart, ok, err := Get[[]map[string]any](s, "cart"); !ok || err != nil || len(cart) != 150 {
			t.Fatalf("Get cart: %d items, %v %v", len(cart), ok, err)
		}
	}
	if n := inflates.Load() - before; n != 1 {
		t.Fatalf("reading the cart 3 times inflated %d times, want 1", n)
	}
}

func TestNoRecompression(t *testing.T) {
	e, header := largeSession(t)
	cartZ := func(h string) []byte {
		s := stLoad(t, e.m, h)
		i, ok := s.st.values.find("cart")
		if !ok || s.st.values[i].z == nil {
			t.Fatalf("the cart is not stored compressed")
		}
		return s.st.values[i].z
	}
	want := cartZ(header)
	tests := []struct {
		name    string
		request func(s *Session) error
		deflate int64
	}{
		{"set a small key", func(s *Session) error { return s.Set("seen", 1) }, 0},
		{"read the cart, set a small key", func(s *Session) error {
			_, _, err := Get[[]any](s, "cart")
			return errors.Join(err, s.Set("seen", 2))
		}, 0},
		{"renew", func(s *Session) error { s.Renew(); return nil }, 0},
		{"set the cart three times", func(s *Session) error {
			cart, _, err := Get[[]any](s, "cart")
			for range 3 {
				err = errors.Join(err, s.Set("cart", cart))
			}
			return err
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stLoad(t, e.m, header)
			if err := tt.request(s); err != nil {
				t.Fatal(err)
			}
			before := deflates.Load()
			h := stHeader(t, stSave(t, e.m, s))
			// A second save of the same state compresses nothing.
			s.Renew()
			stSave(t, e.m, s)
			if n := deflates.Load() - before; n != tt.deflate {
				t.Fatalf("the saves ran DEFLATE %d times, want %d", n, tt.deflate)
			}
			if got := cartZ(h); tt.deflate == 0 && !bytes.Equal(got, want) {
				t.Fatalf("the unchanged cart's stored bytes changed")
			}
		})
	}
}

func TestSessionInflatedSizeCap(t *testing.T) {
	e := stNew(t, Config{MaxSessionSize: 4096, MaxCompressionRatio: maxCompressionRatio})
	s := stLoad(t, e.m, "")
	for _, k := range []string{"a", "b"} {
		if err := s.Set(k, strings.Repeat("a", 2040)); err != nil {
			t.Fatal(err)
		}
	}
	// 2 × 2042 bytes of values, within 4096.
	back, _ := stRoundTrip(t, e.m, s)
	if err := back.Set("c", "x"); err != nil {
		t.Fatal(err)
	}
	// 4087 bytes of values; the keys do not count.
	stSave(t, e.m, back)
	if err := back.Set("d", strings.Repeat("a", 10)); err != nil {
		t.Fatal(err)
	}
	// Compressed, the payload is tiny, but its values inflate to 4099 bytes.
	if _, err := e.m.SetCookieHeaders(back); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("SetCookieHeaders over the inflated cap: error %v, want ErrTooLarge", err)
	}
}

func TestValueCompressThresholdConfig(t *testing.T) {
	kr := testKeyring(t)
	for _, tt := range []struct {
		threshold int
		want      int
		err       error
	}{
		{0, DefaultValueCompressThreshold, nil},
		{1, 1, nil},
		{-1, int(^uint(0) >> 1), nil},
		{-2, 0, ErrInvalidConfig},
	} {
		m, err := New(kr, Config{ValueCompressThreshold: tt.threshold})
		if !errors.Is(err, tt.err) || (err == nil && m.zmin != tt.want) {
			t.Errorf("ValueCompressThreshold %d: error %v, threshold %v; want %v, %d", tt.threshold, err, m, tt.err, tt.want)
		}
	}
}

func TestUvarint(t *testing.T) {
	tests := []struct {
		in   []byte
		want uint64
		n    int
	}{
		{[]byte{0x00}, 0, 1},
		{[]byte{0x7f}, 127, 1},
		{[]byte{0x80, 0x01}, 128, 2},
		{[]byte{0xff, 0x7f, 0xaa}, 16383, 2},
		{binary.AppendUvarint(nil, 1<<64-1), 1<<64 - 1, 10},
		{[]byte{0x80, 0x00}, 0, 0},                          // overlong 0
		{[]byte{0xff, 0x80, 0x00}, 0, 0},                    // overlong 127
		{[]byte{0x80}, 0, 0},                                // truncated
		{[]byte{}, 0, 0},                                    // empty
		{bytes.Repeat([]byte{0xff}, 11), 0, 0},              // over 10 bytes
		{append(bytes.Repeat([]byte{0xff}, 9), 0x02), 0, 0}, // past 2^64-1
	}
	for _, tt := range tests {
		v, n := uvarint(tt.in)
		if n <= 0 {
			n, v = 0, 0
		}
		if v != tt.want || n != tt.n {
			t.Errorf("uvarint(%x) = %d, %d; want %d, %d", tt.in, v, n, tt.want, tt.n)
		}
	}
}

// A compressed value whose stated length lies: it states a few KiB but
// inflates to 8 MiB. The session loads, since nothing is inflated then;
// other values read as usual without inflating it; reading it inflates at
// most its stated length plus one byte, and fails with ErrMalformed, every
// time; and saving the session writes its stored bytes back unchanged.
func TestLyingCompressedValue(t *testing.T) {
	var hooked []error
	e := stNew(t, Config{MaxSize: 16384, MaxChunks: 10,
		ErrorHook: func(_ *http.Request, err error) { hooked = append(hooked, err) }})
	m := e.m
	z := deflate(t, make([]byte, 8<<20))
	stated := len(z) + 1 // the least length that passes §13.4 step 8f
	header := m.names[0] + "=" + hdSealRaw(t, m, vHead.encode(plainEntry("n", "7"), pe{"zbomb", entryDeflate, uint64(stated), z}))
	var readErr error
	var allocated uint64
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		before := inflates.Load()
		if n, ok, err := Get[int](s, "n"); n != 7 || !ok || err != nil {
			t.Errorf("Get n: %v %v %v", n, ok, err)
		}
		if n := inflates.Load() - before; n != 0 {
			t.Errorf("reading a small value inflated %d times", n)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range 2 {
			_, _, readErr = Get[[]byte](s, "zbomb")
		}
		runtime.ReadMemStats(&m1)
		allocated = m1.TotalAlloc - m0.TotalAlloc
		t.Logf("reading it twice: %v; %d bytes allocated", readErr, allocated)
		if err := s.Set("n", 8); err != nil {
			t.Error(err)
		}
	}))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Cookie", header)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || len(hooked) != 0 {
		t.Fatalf("status %d, ErrorHook got %v; want 200 and nothing", w.Code, hooked)
	}
	if !errors.Is(readErr, ErrMalformed) || !wrapsOne(readErr) {
		t.Fatalf("Get of the lying value: error %v, want ErrMalformed", readErr)
	}
	if msg := readErr.Error(); !strings.HasPrefix(msg, "cookiesession: ") || strings.Count(msg, "cookiesession") != 1 {
		t.Errorf("error text %q does not name the package once, first", msg)
	}
	// Two reads of a value that states about 8 KiB, against 8 MiB if the
	// cap did not hold.
	if allocated > 1<<20 {
		t.Errorf("reading the lying value twice allocated %d bytes", allocated)
	}
	var pairs []string
	for _, c := range w.Result().Cookies() {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	back := stLoad(t, m, strings.Join(pairs, "; "))
	i, ok := back.st.values.find("zbomb")
	if !ok || !bytes.Equal(back.st.values[i].z, z) || back.st.values[i].n != stated {
		t.Fatalf("saved again, the lying value is not stored as it was")
	}
}
