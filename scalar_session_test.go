package cookiesession

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The scalar fast paths as a session uses them: only with the JSON
// serializer, through Get and Pop before and after a save, and without
// allocating.

// TestScalarFastPathOnlyForJSON checks that a custom serializer sees every
// value: the fast paths are encoding/json's, and only stand in for it.
func TestScalarFastPathOnlyForJSON(t *testing.T) {
	kr, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ser := &countingSerializer{}
	m, err := New(kr, Config{Codec: Options{Serializer: ser}})
	if err != nil {
		t.Fatal(err)
	}
	s := stLoad(t, m, "")
	if err := s.Set("uid", 42); err != nil {
		t.Fatal(err)
	}
	if v, _, err := Get[int](s, "uid"); v != 42 || err != nil {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if ser.marshal != 1 || ser.unmarshal != 1 {
		t.Errorf("custom serializer called %d times to marshal and %d to unmarshal; want 1 and 1", ser.marshal, ser.unmarshal)
	}
}

// countingSerializer is JSON, counting its calls.
type countingSerializer struct{ marshal, unmarshal int }

func (c *countingSerializer) Marshal(v any) ([]byte, error) { c.marshal++; return json.Marshal(v) }
func (c *countingSerializer) Unmarshal(data []byte, v any) error {
	c.unmarshal++
	return json.Unmarshal(data, v)
}

// TestGetScalarThroughSession stores raw JSON values in a session and reads
// them with Get and Pop of each scalar type, before saving and after
// loading: the result, and ErrValueType for a value that does not fit, are
// encoding/json's.
func TestGetScalarThroughSession(t *testing.T) {
	e := stNew(t, Config{})
	raws := []string{`"csrf-token"`, `"a\u00e9\n"`, `true`, `null`, `48213977`, `-1`, `300`, `1.5`, `1e3`, `18446744073709551615`, `[1]`}
	s := stLoad(t, e.m, "")
	for i, r := range raws {
		if err := s.Set(fmt.Sprint("k", i), json.RawMessage(r)); err != nil {
			t.Fatal(err)
		}
	}
	loaded, _ := stRoundTrip(t, e.m, s)
	for name, sess := range map[string]*Session{"before save": s, "after load": loaded} {
		for i, r := range raws {
			key := fmt.Sprint("k", i)
			checkGet[string](t, name, sess, key, r)
			checkGet[bool](t, name, sess, key, r)
			checkGet[int](t, name, sess, key, r)
			checkGet[int8](t, name, sess, key, r)
			checkGet[uint64](t, name, sess, key, r)
			checkGet[float32](t, name, sess, key, r)
			checkGet[float64](t, name, sess, key, r)
		}
	}
	// Pop decodes the same way, and removes the key only on success.
	if v, ok, err := Pop[int](loaded, "k4"); v != 48213977 || !ok || err != nil || loaded.Has("k4") {
		t.Errorf("Pop[int](k4) = %v, %v, %v", v, ok, err)
	}
	if _, ok, err := Pop[int](loaded, "k0"); !ok || !errors.Is(err, ErrValueType) || !loaded.Has("k0") {
		t.Errorf("Pop[int](k0) = _, %v, %v; want ErrValueType and the key kept", ok, err)
	}
}

// checkGet compares Get[T] of key with json.Unmarshal of raw.
func checkGet[T comparable](t *testing.T, name string, s *Session, key, raw string) {
	t.Helper()
	var want T
	wantErr := json.Unmarshal([]byte(raw), &want)
	got, ok, err := Get[T](s, key)
	switch {
	case !ok:
		t.Errorf("%s: Get[%T](%s) not found", name, want, raw)
	case wantErr == nil && (err != nil || !sameScalar(got, want)):
		t.Errorf("%s: Get[%T](%s) = %#v, %v; want %#v", name, want, raw, got, err, want)
	case wantErr != nil && (!errors.Is(err, ErrValueType) || !strings.HasSuffix(err.Error(), wantErr.Error())):
		t.Errorf("%s: Get[%T](%s) error %v; want ErrValueType wrapping %v", name, want, raw, err, wantErr)
	}
}

// TestScalarFastPathAllocations checks the point of the fast paths: reading
// a bool or a number takes no allocation, and a string one (its bytes).
func TestScalarFastPathAllocations(t *testing.T) {
	c := jsonCodec(t)
	b, i, f, s := []byte("true"), []byte("48213977"), []byte("2.5"), []byte(`"token"`)
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"bool", 0, func() { _, _ = unmarshalValue[bool](c, b) }},
		{"int", 0, func() { _, _ = unmarshalValue[int](c, i) }},
		{"float64", 0, func() { _, _ = unmarshalValue[float64](c, f) }},
		{"string", 1, func() { _, _ = unmarshalValue[string](c, s) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n > tt.max {
			t.Errorf("%s: %v allocations, want at most %v", tt.name, n, tt.max)
		}
	}
}
