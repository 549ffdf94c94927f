package fuzz

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

// bytesSerializer stores []byte values as they are, so that the session
// payload target sees the exact bytes of each value.
type bytesSerializer struct{}

func (bytesSerializer) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, errors.New("bytesSerializer: not a []byte")
	}
	return bytes.Clone(b), nil
}

func (bytesSerializer) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return errors.New("bytesSerializer: not a *[]byte")
	}
	*p = bytes.Clone(data)
	return nil
}

// specEntryIn is one entry for specEncodePayload: method 0 stores value as
// it is, 1 stores it DEFLATE-compressed and states inflated as its length.
type specEntryIn struct {
	key      string
	method   byte
	inflated uint64
	value    []byte
}

// specEncodePayload writes a session payload of SPEC.md §13 with the given
// entries, in the order given, checking nothing.
func specEncodePayload(version, flags byte, entries ...specEntryIn) []byte {
	p := []byte{version}
	for i := range 16 {
		p = append(p, byte(0xa0+i))
	}
	p = binary.BigEndian.AppendUint64(p, uint64(fuzzNow.Unix()-60))
	p = binary.BigEndian.AppendUint64(p, uint64(fuzzNow.Add(24*time.Hour).Unix()))
	p = append(p, flags)
	p = binary.AppendUvarint(p, uint64(len(entries)))
	for _, e := range entries {
		p = binary.AppendUvarint(p, uint64(len(e.key)))
		p = append(p, e.key...)
		p = append(p, e.method)
		if e.method == 1 {
			p = binary.AppendUvarint(p, e.inflated)
		}
		p = binary.AppendUvarint(p, uint64(len(e.value)))
		p = append(p, e.value...)
	}
	return p
}

// FuzzSessionPayload seals arbitrary bytes as a session payload (an
// authentic cookie, so the fuzzer reaches the decoder of SPEC.md §13) and
// loads it with Manager.LoadHeader. The outcome must match the spec decoder:
// the same error, or the same ID, keys and values, with a compressed value
// that does not inflate to its stated length failing with ErrMalformed
// when read, and only then. A session that loads is then sealed again and
// must load back to the same.
func FuzzSessionPayload(f *testing.F) {
	m := hdManager(f, fixedKeyring(f), clock, cs.Config{SaveEveryRequest: true,
		MaxSessionSize: maxPayload, Codec: cs.Options{MaxPayloadSize: maxPayload, Serializer: bytesSerializer{}}})
	a800 := bytes.Repeat([]byte("a"), 800)
	plain := func(k, v string) specEntryIn { return specEntryIn{key: k, value: []byte(v)} }
	// withSubject inserts the fields of flags bits 4 and 5 after the flags.
	withSubject := func(p []byte, subject string, checked bool) []byte {
		fields := binary.AppendUvarint(nil, uint64(len(subject)))
		fields = append(fields, subject...)
		fields = binary.BigEndian.AppendUint64(fields, uint64(fuzzNow.UnixNano()-1))
		if checked {
			fields = binary.BigEndian.AppendUint64(fields, uint64(fuzzNow.UnixNano()))
		}
		return append(append(p[:34:34], fields...), p[34:]...)
	}
	for _, p := range [][]byte{
		specEncodePayload(2, 0),
		specEncodePayload(2, 1, plain("csrf", `"9f86d081884c7d65"`), plain("uid", "1042")),
		specEncodePayload(2, 0, specEntryIn{"cart", 1, 800, deflate(f, a800)}, plain("csrf", `"t"`)),
		specEncodePayload(2, 0, specEntryIn{"cart", 1, 799, deflate(f, a800)}),
		specEncodePayload(2, 0, specEntryIn{"cart", 1, 5000, deflate(f, bytes.Repeat([]byte("a"), 5000))}),
		specEncodePayload(2, 0, specEntryIn{"z", 1, 3, []byte{0xff, 0xff}}),
		specEncodePayload(2, 0, specEntryIn{"z", 2, 0, []byte("x")}),
		specEncodePayload(2, 0, plain("b", "1"), plain("a", "2")),
		specEncodePayload(2, 0, plain("", ""), plain("", "")),
		specEncodePayload(1, 0, plain("a", "1")),
		specEncodePayload(2, 2),
		specEncodePayload(2, 3, plain("a", "1")),
		append(specEncodePayload(2, 7)[:34], 90, 0),
		append(specEncodePayload(2, 5)[:34], 0, 0),
		specEncodePayload(2, 9, plain("a", "1")),
		append(specEncodePayload(2, 0x0d)[:34], 90, 0),
		specEncodePayload(2, 8),
		append(specEncodePayload(2, 0)[:34], 0x80, 0x00),
		append(specEncodePayload(2, 0, plain("a", "1")), 0),
		withSubject(specEncodePayload(2, 0x10, plain("uid", "1042")), "user-1042", false),
		withSubject(specEncodePayload(2, 0x31, plain("uid", "1042")), "a@example.com", true),
		withSubject(specEncodePayload(2, 0x10), "", false),
		nil,
	} {
		f.Add(p)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, payload []byte) {
		pt := specPlaintext(fuzzNow.Unix()-60, fuzzNow.Add(time.Hour).Unix(), payload)
		header := "session=" + specSealKind(primaryID, 0, kindSession, pt, "session")
		want := specPayload(payload, maxPayload, cs.DefaultMaxCompressionRatio, fuzzNow.Unix())
		if len(payload) > maxPayload {
			want = specSession{err: cs.ErrTooLarge} // the text is too long to open
		}
		s, err := m.LoadHeader(ctx, header)
		if want.err != nil {
			if err == nil {
				t.Fatalf("LoadHeader of payload %x: loaded, want error wrapping %v", payload, want.err)
			}
			if got := soleSentinel(t, "LoadHeader", err, openSentinels); got != want.err {
				t.Fatalf("LoadHeader of payload %x: error %v, want one wrapping %v", payload, err, want.err)
			}
			if !s.IsNew() || s.Len() != 0 {
				t.Fatalf("LoadHeader: error %v with a session that is not new and empty", err)
			}
			return
		}
		if err != nil || s.IsNew() {
			t.Fatalf("LoadHeader of payload %x: error %v, new %v; want it loaded", payload, err, s.IsNew())
		}
		checkSpecSession(t, "loaded", s, want)

		// Sealed again (SaveEveryRequest), it loads back to the same.
		lines, err := m.SetCookieHeaders(s)
		if err != nil {
			if !errors.Is(err, cs.ErrTooLarge) {
				t.Fatalf("SetCookieHeaders: %v", err)
			}
			return
		}
		var set []string
		for _, l := range lines {
			c, err := http.ParseSetCookie(l)
			if err != nil {
				t.Fatalf("ParseSetCookie(%.60q): %v", l, err)
			}
			if c.MaxAge >= 0 {
				set = append(set, c.Name+"="+c.Value)
			}
		}
		if len(set) == 0 {
			return // deleted: the session's deadline has passed
		}
		back, err := m.LoadHeader(ctx, strings.Join(set, "; "))
		if err != nil || back.IsNew() {
			t.Fatalf("the session sealed again does not load: %v", err)
		}
		checkSpecSession(t, "sealed again", back, want)
	})
}

// checkSpecSession compares a loaded session with the spec decoder's.
func checkSpecSession(t *testing.T, what string, s *cs.Session, want specSession) {
	t.Helper()
	if got := s.ID(); got != hex.EncodeToString(want.id[:]) {
		t.Fatalf("%s: ID %s, want %x", what, got, want.id)
	}
	if got := s.Subject(); got != want.subject {
		t.Fatalf("%s: subject %q, want %q", what, got, want.subject)
	}
	var keys []string
	for _, e := range want.entries {
		keys = append(keys, e.key)
	}
	if got := s.Keys(); !slices.Equal(keys, got) {
		t.Fatalf("%s: keys %q, want %q", what, got, keys)
	}
	for _, e := range want.entries {
		got, ok, err := cs.Get[[]byte](s, e.key)
		switch {
		case !ok:
			t.Fatalf("%s: key %q missing", what, e.key)
		case e.err != nil:
			if soleSentinel(t, "Get", err, openSentinels) != e.err {
				t.Fatalf("%s: Get(%q): error %v, want one wrapping %v", what, e.key, err, e.err)
			}
		case err != nil:
			t.Fatalf("%s: Get(%q): %v", what, e.key, err)
		case !bytes.Equal(got, e.value):
			t.Fatalf("%s: Get(%q) = %q, want %q", what, e.key, got, e.value)
		}
	}
}
