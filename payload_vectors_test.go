package cookiesession

import (
	"bytes"
	stdcmp "cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The session payload vectors (SPEC.md §13) in testdata/payload_vectors.json:
// payloads as the codec returns them once a session value is opened, and
// what a decoder makes of each. Like the codec vectors, they are made by
// genPayloadVectors, checked by TestPayloadVectorsUpToDate, and rewritten
// with -update.
const payloadVectorsFile = "testdata/payload_vectors.json"

type payloadVectorFile struct {
	Format    string          `json:"format"`
	Generator string          `json:"generator"`
	Notes     []string        `json:"notes"`
	Vectors   []payloadVector `json:"vectors"`
}

// payloadVector is one payload and either the session it decodes to or
// the error.
type payloadVector struct {
	Description string       `json:"description"`
	MaxValues   int          `json:"max_values"`
	MaxRatio    int          `json:"max_ratio"`
	PayloadHex  string       `json:"payload_hex"`
	Session     *vectorState `json:"session,omitempty"`
	Error       string       `json:"error,omitempty"`
}

// vectorState is a decoded session payload.
type vectorState struct {
	ID       string `json:"id"`
	Created  int64  `json:"created"`
	Deadline int64  `json:"deadline"`
	Explicit bool   `json:"explicit,omitempty"`
	Browser  bool   `json:"browser_close,omitempty"`
	Idle     int64  `json:"idle,omitempty"`
	NoIdle   bool   `json:"no_idle,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Login    int64  `json:"login_ns,omitempty"`
	Checked  int64  `json:"checked_ns,omitempty"`
	// DeviceKey is the bound device key (flags bit 6), x || y in hex.
	DeviceKey string        `json:"device_key,omitempty"`
	Entries   []vectorEntry `json:"entries"`
}

// vectorEntry is one session value: its key and value as text when they
// are UTF-8, otherwise in hexadecimal; whether it is stored compressed; and
// the error that reading it gives, for a compressed value that does not
// inflate as it says.
type vectorEntry struct {
	Key        string `json:"key,omitempty"`
	KeyHex     string `json:"key_hex,omitempty"`
	Value      string `json:"value,omitempty"`
	ValueHex   string `json:"value_hex,omitempty"`
	Compressed bool   `json:"compressed,omitempty"`
	Error      string `json:"error,omitempty"`
}

// textOrHex returns b as text if it is UTF-8, and otherwise as hex.
func textOrHex(b []byte) (text, hx string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return "", hex.EncodeToString(b)
}

// bytesOf undoes textOrHex.
func bytesOf(text, hx string) []byte {
	if hx != "" {
		b, _ := hex.DecodeString(hx)
		return b
	}
	return []byte(text)
}

// pe is one entry of a hand-made payload: method 0 stores value as it is;
// method 1 states inflated and stores value (a DEFLATE stream).
type pe struct {
	key      string
	method   byte
	inflated uint64
	value    []byte
}

func plainEntry(k, v string) pe { return pe{key: k, value: []byte(v)} }

// deflated returns the entry of key holding v compressed.
func deflated(t testing.TB, key string, v []byte) pe {
	return pe{key, entryDeflate, uint64(len(v)), deflate(t, v)}
}

// payloadHead is the fixed part of the vector payloads.
type payloadHead struct {
	version, flags    byte
	created, deadline int64
	idle              uint64 // written if flags has payloadIdle
}

var vHead = payloadHead{payloadVersion, 0, t0, t0 + 14*24*3600, 0}

// vID is the session ID of the vector payloads.
var vID = func() (id [16]byte) {
	for i := range id {
		id[i] = byte(0xa0 + i)
	}
	return id
}()

// vDeviceKey is the device key of the bound vector payloads: a P-256
// public key, x || y (the payload does not check the point; the verifier
// checked it at registration).
var vDeviceKey = func() (k [64]byte) {
	for i := range k {
		k[i] = byte(0x10 + i)
	}
	return k
}()

// encode writes a payload field by field from SPEC.md §13, checking
// nothing, so that it can write what the package never would.
func (h payloadHead) encode(entries ...pe) []byte { return h.encodeWith(nil, entries...) }

// encodeWith is encode with the fields that follow the idle timeout (the
// subject's, SPEC.md §13.2) given as bytes.
func (h payloadHead) encodeWith(extra []byte, entries ...pe) []byte {
	p := append([]byte{h.version}, vID[:]...)
	p = binary.BigEndian.AppendUint64(p, uint64(h.created))
	p = binary.BigEndian.AppendUint64(p, uint64(h.deadline))
	p = append(p, h.flags)
	if h.flags&payloadIdle != 0 {
		p = binary.AppendUvarint(p, h.idle)
	}
	p = append(p, extra...)
	if h.flags&payloadBound != 0 {
		p = append(p, vDeviceKey[:]...)
	}
	p = binary.AppendUvarint(p, uint64(len(entries)))
	for _, e := range entries {
		p = binary.AppendUvarint(p, uint64(len(e.key)))
		p = append(p, e.key...)
		p = append(p, e.method)
		if e.method == entryDeflate {
			p = binary.AppendUvarint(p, e.inflated)
		}
		p = binary.AppendUvarint(p, uint64(len(e.value)))
		p = append(p, e.value...)
	}
	return p
}

// describe is the session a valid payload of h and entries decodes to.
// values holds each entry's value, inflated; lazy the error of each entry
// that does not inflate.
func (h payloadHead) describe(values []string, lazy map[int]string, entries ...pe) *vectorState {
	st := &vectorState{ID: hex.EncodeToString(vID[:]), Created: h.created, Deadline: h.deadline,
		Explicit: h.flags&payloadExplicit != 0, Browser: h.flags&payloadBrowser != 0, Idle: int64(h.idle),
		NoIdle: h.flags&payloadNoIdle != 0, Entries: []vectorEntry{}}
	if h.flags&payloadBound != 0 {
		st.DeviceKey = hex.EncodeToString(vDeviceKey[:])
	}
	for i, e := range entries {
		ve := vectorEntry{Compressed: e.method == entryDeflate, Error: lazy[i]}
		ve.Key, ve.KeyHex = textOrHex([]byte(e.key))
		if ve.Error == "" {
			ve.Value, ve.ValueHex = textOrHex([]byte(values[i]))
		}
		st.Entries = append(st.Entries, ve)
	}
	return st
}

func genPayloadVectors(t testing.TB) payloadVectorFile {
	var vs []payloadVector
	add := func(desc string, max int, p []byte, st *vectorState, errName string) {
		vs = append(vs, payloadVector{Description: desc, MaxValues: stdcmp.Or(max, DefaultMaxSessionSize),
			MaxRatio: DefaultMaxCompressionRatio, PayloadHex: hex.EncodeToString(p), Session: st, Error: errName})
	}
	// ok adds a payload of plain and compressed entries that decodes.
	ok := func(desc string, h payloadHead, max int, values []string, entries ...pe) {
		add(desc, max, h.encode(entries...), h.describe(values, nil, entries...), "")
	}
	fail := func(desc string, p []byte, errName string) { add(desc, 0, p, nil, errName) }

	cart := []byte(`[` + strings.Repeat(`{"sku":"TEA-0042","qty":1,"price_cents":1299},`, 30) + `{"sku":"MUG-0007","qty":2,"price_cents":899}]`)
	csrf, uid := `"9f86d081884c7d659a2feaa0c55ad015"`, `1042`
	long := `"` + strings.Repeat("x", 198) + `"`

	// The package's own encoding of a session.
	st := vectorSession()
	st.values.set("cart", cart)
	own, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	i, _ := st.values.find("cart")
	ownCart := pe{"cart", entryDeflate, uint64(len(cart)), st.values[i].z}
	if !bytes.Equal(own, vHead.encode(ownCart, plainEntry("csrf", csrf), plainEntry("uid", uid))) {
		t.Fatal("the package's payload differs from the one encoded field by field")
	}

	ok("no entries", vHead, 0, nil)
	ok("two values stored as they are", vHead, 0, []string{csrf, uid}, plainEntry("csrf", csrf), plainEntry("uid", uid))
	ok("its own expiry (flag bit 0)", payloadHead{payloadVersion, payloadExplicit, t0, t0 + 3600, 0}, 0, []string{uid}, plainEntry("uid", uid))
	ok("its own expiry, at browser close, with an idle timeout of 90 s (flags 0x07)", payloadHead{payloadVersion, 0x07, t0, t0 + 3600, 90}, 0,
		[]string{uid}, plainEntry("uid", uid))
	ok("its own expiry with no idle timeout at all (flags 0x09)", payloadHead{payloadVersion, 0x09, t0, t0 + 3600, 0}, 0,
		[]string{uid}, plainEntry("uid", uid))
	ok("a device-bound session (flag bit 6): the key, x || y, follows the flags", payloadHead{payloadVersion, payloadBound, t0, t0 + 3600, 0}, 0,
		[]string{uid}, plainEntry("uid", uid))
	ok("its own idle timeout and a device key (flags 0x45): the timeout first", payloadHead{payloadVersion, 0x45, t0, t0 + 3600, 90}, 0,
		[]string{uid}, plainEntry("uid", uid))
	ok("its own idle timeout of 400 days, a uvarint of 4 bytes", payloadHead{payloadVersion, 0x05, t0, t0 + 3600, maxCookieAge}, 0, nil)
	ok("a cart compressed (as the package writes it), a token and an ID as they are", vHead, 0,
		[]string{string(cart), csrf, uid}, ownCart, plainEntry("csrf", csrf), plainEntry("uid", uid))
	ok("a cart compressed by another DEFLATE encoder", vHead, 0, []string{string(cart)}, deflated(t, "cart", cart))
	ok("a short value compressed: the threshold is the writer's choice, not the format's", vHead, 0,
		[]string{long}, deflated(t, "note", []byte(long)))
	ok("keys in byte order: \"B\" < \"a\" < \"é\"", vHead, 0, []string{"1", "2", "3"},
		plainEntry("B", "1"), plainEntry("a", "2"), plainEntry("é", "3"))
	ok("the empty key, and a key that is not UTF-8", vHead, 0, []string{"1", "2"}, plainEntry("", "1"), plainEntry("\xff\xfe", "2"))
	ok("a value that is not UTF-8", vHead, 0, []string{"\x00\xff"}, plainEntry("raw", "\x00\xff"))
	ok("a value of 200 bytes: its length is a uvarint of 2 bytes", vHead, 0, []string{long}, plainEntry("long", long))
	ok("values that inflate to exactly max_values (64)", vHead, 64, []string{strings.Repeat("a", 30), strings.Repeat("b", 34)},
		plainEntry("a", strings.Repeat("a", 30)), deflated(t, "b", bytes.Repeat([]byte("b"), 34)))
	// The shortest run of "r" that DEFLATE stores in exactly a 32nd of its length.
	var ratioZ []byte
	for n := 32; ratioZ == nil; n++ {
		if z := deflate(t, bytes.Repeat([]byte("r"), n)); 32*len(z) == n {
			ratioZ = z
		}
	}
	ok("a value that inflates to exactly max_ratio (32) times its stored length", vHead, 0,
		[]string{strings.Repeat("r", 32*len(ratioZ))}, pe{"r", entryDeflate, uint64(32 * len(ratioZ)), ratioZ})
	ok("times at the limits: 0 and the end of year 9999", payloadHead{payloadVersion, 0, 0, maxUnixTime, 0}, 0, nil)

	// SPEC.md §13.4, step 7: count is at most a third of the bytes after
	// it. At the bound the entries are read (and here the first has an
	// unknown method); one past it, the count itself is malformed.
	ok("count at the bound: 1 entry in 3 bytes (the empty key, an empty value)", vHead, 0, []string{""}, plainEntry("", ""))
	counted := func(count uint64, body []byte) []byte {
		p := vHead.encode()
		p = binary.AppendUvarint(p[:len(p)-1], count) // replace count 0
		return append(p, body...)
	}
	unknownFirst := func(n int) []byte { return append([]byte{0, 2}, make([]byte, n-2)...) } // key "", method 2
	fail("count at the bound: 100 in 300 bytes, read until the first entry's unknown method", counted(100, unknownFirst(300)), "ErrUnsupportedVersion")
	fail("count at the bound: 200 (a uvarint of 2 bytes) in 600 bytes, read until the first entry's unknown method", counted(200, unknownFirst(600)), "ErrUnsupportedVersion")
	fail("count one past the bound: 101 in 302 bytes", counted(101, unknownFirst(302)), "ErrMalformed")
	fail("count one past the bound: 201 in 602 bytes", counted(201, unknownFirst(602)), "ErrMalformed")
	addSubjectVectors(t, add, fail)

	// Compressed values are checked when read: the payload decodes, and
	// reading the value fails.
	lazy := func(desc string, z []byte, inflated uint64) {
		entries := []pe{plainEntry("a", "1"), {"z", entryDeflate, inflated, z}}
		add(desc, 0, vHead.encode(entries...), vHead.describe([]string{"1", ""}, map[int]string{1: "ErrMalformed"}, entries...), "")
	}
	lazy("a compressed value whose DEFLATE stream is invalid: malformed when read", []byte{0xff, 0xff, 0xff}, 8)
	lazy("a compressed value that inflates to fewer bytes than it states", deflate(t, bytes.Repeat([]byte("z"), 40)), 41)
	lazy("a compressed value that inflates to more bytes than it states", deflate(t, bytes.Repeat([]byte("z"), 40)), 39)
	lazy("a compressed value with a byte after its DEFLATE stream", append(deflate(t, bytes.Repeat([]byte("z"), 40)), 0), 40)

	one := vHead.encode(plainEntry("a", "1"))
	edit := func(p []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(p)) }
	fail("empty", nil, "ErrMalformed")
	fail("version 1 (the payload before this one)", edit(one, func(b []byte) []byte { b[0] = 1; return b }), "ErrUnsupportedVersion")
	fail("version 3, one byte: the version is checked before the length", []byte{3}, "ErrUnsupportedVersion")
	fail("34 bytes: no count", one[:34], "ErrMalformed")
	fail("a reserved flag bit (7)", payloadHead{payloadVersion, 0x81, t0, t0, 0}.encode(), "ErrUnsupportedVersion")
	fail("flag bit 3 without bit 0", payloadHead{payloadVersion, 0x08, t0, t0, 0}.encode(), "ErrUnsupportedVersion")
	fail("flag bits 2 and 3 together: an idle timeout and none", payloadHead{payloadVersion, 0x0d, t0, t0, 90}.encode(), "ErrUnsupportedVersion")
	fail("flag bit 1 without bit 0", payloadHead{payloadVersion, 0x02, t0, t0, 0}.encode(), "ErrUnsupportedVersion")
	fail("flag bit 2 without bit 0", payloadHead{payloadVersion, 0x04, t0, t0, 90}.encode(), "ErrUnsupportedVersion")
	fail("a reserved flag bit and created < 0: the flags are checked first", payloadHead{payloadVersion, 0x80, -1, t0, 0}.encode(), "ErrUnsupportedVersion")
	fail("created before 1970", payloadHead{payloadVersion, 0, -1, t0, 0}.encode(), "ErrMalformed")
	fail("deadline after year 9999", payloadHead{payloadVersion, 0, t0, maxUnixTime + 1, 0}.encode(), "ErrMalformed")
	fail("an idle timeout of 0", payloadHead{payloadVersion, 0x05, t0, t0, 0}.encode(), "ErrMalformed")
	fail("an idle timeout over 400 days", payloadHead{payloadVersion, 0x05, t0, t0, maxCookieAge + 1}.encode(), "ErrMalformed")
	fail("an idle timeout as an overlong uvarint", slices.Concat(vHead.encode()[:33], []byte{0x05, 0xda, 0x00, 0}), "ErrMalformed")
	fail("an idle timeout cut short", slices.Concat(vHead.encode()[:33], []byte{0x05, 0xda}), "ErrMalformed")
	fail("a device key cut short", slices.Concat(vHead.encode()[:33], []byte{payloadBound}, vDeviceKey[:63]), "ErrMalformed")
	fail("flag bit 6 without a key, with bits 1 and 2 but not 0", payloadHead{payloadVersion, 0x46, t0, t0, 90}.encode(), "ErrUnsupportedVersion")
	fail("the count as an overlong uvarint (0x80 0x00 for 0)", append(vHead.encode()[:34], 0x80, 0x00), "ErrMalformed")
	fail("the count cut short", append(vHead.encode()[:34], 0x80), "ErrMalformed")
	fail("the count as 11 bytes", append(vHead.encode()[:34], append(bytes.Repeat([]byte{0x80}, 10), 0x01)...), "ErrMalformed")
	fail("a count past 2^64-1", append(vHead.encode()[:34], append(bytes.Repeat([]byte{0xff}, 9), 0x02)...), "ErrMalformed")
	fail("a count larger than a third of the bytes left", edit(one, func(b []byte) []byte { b[34] = 2; return b }), "ErrMalformed")
	fail("a count of 2 with one entry, then two zero bytes", append(edit(one, func(b []byte) []byte { b[34] = 2; return b }), 0, 0), "ErrMalformed")
	fail("a key length past the end", edit(one, func(b []byte) []byte { b[35] = 9; return b }), "ErrMalformed")
	fail("a key length as an overlong uvarint", slices.Concat(one[:35], []byte{0x81, 0x00}, one[36:]), "ErrMalformed")
	fail("no method byte", slices.Concat(vHead.encode()[:34], []byte{1, 1, 'a'}), "ErrMalformed")
	fail("method 2", vHead.encode(pe{"a", 2, 0, []byte("1")}), "ErrUnsupportedVersion")
	fail("method 2, and nothing after it: fields are checked in order", slices.Concat(vHead.encode()[:34], []byte{1, 1, 'a', 2}), "ErrUnsupportedVersion")
	fail("keys out of order, then method 2: the key is checked before the method", vHead.encode(plainEntry("b", "1"), pe{"a", 2, 0, []byte("1")}), "ErrMalformed")
	fail("keys out of order", vHead.encode(plainEntry("b", "1"), plainEntry("a", "2")), "ErrMalformed")
	fail("a duplicate key", vHead.encode(plainEntry("a", "1"), plainEntry("a", "2")), "ErrMalformed")
	fail("method 1 with no inflated length", slices.Concat(vHead.encode()[:34], []byte{1, 1, 'a', 1}), "ErrMalformed")
	fail("an inflated length as an overlong uvarint", slices.Concat(vHead.encode()[:34], []byte{1, 1, 'a', 1, 0x85, 0x00, 1, 0}), "ErrMalformed")
	fail("a value length past the end", edit(one, func(b []byte) []byte { b[len(b)-2] = 2; return b }), "ErrMalformed")
	fail("a value length as an overlong uvarint", slices.Concat(one[:len(one)-2], []byte{0x81, 0x00}, one[len(one)-1:]), "ErrMalformed")
	fail("a compressed value not shorter than it states", vHead.encode(pe{"a", entryDeflate, 3, deflate(t, []byte("abc"))}), "ErrMalformed")
	fail("a byte after the last entry", append(bytes.Clone(one), 0), "ErrMalformed")
	bomb := deflate(t, bytes.Repeat([]byte("b"), 65))
	add("values that inflate to over max_values (64), before any inflation", 64,
		vHead.encode(plainEntry("a", "1"), pe{"b", entryDeflate, 64, bomb}), nil, "ErrTooLarge")
	add("a compressed value that states one byte more than max_ratio (32) times its stored length, before any inflation", 0,
		vHead.encode(pe{"r", entryDeflate, uint64(32*len(ratioZ) + 1), ratioZ}), nil, "ErrTooLarge")
	add("an empty compressed value: over any ratio", 0,
		vHead.encode(plainEntry("a", "1"), pe{"z", entryDeflate, 1, []byte{}}), nil, "ErrTooLarge")
	add("a value that states 2^64-1 bytes", 0, vHead.encode(pe{"b", entryDeflate, 1<<64 - 1, bomb}), nil, "ErrTooLarge")
	add("over max_values, and a byte after the last entry: the layout is checked first", 64,
		append(vHead.encode(pe{"b", entryDeflate, 65, bomb}), 0), nil, "ErrMalformed")

	return payloadVectorFile{
		Format:    "cookiesession session payload, version 2 (SPEC.md section 13)",
		Generator: "go test -run TestPayloadVectorsUpToDate -update",
		Notes: []string{
			"Decode the bytes of 'payload_hex' (lowercase hexadecimal) as a session payload with max_values 'max_values' (bytes) and max_ratio 'max_ratio'.",
			"If 'error' is present, decoding fails with that error, named by its Go sentinel (SPEC.md sections 9 and 13).",
			"Otherwise it gives 'session': 'id' in hexadecimal, 'created' and 'deadline' in Unix seconds, 'explicit', 'browser_close', 'idle' (seconds; absent: none of its own) and 'no_idle' (flags bit 3: no idle timeout at all) from the flags, 'subject', 'login_ns' and 'checked_ns' (Unix nanoseconds; flags bits 4 and 5; absent: none), 'device_key' (flags bit 6: x || y in hexadecimal; absent: unbound), and the entries in order.",
			"An entry's key and value are given as 'key' and 'value', UTF-8 text, when they are valid UTF-8; otherwise as 'key_hex' and 'value_hex'. An absent key or value (with no _hex form) is empty. The value is the one read: inflated if 'compressed'.",
			"An entry with 'error' decodes, but reading its value fails with that error: a decoder that inflates every value at once fails the whole payload with it.",
			"An absent boolean means false.",
		},
		Vectors: vs,
	}
}

func TestPayloadVectorsUpToDate(t *testing.T) {
	checkVectorFile(t, payloadVectorsFile, encodeVectors(t, genPayloadVectors(t)), *update, "-update")
}

// describeState is the vector form of st: each value inflated, or the
// error that reading it gives.
func describeState(st *state) *vectorState {
	vs := &vectorState{ID: hex.EncodeToString(st.id[:]), Created: st.created, Deadline: st.deadline,
		Explicit: st.explicit, Browser: st.browserClose, Idle: st.idle, NoIdle: st.noIdle,
		Subject: st.subject, Login: st.login, Checked: st.checked, Entries: []vectorEntry{}}
	if st.bound {
		vs.DeviceKey = hex.EncodeToString(st.devKey[:])
	}
	for i := range st.values {
		e := &st.values[i]
		ve := vectorEntry{Compressed: e.z != nil}
		ve.Key, ve.KeyHex = textOrHex([]byte(e.key))
		v, err := e.value()
		if err != nil {
			ve.Error = sentinelName(err)
		} else {
			ve.Value, ve.ValueHex = textOrHex(v)
		}
		vs.Entries = append(vs.Entries, ve)
	}
	return vs
}

// checkVectorState compares a decoded session with a vector's.
func checkVectorState(t *testing.T, st *state, want *vectorState) {
	t.Helper()
	got := *describeState(st)
	// The vector's own text and hex forms, normalized the same way.
	norm := *want
	norm.Entries = nil
	for _, e := range want.Entries {
		e.Key, e.KeyHex = textOrHex(bytesOf(e.Key, e.KeyHex))
		if e.Error == "" {
			e.Value, e.ValueHex = textOrHex(bytesOf(e.Value, e.ValueHex))
		}
		norm.Entries = append(norm.Entries, e)
	}
	if norm.Entries == nil {
		norm.Entries = []vectorEntry{}
	}
	if diff := cmp.Diff(norm, got); diff != "" {
		t.Fatalf("session (-want +got):\n%s", diff)
	}
}

// sentinelName returns the name of the one sentinel err wraps, or its text.
func sentinelName(err error) string {
	for name, s := range sentinels {
		if errors.Is(err, s) && wrapsOne(err) {
			return name
		}
	}
	return err.Error()
}

// TestPayloadVectors decodes every vector in testdata/payload_vectors.json,
// reading only the file.
func TestPayloadVectors(t *testing.T) {
	var f payloadVectorFile
	readVectorFile(t, payloadVectorsFile, &f)
	if len(f.Vectors) < 40 {
		t.Fatalf("only %d vectors in %s", len(f.Vectors), payloadVectorsFile)
	}
	for _, v := range f.Vectors {
		t.Run(v.Description, func(t *testing.T) {
			p, err := hex.DecodeString(v.PayloadHex)
			if err != nil {
				t.Fatal(err)
			}
			var st state
			err = st.decodePayload(p, v.MaxValues, v.MaxRatio)
			if v.Error != "" {
				if err == nil || sentinelName(err) != v.Error {
					t.Fatalf("decode: error %v, want %s", err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkVectorState(t, &st, v.Session)
		})
	}
}

// vectorSession returns the small session of the codec and cookie vectors:
// the vector ID and times, a CSRF token and a user ID.
func vectorSession() state {
	st := state{id: vID, hasID: true, created: vHead.created, deadline: vHead.deadline}
	st.values.set("csrf", []byte(`"9f86d081884c7d659a2feaa0c55ad015"`))
	st.values.set("uid", []byte(`1042`))
	return st
}

// vectorPayload returns the payload of vectorSession.
func vectorPayload(t testing.TB) []byte {
	st := vectorSession()
	p, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
