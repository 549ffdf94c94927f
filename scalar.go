package cookiesession

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Typed fast paths for the values a handler reads and writes on almost every
// request: strings (a CSRF token, a user name), numbers (a user ID) and
// booleans (flags). With the default JSONSerializer, [Get], [Pop] and
// [Session.Set] handle these without reflection when their JSON form is
// plain: a string without escapes, an integer or decimal number, true,
// false or null. Everything else, and every input that encoding/json would
// reject, goes to the serializer, so the result (value or error) is always
// the one encoding/json gives. The fast paths are exact types only: a named
// type such as `type Role string` takes the serializer's path.

// unmarshalValue decodes raw, a stored session value, into a T.
func unmarshalValue[T any](c *Codec, raw []byte) (T, error) {
	var v T
	if _, ok := c.ser.(JSONSerializer); ok && decodeScalar(raw, &v) {
		return v, nil
	}
	return unmarshalSlow[T](c, raw)
}

// unmarshalSlow decodes with the serializer. It is a function of its own so
// that the value it hands the serializer, which escapes, is not the one the
// fast path fills in: that one stays on the stack.
func unmarshalSlow[T any](c *Codec, raw []byte) (T, error) {
	var v T
	err := c.unmarshal(raw, &v)
	return v, err
}

// marshalValue serializes a session value.
func (c *Codec) marshalValue(v any) ([]byte, error) {
	if _, ok := c.ser.(JSONSerializer); ok {
		if b, ok := encodeScalar(v); ok {
			return b, nil
		}
		if b, ok := compactRaw(v); ok {
			return b, nil
		}
	}
	return c.ser.Marshal(v)
}

// compactRaw returns what JSONSerializer.Marshal(v) would, and true, when v
// is a non-nil json.RawMessage holding valid JSON: encoding/json writes it
// compacted, and with HTML escaping off compacting changes nothing else
// (json.Compact is the same code). Otherwise, a nil or invalid message
// included, it returns false, and the serializer gives its own result.
func compactRaw(v any) ([]byte, bool) {
	raw, ok := v.(json.RawMessage)
	if !ok || raw == nil {
		return nil, false
	}
	b := bytes.NewBuffer(make([]byte, 0, len(raw)))
	if json.Compact(b, raw) != nil {
		return nil, false
	}
	return b.Bytes(), true
}

// decodeScalar stores in *p what json.Unmarshal(raw, p) would, and reports
// whether it did. It returns false, leaving *p alone, for a type it does not
// handle and for any raw it is not sure of, errors included.
func decodeScalar(raw []byte, p any) bool {
	switch p := p.(type) {
	case *string:
		return decodeString(raw, p)
	case *bool:
		switch string(raw) {
		case "true":
			*p = true
		case "false":
			*p = false
		case "null": // leaves the value alone, as encoding/json does
		default:
			return false
		}
		return true
	case *int:
		return decodeInt(raw, p, strconv.IntSize)
	case *int8:
		return decodeInt(raw, p, 8)
	case *int16:
		return decodeInt(raw, p, 16)
	case *int32:
		return decodeInt(raw, p, 32)
	case *int64:
		return decodeInt(raw, p, 64)
	case *uint:
		return decodeUint(raw, p, strconv.IntSize)
	case *uint8:
		return decodeUint(raw, p, 8)
	case *uint16:
		return decodeUint(raw, p, 16)
	case *uint32:
		return decodeUint(raw, p, 32)
	case *uint64:
		return decodeUint(raw, p, 64)
	case *uintptr:
		return decodeUint(raw, p, strconv.IntSize)
	case *float32:
		return decodeFloat(raw, p, 32)
	case *float64:
		return decodeFloat(raw, p, 64)
	}
	return false
}

// isNull reports whether raw is the JSON null, which leaves a string, number
// or bool unchanged.
func isNull(raw []byte) bool { return string(raw) == "null" }

// decodeString handles a JSON string with no escape sequence and valid
// UTF-8: its content, verbatim, is the value. Escapes, control characters
// and invalid UTF-8 (which encoding/json replaces with U+FFFD) are left to
// encoding/json.
func decodeString(raw []byte, p *string) bool {
	if isNull(raw) {
		return true
	}
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	body := raw[1 : len(raw)-1]
	ascii := true
	for _, b := range body {
		if b < 0x20 || b == '"' || b == '\\' {
			return false
		}
		ascii = ascii && b < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(body) {
		return false
	}
	*p = string(body)
	return true
}

// decodeInt handles a JSON integer, without fraction or exponent, that fits
// bits bits. encoding/json rejects the others, and 1.0 and 1e3, with an
// error, which the fallback produces.
func decodeInt[I int | int8 | int16 | int32 | int64](raw []byte, p *I, bits int) bool {
	if isNull(raw) {
		return true
	}
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if !plainDigits(digits) {
		return false
	}
	n, err := strconv.ParseInt(string(raw), 10, bits)
	if err != nil {
		return false
	}
	*p = I(n)
	return true
}

// decodeUint is decodeInt for unsigned kinds: no sign at all, as
// encoding/json rejects -0 there too.
func decodeUint[U uint | uint8 | uint16 | uint32 | uint64 | uintptr](raw []byte, p *U, bits int) bool {
	if isNull(raw) {
		return true
	}
	if !plainDigits(raw) {
		return false
	}
	n, err := strconv.ParseUint(string(raw), 10, bits)
	if err != nil {
		return false
	}
	*p = U(n)
	return true
}

// decodeFloat handles a number in JSON's grammar that strconv parses into
// bits bits without error; encoding/json parses it the same way.
func decodeFloat[F float32 | float64](raw []byte, p *F, bits int) bool {
	if isNull(raw) {
		return true
	}
	if !jsonNumber(raw) {
		return false
	}
	f, err := strconv.ParseFloat(string(raw), bits)
	if err != nil {
		return false
	}
	*p = F(f)
	return true
}

// plainDigits reports whether b is 0 or a run of decimal digits with no
// leading zero, as JSON writes a whole number's magnitude.
func plainDigits(b []byte) bool {
	if len(b) == 0 || len(b) > 20 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// jsonNumber reports whether b is a number in JSON's grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func jsonNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(b)
}

// skipDigits returns the index of the first byte at or after i in b that is
// not a decimal digit.
func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// encodeScalar returns what JSONSerializer.Marshal(v) would, and true, when
// v is a string, bool, integer or float of an exact built-in type, its
// encoding needs no escaping, and a float is written in plain notation (see
// appendFloat). Otherwise it returns false.
func encodeScalar(v any) ([]byte, bool) {
	var tmp [32]byte
	var b []byte
	switch v := v.(type) {
	case string:
		if !plainString(v) {
			return nil, false
		}
		out := make([]byte, len(v)+2)
		out[0], out[len(out)-1] = '"', '"'
		copy(out[1:], v)
		return out, true
	case bool:
		b = strconv.AppendBool(tmp[:0], v)
	case int:
		b = strconv.AppendInt(tmp[:0], int64(v), 10)
	case int8:
		b = strconv.AppendInt(tmp[:0], int64(v), 10)
	case int16:
		b = strconv.AppendInt(tmp[:0], int64(v), 10)
	case int32:
		b = strconv.AppendInt(tmp[:0], int64(v), 10)
	case int64:
		b = strconv.AppendInt(tmp[:0], v, 10)
	case uint:
		b = strconv.AppendUint(tmp[:0], uint64(v), 10)
	case uint8:
		b = strconv.AppendUint(tmp[:0], uint64(v), 10)
	case uint16:
		b = strconv.AppendUint(tmp[:0], uint64(v), 10)
	case uint32:
		b = strconv.AppendUint(tmp[:0], uint64(v), 10)
	case uint64:
		b = strconv.AppendUint(tmp[:0], v, 10)
	case uintptr:
		b = strconv.AppendUint(tmp[:0], uint64(v), 10)
	case float32:
		var ok bool
		if b, ok = appendFloat(tmp[:0], float64(v), 32); !ok {
			return nil, false
		}
	case float64:
		var ok bool
		if b, ok = appendFloat(tmp[:0], v, 64); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// plainString reports whether JSON writes s between quotes as it is, with
// HTML escaping off: ASCII other than the control characters below 0x20,
// " and \, and valid UTF-8 other than U+2028 and U+2029, which
// encoding/json always escapes.
func plainString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// appendFloat appends f as encoding/json writes a float of the given bits,
// which is the shortest decimal that reads back as f, in the notation
// ECMAScript's Number::toString picks: plain digits from 1e-6 up to 1e21,
// scientific outside, with no leading zero in a negative exponent. Only
// values whose notation is plain are handled, and zero; the rest, NaN and
// the infinities included, report false.
func appendFloat(dst []byte, f float64, bits int) ([]byte, bool) {
	mag := f
	if mag < 0 {
		mag = -mag
	}
	if bits == 32 {
		mag = float64(float32(mag))
	}
	// The comparison is false for NaN, so NaN is refused too.
	if !(mag == 0 || (mag >= 1e-6 && mag < 1e21)) {
		return dst, false
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits), true
}
