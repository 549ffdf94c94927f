package cookiesession

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Serializer turns a Go value into bytes and back. Implementations must be
// safe for concurrent use. The default is [JSONSerializer].
type Serializer interface {
	// Marshal returns the serialized form of v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, which is a non-nil pointer. The codec
	// hands custom serializers a private copy of data, which they may keep.
	Unmarshal(data []byte, v any) error
}

// JSONSerializer serializes with encoding/json. It is the default Serializer.
type JSONSerializer struct{}

// Marshal encodes v as json.Marshal does, but leaves <, > and & as they are
// instead of escaping each as six bytes: a sealed cookie is never HTML.
func (JSONSerializer) Marshal(v any) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer jsonEncoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	out := e.buf.Bytes()
	return bytes.Clone(out[:len(out)-1]), nil // without Encode's newline
}

// jsonEncoder is a pooled json.Encoder that does not escape HTML.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// Unmarshal calls json.Unmarshal.
func (JSONSerializer) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
