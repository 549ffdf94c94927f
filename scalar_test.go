package cookiesession

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
)

// The typed fast paths of scalar.go must give exactly what encoding/json
// gives. Every check here runs the fast path and encoding/json side by side
// and compares: the value, and whether there is an error (an error always
// comes from the fallback, so it is encoding/json's own).

// scalarKinds names the types with a fast path, in the order checkAllDecode
// runs them.
var scalarKinds = []string{
	"string", "bool",
	"int", "int8", "int16", "int32", "int64",
	"uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
	"float32", "float64",
}

// jsonCodec is a codec with the default serializer, whose fast paths are on.
func jsonCodec(tb testing.TB) *Codec {
	tb.Helper()
	kr, err := NewKeyring(testKey(tb, 1, 1))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := NewCodec(kr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// checkDecode compares unmarshalValue[T] and the bare fast path with
// json.Unmarshal on raw, and reports whether the fast path decided.
func checkDecode[T comparable](tb testing.TB, c *Codec, raw []byte) bool {
	tb.Helper()
	var want T
	wantErr := json.Unmarshal(raw, &want)
	got, err := unmarshalValue[T](c, raw)
	if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
		tb.Fatalf("%T from %q: error %v, encoding/json %v", want, raw, err, wantErr)
	}
	if wantErr == nil && !sameScalar(got, want) {
		tb.Fatalf("%T from %q: %#v, encoding/json %#v", want, raw, got, want)
	}
	var probe T
	fast := decodeScalar(raw, &probe)
	if fast && wantErr != nil {
		tb.Fatalf("%T from %q: the fast path accepted what encoding/json rejects (%v)", want, raw, wantErr)
	}
	if fast && !sameScalar(probe, want) {
		tb.Fatalf("%T from %q: fast path %#v, encoding/json %#v", want, raw, probe, want)
	}
	return fast
}

// sameScalar compares two values of one type, telling -0 from 0.
func sameScalar[T comparable](a, b T) bool {
	return a == b && fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// checkAllDecode runs checkDecode for every kind with a fast path, and
// returns the kinds the fast path decided.
func checkAllDecode(tb testing.TB, c *Codec, raw []byte) []string {
	tb.Helper()
	fast := []bool{
		checkDecode[string](tb, c, raw), checkDecode[bool](tb, c, raw),
		checkDecode[int](tb, c, raw), checkDecode[int8](tb, c, raw), checkDecode[int16](tb, c, raw),
		checkDecode[int32](tb, c, raw), checkDecode[int64](tb, c, raw),
		checkDecode[uint](tb, c, raw), checkDecode[uint8](tb, c, raw), checkDecode[uint16](tb, c, raw),
		checkDecode[uint32](tb, c, raw), checkDecode[uint64](tb, c, raw), checkDecode[uintptr](tb, c, raw),
		checkDecode[float32](tb, c, raw), checkDecode[float64](tb, c, raw),
	}
	var kinds []string
	for i, f := range fast {
		if f {
			kinds = append(kinds, scalarKinds[i])
		}
	}
	return kinds
}

// checkEncode compares encodeScalar with JSONSerializer.Marshal, whose
// pooled encoder is reflection, on v, and reports whether the fast path
// decided. What the fast path writes must decode, on the fast path, to v.
func checkEncode[T comparable](tb testing.TB, c *Codec, v T) bool {
	tb.Helper()
	want, wantErr := JSONSerializer{}.Marshal(v)
	got, err := c.marshalValue(v)
	if (err != nil) != (wantErr != nil) || string(got) != string(want) {
		tb.Fatalf("%T %#v: marshalValue %q, %v; encoding/json %q, %v", v, v, got, err, want, wantErr)
	}
	fast, ok := encodeScalar(v)
	if !ok {
		return false
	}
	if wantErr != nil || string(fast) != string(want) {
		tb.Fatalf("%T %#v: fast path %q, encoding/json %q, %v", v, v, fast, want, wantErr)
	}
	var back T
	if !decodeScalar(fast, &back) || !sameScalar(back, v) {
		tb.Fatalf("%T %#v: fast path wrote %q, which reads back as %#v", v, v, fast, back)
	}
	return true
}

var (
	intKinds   = []string{"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32", "float64"}
	floatKinds = []string{"float32", "float64"}
)

// kindsExcept returns intKinds without the kinds named.
func kindsExcept(drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(intKinds), func(k string) bool { return slices.Contains(drop, k) })
}

func TestDecodeScalarMatchesJSON(t *testing.T) {
	c := jsonCodec(t)
	signed := []string{"int", "int8", "int16", "int32", "int64", "float32", "float64"}
	tests := []struct {
		raw  string
		fast []string // the kinds the fast path must decide on its own
	}{
		// Strings: plain ones are fast; anything with an escape, a control
		// character or invalid UTF-8 is encoding/json's.
		{`"q3Vd8-LrT0xZ1mKcW_7bNf4pYhA2sEjG9uOiR6tXlCk"`, []string{"string"}},
		{`""`, []string{"string"}},
		{`"héllo wörld ✓ 😀"`, []string{"string"}},
		{`"<a href='x'>&amp;</a>"`, []string{"string"}},
		{"\"del\x7f\"", []string{"string"}},
		{`"a\"b"`, nil},
		{`"a\\b"`, nil},
		{`"a\nb"`, nil},
		{`"\u00e9\ud83d\ude00"`, nil},
		{`"\ud800"`, nil}, // a lone surrogate: U+FFFD
		{"\"tab\there\"", nil},
		{"\"bad \xff utf-8\"", nil},
		{"\"surrogate \xed\xa0\x80 in utf-8\"", nil},
		{`"unterminated`, nil},
		{`"a"b"`, nil},
		{`"`, nil},
		{` "padded"`, nil},
		// Booleans and null.
		{`true`, []string{"bool"}},
		{`false`, []string{"bool"}},
		{`null`, scalarKinds},
		{`True`, nil},
		{`true `, nil},
		{`nul`, nil},
		// Integers fit some kinds and not others; the rest is an error.
		{`0`, intKinds},
		{`-0`, signed},
		{`7`, intKinds},
		{`48213977`, kindsExcept("int8", "int16", "uint8", "uint16")},
		{`-1`, signed},
		{`127`, intKinds},
		{`128`, kindsExcept("int8")},
		{`-128`, signed},
		{`-129`, kindsExcept("int8", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr")},
		{`255`, kindsExcept("int8")},
		{`256`, kindsExcept("int8", "uint8")},
		{`65535`, kindsExcept("int8", "int16", "uint8")},
		{`2147483647`, kindsExcept("int8", "int16", "uint8", "uint16")},
		{`2147483648`, kindsExcept("int8", "int16", "int32", "uint8", "uint16")},
		{`4294967296`, kindsExcept("int8", "int16", "int32", "uint8", "uint16", "uint32")},
		{`9007199254740993`, kindsExcept("int8", "int16", "int32", "uint8", "uint16", "uint32")},
		{`9223372036854775807`, kindsExcept("int8", "int16", "int32", "uint8", "uint16", "uint32")},
		{`-9223372036854775808`, []string{"int", "int64", "float32", "float64"}},
		{`9223372036854775808`, []string{"uint", "uint64", "uintptr", "float32", "float64"}},
		{`18446744073709551615`, []string{"uint", "uint64", "uintptr", "float32", "float64"}},
		{`18446744073709551616`, floatKinds},
		{`123456789012345678901234567890`, floatKinds},
		{`01`, nil},
		{`-`, nil},
		{`+1`, nil},
		{`1_000`, nil},
		{`0x10`, nil},
		{` 1`, nil},
		{`1 `, nil},
		// Numbers with a fraction or an exponent are floats only.
		{`1.0`, floatKinds},
		{`1e3`, floatKinds},
		{`-2.5E-3`, floatKinds},
		{`0.1`, floatKinds},
		{`1e400`, nil},
		{`1e39`, []string{"float64"}},
		{`4.9e-324`, floatKinds},
		{`1e-400`, floatKinds},
		{`1.`, nil},
		{`.5`, nil},
		{`1e`, nil},
		{`1e+`, nil},
		{`NaN`, nil},
		{`Infinity`, nil},
		// Not scalars at all.
		{`[]`, nil},
		{`{"a":1}`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got := checkAllDecode(t, c, []byte(tt.raw))
		if !slices.Equal(got, tt.fast) {
			t.Errorf("%q: fast path decided %v, want %v", tt.raw, got, tt.fast)
		}
	}
}

func TestEncodeScalarMatchesJSON(t *testing.T) {
	c := jsonCodec(t)
	tests := []struct {
		v    any
		fast bool
	}{
		{"q3Vd8-LrT0xZ1mKcW_7bNf4pYhA2sEjG9uOiR6tXlCk", true},
		{"", true},
		{"héllo ✓ 😀 <b>&</b>", true},
		{"del\x7f", true},
		{`a"b`, false},
		{`a\b`, false},
		{"a\nb", false},
		{"\x00", false},
		{"bad \xff", false},
		{"line\u2028sep", false},
		{"para\u2029sep", false},
		{true, true},
		{false, true},
		{0, true},
		{-42, true},
		{math.MaxInt64, true},
		{int8(math.MinInt8), true},
		{int16(-300), true},
		{int32(math.MaxInt32), true},
		{int64(math.MinInt64), true},
		{uint(7), true},
		{uint8(255), true},
		{uint16(65535), true},
		{uint32(math.MaxUint32), true},
		{uint64(math.MaxUint64), true},
		{uintptr(12), true},
		{0.0, true},
		{math.Copysign(0, -1), true},
		{1.5, true},
		{-0.1, true},
		{1e20, true},
		{123456789.125, true},
		{1e-6, true},
		{float32(0.1), true},
		{float32(16777217), true},
		{float32(1e20), true},
		{1e21, false},
		{1e-7, false},
		{math.MaxFloat64, false},
		{math.SmallestNonzeroFloat64, false},
		{math.Inf(1), false},
		{math.NaN(), false},
		{float32(1e-7), false},
		{[]int{1}, false},
		{json.RawMessage(`1`), false},
		{nil, false},
	}
	for _, tt := range tests {
		var fast bool
		switch v := tt.v.(type) {
		case string:
			fast = checkEncode(t, c, v)
		case bool:
			fast = checkEncode(t, c, v)
		case int:
			fast = checkEncode(t, c, v)
		case int8:
			fast = checkEncode(t, c, v)
		case int16:
			fast = checkEncode(t, c, v)
		case int32:
			fast = checkEncode(t, c, v)
		case int64:
			fast = checkEncode(t, c, v)
		case uint:
			fast = checkEncode(t, c, v)
		case uint8:
			fast = checkEncode(t, c, v)
		case uint16:
			fast = checkEncode(t, c, v)
		case uint32:
			fast = checkEncode(t, c, v)
		case uint64:
			fast = checkEncode(t, c, v)
		case uintptr:
			fast = checkEncode(t, c, v)
		case float32:
			fast = checkEncode(t, c, v)
		case float64:
			fast = checkEncode(t, c, v)
		default:
			want, wantErr := JSONSerializer{}.Marshal(v)
			got, err := c.marshalValue(v)
			if string(got) != string(want) || (err == nil) != (wantErr == nil) {
				t.Errorf("%#v: marshalValue %q, %v; encoding/json %q, %v", v, got, err, want, wantErr)
			}
			_, fast = encodeScalar(v)
		}
		if fast != tt.fast {
			t.Errorf("%T %#v: fast path decided: %v, want %v", tt.v, tt.v, fast, tt.fast)
		}
	}
}

// TestEncodeRawMessageMatchesJSON checks that Set of a json.RawMessage
// stores what encoding/json writes for it, and fails as it does.
func TestEncodeRawMessageMatchesJSON(t *testing.T) {
	c := jsonCodec(t)
	for _, tt := range []struct {
		raw  json.RawMessage
		fast bool
	}{
		{json.RawMessage(`"q3Vd8-LrT0xZ1mKcW_7bNf4pYhA2sEjG9uOiR6tXlCk"`), true},
		{json.RawMessage(` { "a" : [1, 2.5e3, true, null],  "b":{"c":"d e"} } `), true},
		{json.RawMessage("\t\n\r 12 \n"), true},
		{json.RawMessage(`"<b>&amp;</b>"`), true},
		{json.RawMessage("\"line\u2028sep \xe2\x80\xa9\""), true},
		{json.RawMessage(`"\u00e9\n"`), true},
		{json.RawMessage(`[]`), true},
		{json.RawMessage(``), false},
		{nil, false},
		{json.RawMessage(`{"a":}`), false},
		{json.RawMessage(`1 2`), false},
		{json.RawMessage("\"bad \xff\""), true},
		{json.RawMessage(`01`), false},
		{json.RawMessage(`[1,]`), false},
	} {
		checkRaw(t, c, tt.raw)
		if _, fast := compactRaw(tt.raw); fast != tt.fast {
			t.Errorf("%q: fast path decided: %v, want %v", tt.raw, fast, tt.fast)
		}
	}
}

// checkRaw checks marshalValue of raw against encoding/json.
func checkRaw(t *testing.T, c *Codec, raw json.RawMessage) {
	t.Helper()
	want, wantErr := JSONSerializer{}.Marshal(raw)
	got, err := c.marshalValue(raw)
	if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
		t.Errorf("%q: marshalValue %q, %v; encoding/json %q, %v", raw, got, err, want, wantErr)
	}
}

// FuzzScalarJSON is a differential fuzz target: the fast paths against
// encoding/json. The input is decoded as a stored value into every scalar
// type, and also encoded: as a string, and its first eight bytes as each
// integer and float type. It is internal, so it lives here rather than in
// fuzz/; its corpus is testdata/fuzz/FuzzScalarJSON. To fuzz it:
//
//	go test . -run '^$' -fuzz '^FuzzScalarJSON$' -fuzztime 10m
func FuzzScalarJSON(f *testing.F) {
	for _, s := range []string{`"token"`, `true`, `null`, `-12`, `1.5e3`, `18446744073709551616`, `"a\u00e9"`, "\"\xff\"", `01`} {
		f.Add([]byte(s))
	}
	c := jsonCodec(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAllDecode(t, c, data)
		checkEncode(t, c, string(data))
		checkRaw(t, c, data)
		var b [8]byte
		copy(b[:], data)
		n := binary.LittleEndian.Uint64(b[:])
		checkEncode(t, c, len(data)%2 == 0)
		checkEncode(t, c, int(n))
		checkEncode(t, c, int8(n))
		checkEncode(t, c, int16(n))
		checkEncode(t, c, int32(n))
		checkEncode(t, c, int64(n))
		checkEncode(t, c, uint(n))
		checkEncode(t, c, uint8(n))
		checkEncode(t, c, uint16(n))
		checkEncode(t, c, uint32(n))
		checkEncode(t, c, n)
		checkEncode(t, c, uintptr(n))
		checkEncode(t, c, math.Float32frombits(uint32(n)))
		checkEncode(t, c, math.Float64frombits(n))
		// The float as a handler would store it: a decimal number.
		checkEncode(t, c, float64(int64(n))/1000)
	})
}
