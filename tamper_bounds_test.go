package cookiesession

import (
	"context"
	"crypto/cipher"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// Bounds on the cost of the worst Cookie headers: allocations, bytes and
// AEAD opens per request.

// hdCountingAEAD counts the calls to Open of the AEAD it wraps, and the
// ciphertext bytes they were given.
type hdCountingAEAD struct {
	cipher.AEAD
	opens, bytes *atomic.Int64
}

func (a hdCountingAEAD) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	a.opens.Add(1)
	if a.bytes != nil {
		a.bytes.Add(int64(len(ciphertext)))
	}
	return a.AEAD.Open(dst, nonce, ciphertext, ad)
}

// hdCountOpens makes every key of kr count its AEAD opens in n.
func hdCountOpens(kr *Keyring, n *atomic.Int64) { hdCountOpenBytes(kr, n, nil) }

// hdCountOpenBytes is hdCountOpens that also adds the ciphertext bytes
// opened to b, if not nil.
func hdCountOpenBytes(kr *Keyring, n, b *atomic.Int64) {
	old := kr.load()
	s := &snapshot{byID: map[KeyID]*keyEntry{}}
	for _, e := range old.entries {
		c := *e
		c.aead = hdCountingAEAD{e.aead, n, b}
		s.entries = append(s.entries, &c)
		s.byID[c.key.id] = &c
		if e == old.primary {
			s.primary = &c
		}
	}
	kr.snap.Store(s)
}

// Bounds for one request, whatever its Cookie header. Measured on Go 1.26,
// linux/amd64, a request without cookies costs about 33 allocations and
// 7.5 KiB with this harness (httptest.NewRequest, a recorder, the
// middleware and hdApp), and the worst headers below at most about 93
// allocations and 10 KiB: scanning allocates nothing, at most 4 candidates
// per chunk index are kept, and decoding and inflation reuse pooled
// buffers. 64 KiB is less than one copy of the longest value that is
// decoded (codec.maxText, 85 KiB by default) and no more than one payload
// inflated to the cap, so a per-request copy of a large input trips it,
// while it leaves 6 times the measured worst case. The race detector makes sync.Pool drop
// a quarter of what is put back, so pooled buffers of up to maxText are
// reallocated at random: there, the byte bound is 8 times larger (measured:
// up to 270 KiB). 150 allocations leaves room for both (race: up to 121).
const hdMaxAllocs = 150

func hdMaxBytes() uint64 {
	if hdRace() {
		return 512 << 10
	}
	return 64 << 10
}

// TestTamperBounds checks that the worst headers cost a bounded number of
// allocations, bytes and AEAD opens per request, and no more opens than
// maxAttempts. It asserts no times.
func TestTamperBounds(t *testing.T) {
	e := hdNew(t, Config{})
	// Four candidates for each chunk index, from eight sessions, so that
	// no combination is authentic; then 200 more copies of one, which are
	// not kept.
	var chunks [8][]string
	for i := range chunks {
		chunks[i] = e.mintChunks(t, 3, uint64(20+i))
	}
	dups := ""
	for i := range 4 {
		dups += "session=" + chunks[i][0] + "; session.1=" + chunks[4+i][1] + "; session.2=" + chunks[7-i][2] + "; "
	}
	dups += hdRepeat(200, "session.1="+chunks[0][1])
	big := hdOn(t, e.kr, e.clock, Config{Codec: Options{MaxPayloadSize: 16 << 20}})
	st := state{created: t0, deadline: t0 + 3600}
	payload, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	bomb := "session=" + hdSealRaw(t, big.m, hdBomb(t, payload))
	// Version 2, no flags, key 1, then zeros: as long as a value under
	// MaxSize may be.
	garbage := "session=AgAAAAAB" + strings.Repeat("A", e.m.maxSize-len("session=")-8)
	tests := []struct {
		name     string
		header   string
		want     error
		maxOpens int64
	}{
		{"no cookie", "", nil, 0},
		{"3001 cookies", hdRepeat(maxCookiePairs, "a=1") + "session=x", ErrMalformed, 0},
		{"1 MiB of cookie pairs", hdRepeat(1<<20/5, "a=1"), ErrMalformed, 0},
		{"1 MiB value", "session=" + strings.Repeat("A", 1<<20), ErrTooLarge, 0},
		{"value over MaxSize", "session=AgAAAAAB" + strings.Repeat("A", e.m.codec.maxText-8), ErrTooLarge, 0},
		{"longest value that is decoded", garbage, ErrAuthFailed, 1},
		{"3000 garbage duplicates", hdRepeat(maxCookiePairs, "session=3.x"), ErrMalformed, 0},
		{"duplicate candidates of 4 sessions", dups, ErrAuthFailed, maxAttempts},
		{"deflate bomb", bomb, ErrTooLarge, 1},
	}
	var opens atomic.Int64
	hdCountOpens(e.kr, &opens)
	for _, tt := range tests {
		opens.Store(0)
		r := e.serve("/", tt.header)
		if n := opens.Load(); n > tt.maxOpens || (tt.maxOpens > 0 && n == 0) {
			t.Errorf("%s: %d AEAD opens, want 1 to %d", tt.name, n, tt.maxOpens)
		}
		if r.status != http.StatusOK || r.body != hdFreshBody {
			t.Errorf("%s: status %d body %q", tt.name, r.status, r.body)
		}
		if got := hdSentinel(r.errs); (tt.want == nil && len(r.errs) != 0) || (tt.want != nil && got != tt.want) {
			t.Errorf("%s: ErrorHook got %v, want %v", tt.name, r.errs, tt.want)
		}
		allocs, bytes := hdCost(func() { e.serve("/", tt.header) })
		t.Logf("%-36s %6d header bytes: %5.1f allocs, %7d bytes, %d opens per request",
			tt.name, len(tt.header), allocs, bytes, opens.Load()/(hdRuns+2))
		if allocs > hdMaxAllocs || bytes > hdMaxBytes() {
			t.Errorf("%s: %.1f allocations and %d bytes per request, over the bounds %d and %d",
				tt.name, allocs, bytes, hdMaxAllocs, hdMaxBytes())
		}
	}
}

// TestTamperJoinedLengthCap runs the attack of a Cookie header whose chunk
// candidates join into texts that no writer under the configured MaxChunks
// and MaxSize makes: one first cookie as long as MaxPayloadSize allows and
// four one-character candidates for each of chunks 1 and 2 give 16
// combinations, each of them an AEAD open of about 64 KiB up to the commit
// that capped the joined length (SPEC.md §14.2, step 4). Now no such text
// is opened, and the opens of any header add up to at most maxAttempts
// texts of MaxSize.
func TestTamperJoinedLengthCap(t *testing.T) {
	for _, maxSize := range []int{DefaultMaxSize, 16384} {
		e := hdNew(t, Config{MaxSize: maxSize})
		var opens, bytes atomic.Int64
		hdCountOpenBytes(e.kr, &opens, &bytes)
		// A first cookie whose text has n characters. Joined with two
		// one-character chunks, it is a text of n+2 characters; the
		// candidates of chunk 2, which ends it, carry no bits past the last
		// byte, so each joined text decodes and costs an AEAD open.
		first := func(n int) string { return "3.AgAAAAAB" + strings.Repeat("A", n-8) }
		small := "; session.1=A; session.1=B; session.1=C; session.1=D; session.2=A; session.2=Q; session.2=g; session.2=w"
		// The most characters the three chunks may hold in all: MaxSize
		// less the names, "="s and the count prefix.
		room := maxSize - len("session=3.session.1=session.2=")
		budget := int64(maxAttempts * maxSize)
		tests := []struct {
			name      string
			header    string
			want      error
			wantOpens int64
		}{
			{"longest text MaxPayloadSize allows", "session=" + first(e.m.codec.maxText-2) + small, ErrTooLarge, 0},
			{"one character over MaxSize", "session=" + first(room-1) + small, ErrTooLarge, 0},
			{"longest text under MaxSize", "session=" + first(room-2) + small, ErrAuthFailed, maxAttempts},
		}
		for _, tt := range tests {
			opens.Store(0)
			bytes.Store(0)
			r := e.serve("/", tt.header)
			if n := opens.Load(); n != tt.wantOpens || bytes.Load() > budget {
				t.Errorf("MaxSize %d, %s: %d AEAD opens of %d bytes in all, want %d and at most %d bytes",
					maxSize, tt.name, n, bytes.Load(), tt.wantOpens, budget)
			}
			if r.status != http.StatusOK || r.body != hdFreshBody || hdSentinel(r.errs) != tt.want {
				t.Errorf("MaxSize %d, %s: status %d body %q ErrorHook %v, want %v",
					maxSize, tt.name, r.status, r.body, r.errs, tt.want)
			}
		}
	}
}

// TestTamperOversizedValueCopy is a regression test: up to commit eea5be3,
// Manager.open copied a candidate's whole text into its buffer before
// Codec.openPayload rejected it as longer than maxText, and putBuf does not
// pool a buffer over 1 MiB. So a session value just over 1 MiB, which
// still fits under net/http's header limit, cost a fresh 1 MiB allocation
// on every request, and LoadHeader or LoadCookies, which have no header
// limit in front of them, copied any value whole (8 MiB here). The length
// is now checked before the copy.
func TestTamperOversizedValueCopy(t *testing.T) {
	e := hdNew(t, Config{})
	header := "session=" + strings.Repeat("A", 1<<20+1024)
	allocs, bytes := hdCost(func() { e.serve("/", header) })
	if bytes > hdMaxBytes() {
		t.Errorf("middleware, header of %d bytes: %.1f allocations and %d bytes per request, over the bound %d",
			len(header), allocs, bytes, hdMaxBytes())
	}
	header = "session=" + strings.Repeat("A", 8<<20)
	allocs, bytes = hdCost(func() {
		_, err := e.m.LoadHeader(context.Background(), header)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("LoadHeader: %v, want ErrTooLarge", err)
		}
	})
	if bytes > hdMaxBytes() {
		t.Errorf("LoadHeader, header of %d bytes: %.1f allocations and %d bytes per call, over the bound %d",
			len(header), allocs, bytes, hdMaxBytes())
	}
}

const hdRuns = 20

// hdCost runs f once to warm the pools, then hdRuns times, and returns the
// mean allocations and bytes allocated per run.
func hdCost(f func()) (allocs float64, bytes uint64) {
	f()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range hdRuns {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / hdRuns, (after.TotalAlloc - before.TotalAlloc) / hdRuns
}
