package cookiesession

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// The cookie vectors (SPEC.md §14, with §4 to §13 under it) in
// testdata/cookie_vectors.json: whole Cookie headers, as a browser sends
// them, and the session a reader makes of each. Like the other vectors,
// they are made by genCookieVectors, checked by TestCookieVectorsUpToDate,
// and rewritten with -update.
const cookieVectorsFile = "testdata/cookie_vectors.json"

type cookieVectorFile struct {
	Format    string         `json:"format"`
	Generator string         `json:"generator"`
	Notes     []string       `json:"notes"`
	Vectors   []cookieVector `json:"vectors"`
}

// cookieVector is one Cookie header and the reader's settings, and either
// the session it loads, the error, or neither (a new, empty session).
type cookieVector struct {
	Description  string       `json:"description"`
	Keyring      string       `json:"keyring"`
	CookieName   string       `json:"cookie_name"`
	Purpose      string       `json:"purpose"`
	MaxChunks    int          `json:"max_chunks"`
	MaxSize      int          `json:"max_size"`
	Now          int64        `json:"now"`
	ClockSkew    int64        `json:"clock_skew"`
	MaxPayload   int          `json:"max_payload"`
	CookieHeader string       `json:"cookie_header"`
	KeyID        string       `json:"key_id,omitempty"`
	IssuedAt     int64        `json:"issued_at,omitempty"`
	ExpiresAt    int64        `json:"expires_at,omitempty"`
	Session      *vectorState `json:"session,omitempty"`
	Error        string       `json:"error,omitempty"`
}

// vectorKeyring is the keyring of the vectors: 5eed0001 primary, 5eed0002
// decrypt-only, 5eed0003 disabled.
func vectorKeyring(t testing.TB) (*Keyring, [3]Key) {
	k := [3]Key{testKey(t, 0x5eed0001, 1), testKey(t, 0x5eed0002, 33), testKey(t, 0x5eed0003, 65)}
	kr, err := NewKeyring(k[0], k[1], k[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Disable(k[2].id); err != nil {
		t.Fatal(err)
	}
	return kr, k
}

// cookieWriter seals vector sessions with fixed nonces.
type cookieWriter struct {
	t      testing.TB
	m      *Manager
	nonces *detReader
}

func newCookieWriter(t testing.TB, kr *Keyring, cfg Config) cookieWriter {
	cfg.Now = func() time.Time { return time.Unix(t0, 0) }
	cfg.MaxChunks, cfg.MaxSize = 3, 16384
	plainName(&cfg)
	m, err := New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := cookieWriter{t, m, &detReader{label: "cookiesession cookie vector nonces"}}
	m.codec.rand = w.nonces
	return w
}

// seal returns the cookie values that store st, sealed at now, and the
// session the vectors expect it to load as.
func (w cookieWriter) seal(st state, chunks int) ([]string, *vectorState) {
	w.t.Helper()
	st.modified = true
	lines, err := w.m.save(&st, t0)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(lines) != chunks {
		w.t.Fatalf("session takes %d cookies, want %d", len(lines), chunks)
	}
	var vals []string
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		_, v, _ := strings.Cut(pair, "=")
		vals = append(vals, v)
	}
	return vals, describeState(&st)
}

// header joins chunk values into a Cookie header: session, session.1, ...
func header(vals ...string) string {
	var pairs []string
	for i, v := range vals {
		name := DefaultPlainName
		if i > 0 {
			name += "." + string(rune('0'+i))
		}
		pairs = append(pairs, name+"="+v)
	}
	return strings.Join(pairs, "; ")
}

// blobSession is vectorSession with a value of n hex digits, which the
// writer stores as it is (its threshold is off), so that it takes a known
// number of cookies. seed varies the digits and the session ID.
func blobSession(n int, seed byte) state {
	st := vectorSession()
	st.id[15] = seed
	b := make([]byte, n/2)
	(&detReader{label: "blob " + string(rune('a'+seed))}).Read(b)
	st.values.set("blob", []byte(`"`+hex.EncodeToString(b)+`"`))
	return st
}

func genCookieVectors(t testing.TB) cookieVectorFile {
	kr, keys := vectorKeyring(t)
	w := newCookieWriter(t, kr, Config{})
	plainW := newCookieWriter(t, kr, Config{ValueCompressThreshold: -1})
	base := cookieVector{Keyring: kr.Marshal(), CookieName: DefaultPlainName, MaxChunks: 3, MaxSize: 16384, Now: t0 + 60,
		ClockSkew: 10, MaxPayload: DefaultMaxPayloadSize}
	var vs []cookieVector
	loads := func(desc, hdr string, want *vectorState, mod func(*cookieVector)) {
		v := base
		v.Description, v.CookieHeader, v.Session = desc, hdr, want
		v.KeyID, v.IssuedAt, v.ExpiresAt = keys[0].id.String(), t0, want.Deadline
		if mod != nil {
			mod(&v)
		}
		vs = append(vs, v)
	}
	fails := func(desc, hdr, errName string, mod func(*cookieVector)) {
		v := base
		v.Description, v.CookieHeader, v.Error = desc, hdr, errName
		if mod != nil {
			mod(&v)
		}
		vs = append(vs, v)
	}

	small, smallWant := w.seal(vectorSession(), 1)
	withCart := vectorSession()
	withCart.values.set("cart", []byte(`[`+strings.Repeat(`{"sku":"TEA-0042","qty":1},`, 60)+`{"sku":"MUG-0007","qty":2}]`))
	cart, cartWant := w.seal(withCart, 1)
	two, twoWant := plainW.seal(blobSession(5000, 1), 2)
	three, threeWant := plainW.seal(blobSession(7000, 2), 3)
	other3, _ := plainW.seal(blobSession(7000, 3), 3)

	loads("one cookie", header(small...), smallWant, nil)
	loads("one cookie, a value stored compressed", header(cart...), cartWant, nil)
	loads("split over 2 cookies", header(two...), twoWant, nil)
	loads("split over 3 cookies", header(three...), threeWant, nil)
	loads("split over 3 cookies, sent in another order among other cookies",
		"theme=dark; session.2="+three[2]+"; session="+three[0]+";session.1="+three[1]+"; lang=en", threeWant, nil)
	loads("a quoted value and spaces around it", `session= "`+small[0]+`" `, smallWant, nil)
	loads("a chunk beyond the count is ignored", header(two...)+"; session.2="+three[2], twoWant, nil)
	loads("two first cookies: the first does not open, the second does", "session="+other3[0]+"; "+header(small...), smallWant, nil)
	loads("two candidates for chunk 1: the first does not open", "session="+three[0]+"; session.1="+other3[1]+"; session.1="+three[1]+"; session.2="+three[2], threeWant, nil)
	loads("opened 9 s after expiry, within the skew", header(small...), smallWant, func(v *cookieVector) { v.Now = smallWant.Deadline + 9 })

	purposeW := newCookieWriter(t, kr, Config{Codec: Options{Purpose: "admin"}})
	admin, adminWant := purposeW.seal(vectorSession(), 1)
	loads("sealed for purpose \"admin\", opened with it", header(admin...), adminWant, func(v *cookieVector) { v.Purpose = "admin" })
	fails("sealed for purpose \"admin\", opened with none", header(admin...), "ErrAuthFailed", nil)

	vs = append(vs, func() cookieVector {
		v := base
		v.Description, v.CookieHeader = "no session cookie: a new session, no error", "theme=dark; Session="+small[0]+"; session.01=x; session.10=y"
		return v
	}())
	fails("expired: opened at expires_at + skew", header(small...), "ErrExpired", func(v *cookieVector) { v.Now = smallWant.Deadline + 10 })
	fails("mixed: chunk 1 of another session", header(three[0], other3[1], three[2]), "ErrAuthFailed", nil)
	fails("chunks 1 and 2 swapped", header(three[0], three[2], three[1]), "ErrAuthFailed", nil)
	fails("wrong count: 3 chunks presented as 2", header("2"+three[0][1:], three[1]), "ErrAuthFailed", nil)
	fails("a single cookie presented as 2 chunks", header("2."+small[0][:40], small[0][40:]), "ErrAuthFailed", nil)
	fails("count 1", header("1."+small[0]), "ErrMalformed", nil)
	fails("count with a leading zero", header("03"+three[0][1:], three[1], three[2]), "ErrMalformed", nil)
	fails("count 11", header("11"+three[0][1:], three[1], three[2]), "ErrMalformed", nil)
	fails("count 3, over max_chunks 2", header(three...), "ErrMalformed", func(v *cookieVector) { v.MaxChunks = 2 })
	fails("a missing chunk", header(three[:2]...), "ErrMalformed", nil)
	fails("chunks without a first cookie", "session.1="+three[1]+"; session.2="+three[2], "ErrMalformed", nil)
	fails("no combination opens: the first error met is reported", "session=1."+small[0]+"; session="+admin[0], "ErrMalformed", nil)

	// SPEC.md §14.2, step 1: every ";"-separated piece counts toward 3000.
	loads("3000 pieces: the session and 2999 empty ones", header(small...)+strings.Repeat(";", maxCookiePairs-1), smallWant, nil)
	fails("3001 pieces, empty ones and ones without = included", header(small...)+strings.Repeat("; x", maxCookiePairs/2)+strings.Repeat(";", maxCookiePairs/2), "ErrMalformed", nil)

	// Step 2: values that cannot be a chunk are dropped before the 4 kept;
	// only the first 4 of the others are kept.
	loads("four values that cannot be a chunk, then the session: they are dropped, not kept",
		`session=; session="a b"; session=2.; session=AA+/; session.1=x.y; `+header(small...), smallWant, nil)
	fails("four first cookies that do not open, then the session: only the first 4 are kept",
		strings.Repeat("session="+admin[0]+"; ", 4)+header(small...), "ErrAuthFailed", nil)
	others := [][]string{other3}
	for seed := byte(4); seed < 7; seed++ {
		o, _ := plainW.seal(blobSession(7000, seed), 3)
		others = append(others, o)
	}
	fails("four values of chunk 1 that do not open, then the right one: only the first 4 are kept",
		"session="+three[0]+"; session.1="+others[0][1]+"; session.1="+others[1][1]+"; session.1="+others[2][1]+"; session.1="+others[3][1]+
			"; session.1="+three[1]+"; session.2="+three[2], "ErrAuthFailed", nil)
	// Steps 4 and 5: the order of the attempts and their cap. Chunk i's
	// candidates are others' chunks i, with three's at position p[i].
	cands := func(i, p int) string {
		var b strings.Builder
		for k, o := range others[:3] {
			if k == p {
				b.WriteString("; session." + string(rune('0'+i)) + "=" + three[i])
			}
			b.WriteString("; session." + string(rune('0'+i)) + "=" + o[i])
		}
		if p == 3 {
			b.WriteString("; session." + string(rune('0'+i)) + "=" + three[i])
		}
		return b.String()
	}
	// A first cookie of count 2 makes 4 attempts (one per candidate of
	// chunk 1), which leaves 12 for three's: the odometer reaches chunk 1's
	// 4th and chunk 2's 3rd candidate in its 12th attempt, chunk 2's 4th
	// only in its 13th.
	two2 := "session=" + two[0] + "; "
	loads("the 16th attempt opens: chunk 1's candidates change fastest", two2+"session="+three[0]+cands(1, 3)+cands(2, 2), threeWant, nil)
	fails("the right combination would be the 17th attempt: at most 16", two2+"session="+three[0]+cands(1, 0)+cands(2, 3), "ErrAuthFailed", nil)
	// A first cookie of count 2 as long as max_size allows: each of its 4
	// combinations is over the budget, and still an attempt.
	long2 := "session=2.AgAAAAAB" + strings.Repeat("A", 16384-len("session=2.AgAAAAAB")) + "; "
	fails("joined texts over max_size are attempts too: the 17th is never made", long2+"session="+three[0]+cands(1, 0)+cands(2, 3), "ErrTooLarge", nil)
	loads("joined texts over max_size are attempts too: the 16th is", long2+"session="+three[0]+cands(1, 3)+cands(2, 2), threeWant, nil)
	// Step 4: the joined length is checked before joining and opening.
	fails("3 chunks over max_size: too large, never opened", header(three...), "ErrTooLarge", func(v *cookieVector) { v.MaxSize = 9000 })
	loads("3 chunks just within max_size", header(three...), threeWant, func(v *cookieVector) {
		v.MaxSize = len(header(three...)) - 2*len("; ") // names, "="s and values
	})
	fails("3 chunks one byte over max_size", header(three...), "ErrTooLarge", func(v *cookieVector) {
		v.MaxSize = len(header(three...)) - 2*len("; ") - 1
	})
	fails("3 chunks over the longest text max_payload allows", header(three...), "ErrTooLarge", func(v *cookieVector) { v.MaxPayload = 4096 })

	// SPEC.md §6, step 4 and §10.3: a key's state is its state at now under
	// its schedule. 5eed0002 is primary from t0+30 and 5eed0001, the
	// primary the cookie was sealed under, decrypt-only then and disabled
	// from t0+90.
	at := func(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }
	entries := strings.Split(kr.Marshal(), ",")
	entries[0] += ":disabled-from=" + at(t0+90)
	entries[1] += ":primary-from=" + at(t0+30)
	scheduled := strings.Join(entries, ",")
	loads("a scheduled keyring: the sealing key is decrypt-only at now, and opens", header(small...), smallWant, func(v *cookieVector) {
		v.Keyring, v.Now = scheduled, t0+89
	})
	fails("a scheduled keyring: the sealing key is disabled from now on", header(small...), "ErrKeyDisabled", func(v *cookieVector) {
		v.Keyring, v.Now = scheduled, t0+90
	})

	// Other values under the session cookie's name.
	codec, err := NewCodec(kr, &Options{Serializer: rawSerializer{}, Now: func() time.Time { return time.Unix(t0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	codec.rand = w.nonces
	forged, err := codec.Seal(DefaultPlainName, vectorPayload(t), time.Unix(t0+3600, 0))
	if err != nil {
		t.Fatal(err)
	}
	fails("a Codec value holding a valid session payload", "session="+forged, "ErrAuthFailed", nil)
	nonce := make([]byte, nonceSize)
	w.nonces.Read(nonce)
	whole := rawValue{version: formatVersion, flags: methodDeflate, kind: kindSession, key: keys[0], nonce: nonce,
		iat: t0, exp: t0 + 3600, body: deflate(t, vectorPayload(t)), name: DefaultPlainName}.seal(t)
	fails("a session payload compressed as a whole", "session="+whole, "ErrMalformed", nil)
	fails("a cookie of format version 1", "session="+rawV1(t, DefaultPlainName, ""), "ErrUnsupportedVersion", nil)
	fails("a cookie under the disabled key", "session="+rawValue{version: formatVersion, kind: kindSession, key: keys[2], nonce: nonce,
		iat: t0, exp: t0 + 3600, body: vectorPayload(t), name: DefaultPlainName}.seal(t), "ErrKeyDisabled", nil)

	return cookieVectorFile{
		Format:    "cookiesession session cookies, format version 2 (SPEC.md section 14, over sections 4 to 13)",
		Generator: "go test -run TestCookieVectorsUpToDate -update",
		Notes: []string{
			"Load a session from 'cookie_header', the value of a Cookie request header, as SPEC.md section 14.2 reads it: cookie name 'cookie_name', at most 'max_chunks' chunks and 'max_size' bytes of session cookies, with 'keyring', purpose 'purpose', clock skew 'clock_skew' (seconds) and max_payload 'max_payload' (bytes), at time 'now' (Unix seconds). The keyring's schedule, if any, is resolved at 'now' too.",
			"If 'error' is present, loading fails with that error, named by its Go sentinel (SPEC.md section 9), and the session is new and empty.",
			"If 'session' is present, the session loads, described as in testdata/payload_vectors.json, from a cookie sealed under 'key_id' at 'issued_at' to expire at 'expires_at'.",
			"If neither is present, the header carries no session cookie: the session is new and empty, and there is no error.",
			"An absent boolean means false. The keys are published here and must never be used.",
		},
		Vectors: vs,
	}
}

func TestCookieVectorsUpToDate(t *testing.T) {
	checkVectorFile(t, cookieVectorsFile, encodeVectors(t, genCookieVectors(t)), *update, "-update")
}

// TestCookieVectors loads every vector in testdata/cookie_vectors.json with
// Manager.LoadHeader, reading only the file.
func TestCookieVectors(t *testing.T) {
	var f cookieVectorFile
	readVectorFile(t, cookieVectorsFile, &f)
	if len(f.Vectors) < 25 {
		t.Fatalf("only %d vectors in %s", len(f.Vectors), cookieVectorsFile)
	}
	for _, v := range f.Vectors {
		t.Run(v.Description, func(t *testing.T) {
			kr, err := ParseKeyring(v.Keyring)
			if err != nil {
				t.Fatal(err)
			}
			// One clock: the keyring's schedule and the expiry checks.
			now := func() time.Time { return time.Unix(v.Now, 0) }
			kr.SetClock(now)
			m, err := New(kr, Config{Name: v.CookieName, MaxChunks: v.MaxChunks, MaxSize: v.MaxSize, Now: now,
				Codec: Options{Purpose: v.Purpose, ClockSkew: time.Duration(v.ClockSkew) * time.Second, MaxPayloadSize: v.MaxPayload}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.LoadHeader(context.Background(), v.CookieHeader)
			switch {
			case v.Error != "":
				if err == nil || sentinelName(err) != v.Error {
					t.Fatalf("LoadHeader: error %v, want %s", err, v.Error)
				}
				if !s.IsNew() || s.Len() != 0 {
					t.Fatal("the session after an error is not new and empty")
				}
			case v.Session == nil:
				if err != nil || !s.IsNew() || s.Len() != 0 {
					t.Fatalf("LoadHeader: error %v, new %v, %d keys; want a new empty session", err, s.IsNew(), s.Len())
				}
			default:
				if err != nil || s.IsNew() {
					t.Fatalf("LoadHeader: error %v, new %v; want the session", err, s.IsNew())
				}
				info := s.Info()
				if info.KeyID.String() != v.KeyID || info.IssuedAt.Unix() != v.IssuedAt || info.ExpiresAt.Unix() != v.ExpiresAt {
					t.Fatalf("Info %+v, want key %s issued %d expires %d", info, v.KeyID, v.IssuedAt, v.ExpiresAt)
				}
				checkVectorState(t, &s.st, v.Session)
			}
		})
	}
}
