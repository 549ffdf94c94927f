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
	base := cookieVector{Keyring: kr.Marshal(), CookieName: DefaultPlainName, MaxChunks: 3, Now: t0 + 60,
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
			"Load a session from 'cookie_header', the value of a Cookie request header, as SPEC.md section 14.2 reads it: cookie name 'cookie_name', at most 'max_chunks' chunks, with 'keyring', purpose 'purpose', clock skew 'clock_skew' (seconds) and max_payload 'max_payload' (bytes), at time 'now' (Unix seconds).",
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
			m, err := New(kr, Config{Name: v.CookieName, MaxChunks: v.MaxChunks, Now: func() time.Time { return time.Unix(v.Now, 0) },
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
