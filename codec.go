package cookiesession

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Wire-format constants (SPEC.md §4).
const (
	formatVersion = 0x02
	headerSize    = 1 + 1 + 4 + nonceSize // version, flags, key ID, nonce
	nonceSize     = 24
	tagSize       = 16
	timesSize     = 16 // issued_at, expires_at
	overhead      = headerSize + timesSize + tagSize

	methodNone    = 0
	methodDeflate = 1
	methodMask    = 0x0f

	// maxUnixTime is the end of year 9999, the last second a timestamp may name.
	maxUnixTime = 253402300799
)

// What a sealed value holds, bound into its associated data (SPEC.md §4.1),
// so that a value of one kind never opens as the other, whatever cookie
// name and purpose the caller picks.
const (
	kindValue   = 0x01 // a value of the Codec API: one serialized Go value
	kindSession = 0x02 // a session payload (SPEC.md §13)
)

var b64 = base64.RawURLEncoding.Strict()

// Codec seals Go values into cookie-safe strings and opens them again, in
// the format of SPEC.md. It is safe for concurrent use, and follows the
// keyring as it rotates. Make one with [NewCodec]; the zero Codec is not
// usable.
type Codec struct {
	kr        *Keyring
	purpose   string
	ser       Serializer
	compress  bool
	threshold int
	max       int
	maxText   int
	skew      int64 // seconds
	now       func() time.Time
	sysClock  bool      // now is time.Now, the default
	rand      io.Reader // crypto/rand; tests swap in a fixed stream for vectors
}

// NewCodec returns a codec that seals with kr's primary key and opens with
// any of its enabled keys. A nil opts means the defaults. Options out of
// range give [ErrInvalidConfig]; a keyring without a primary key gives
// [ErrInvalidKeyring].
func NewCodec(kr *Keyring, opts *Options) (*Codec, error) {
	if kr == nil {
		return nil, fmt.Errorf("%w: nil keyring", ErrInvalidConfig)
	}
	if kr.load().primary == nil {
		return nil, fmt.Errorf("%w: no primary key", ErrInvalidKeyring)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	c := &Codec{
		kr:        kr,
		purpose:   o.Purpose,
		ser:       o.Serializer,
		compress:  o.Compress,
		threshold: o.CompressThreshold,
		max:       o.MaxPayloadSize,
		now:       o.Now,
		rand:      rand.Reader,
	}
	switch {
	case o.CompressThreshold < 0:
		return nil, fmt.Errorf("%w: CompressThreshold %d is negative", ErrInvalidConfig, o.CompressThreshold)
	case o.MaxPayloadSize < 0 || o.MaxPayloadSize > maxMaxPayloadSize:
		return nil, fmt.Errorf("%w: MaxPayloadSize %d is outside 0..%d", ErrInvalidConfig, o.MaxPayloadSize, maxMaxPayloadSize)
	case o.ClockSkew > maxClockSkew:
		return nil, fmt.Errorf("%w: ClockSkew %v is over %v", ErrInvalidConfig, o.ClockSkew, maxClockSkew)
	case o.ClockSkew > 0 && o.ClockSkew%time.Second != 0:
		return nil, fmt.Errorf("%w: ClockSkew %v is not a whole number of seconds", ErrInvalidConfig, o.ClockSkew)
	}
	if c.ser == nil {
		c.ser = JSONSerializer{}
	}
	if c.threshold == 0 {
		c.threshold = DefaultCompressThreshold
	}
	if c.max == 0 {
		c.max = DefaultMaxPayloadSize
	}
	switch {
	case o.ClockSkew == 0:
		c.skew = int64(DefaultClockSkew / time.Second)
	case o.ClockSkew > 0:
		c.skew = int64(o.ClockSkew / time.Second)
	}
	if c.now == nil {
		c.now, c.sysClock = time.Now, true
	}
	c.maxText = base64.RawURLEncoding.EncodedLen(overhead + c.max)
	return c, nil
}

// Keyring returns the keyring the codec uses.
func (c *Codec) Keyring() *Keyring { return c.kr }

// Seal serializes v and seals it for the cookie called name, to expire at
// expires. The result is base64url text that needs no escaping in a cookie.
// It is sealed as a Codec value, which never opens as a session, even
// under the session's keyring, cookie name and purpose (SPEC.md §4.1).
// With Options.Compress it is compressed if that makes it shorter.
//
// Times are sealed in whole seconds, rounded down. Seal fails with
// [ErrExpired] if expires, so rounded, is not after the current time; with
// [ErrInvalidConfig] if either time is outside the years 1970 to 9999; with
// [ErrTooLarge] if the payload exceeds Options.MaxPayloadSize; and with the
// serializer's error if v does not serialize.
func (c *Codec) Seal(name string, v any, expires time.Time) (string, error) {
	payload, err := c.ser.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cookiesession: serialize: %w", err)
	}
	buf := getBuf()
	defer putBuf(buf)
	out, _, err := c.appendSeal((*buf)[:0], name, kindValue, payload, c.now(), expires, nil)
	*buf = out
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// Open authenticates value as sealed for the cookie called name, checks its
// expiry, and deserializes its payload into v, a non-nil pointer. A session
// cookie does not open here (ErrAuthFailed): only values made by Seal. Info
// describes the value. On error, Info is the zero Info unless the value
// authenticated and its flags and times were valid: then it describes the
// value even though Open failed, as with [ErrExpired], with [ErrTooLarge]
// from decompression, and with [ErrMalformed] from the payload.
//
// Every error wraps one of [ErrMalformed], [ErrUnsupportedVersion],
// [ErrUnknownKey], [ErrKeyDisabled], [ErrAuthFailed], [ErrExpired] or
// [ErrTooLarge]; no input makes Open panic.
func (c *Codec) Open(name, value string, v any) (Info, error) {
	if err := c.checkLen(len(value)); err != nil {
		return Info{}, err // before copying value
	}
	// A copy into a pooled buffer costs no allocation, unlike []byte(value).
	text := getBuf()
	defer putBuf(text)
	*text = append((*text)[:0], value...)
	buf := getBuf()
	defer putBuf(buf)
	payload, info, err := c.openPayload(buf, name, kindValue, *text, 0, c.now().Unix())
	if err != nil {
		return info, err
	}
	// payload lives in a pooled buffer that the next Open reuses.
	if err := c.unmarshal(payload, v); err != nil {
		return info, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return info, nil
}

// unmarshal deserializes data, which the caller may reuse or share
// afterwards. encoding/json copies what it keeps; a custom serializer, which
// may keep or change data, gets a private copy, as the Serializer
// documentation promises.
func (c *Codec) unmarshal(data []byte, v any) error {
	if _, ok := c.ser.(JSONSerializer); !ok {
		data = bytes.Clone(data)
	}
	return c.ser.Unmarshal(data, v)
}

// appendSeal seals payload, a value of the given kind, for name at time
// now, and appends the text form to dst. Only a kindValue payload is ever
// compressed as a whole.
//
// If split is not nil, appendSeal calls it with the length of the text
// before encrypting, and binds the chunk count it returns into the
// associated data (SPEC.md §4.1); a count below 2 binds nothing. An error
// from split aborts the seal. appendSeal returns the count it bound.
func (c *Codec) appendSeal(dst []byte, name string, kind byte, payload []byte, now, expires time.Time, split func(textLen int) (int, error)) ([]byte, int, error) {
	if len(payload) > c.max {
		return dst, 0, fmt.Errorf("%w: payload of %d bytes is over MaxPayloadSize %d", ErrTooLarge, len(payload), c.max)
	}
	buf := getBuf()
	defer putBuf(buf)
	raw := append((*buf)[:0], make([]byte, sealPrefix)...)
	method := byte(methodNone)
	if kind == kindValue && c.compress && len(payload) >= c.threshold {
		raw = appendDeflate(raw, payload)
		if len(raw)-sealPrefix < len(payload) {
			method = methodDeflate
		} else {
			raw = raw[:sealPrefix]
		}
	}
	if method == methodNone {
		raw = append(raw, payload...)
	}
	return c.sealIn(buf, raw, method, dst, name, kind, now, expires, split)
}

// sealPrefix is the room that sealIn needs before the body: the header and
// the times.
const sealPrefix = headerSize + timesSize

// sealIn is appendSeal for a body that the caller wrote into raw, after
// sealPrefix bytes of room, stored with method (methodNone or
// methodDeflate). raw is *buf, or grew from it; sealIn seals in place, and
// leaves *buf pointing at what it used. A body over MaxPayloadSize gives
// ErrTooLarge: for a session payload, this is the only check of its whole
// length.
func (c *Codec) sealIn(buf *[]byte, raw []byte, method byte, dst []byte, name string, kind byte, now, expires time.Time, split func(textLen int) (int, error)) ([]byte, int, error) {
	*buf = raw
	if len(raw)-sealPrefix > c.max {
		return dst, 0, fmt.Errorf("%w: payload of %d bytes is over MaxPayloadSize %d", ErrTooLarge, len(raw)-sealPrefix, c.max)
	}
	primary := c.kr.load().primary
	if primary == nil {
		return dst, 0, fmt.Errorf("%w: no primary key", ErrInvalidKeyring)
	}
	iat, exp := now.Unix(), expires.Unix()
	if iat < 0 || iat > maxUnixTime || exp > maxUnixTime {
		return dst, 0, fmt.Errorf("%w: time outside 1970..9999", ErrInvalidConfig)
	}
	if exp <= iat {
		return dst, 0, fmt.Errorf("%w: expiry %v is not after now", ErrExpired, expires.UTC().Format(time.RFC3339))
	}

	raw[0], raw[1] = formatVersion, method
	binary.BigEndian.PutUint32(raw[2:6], uint32(primary.key.id))
	if _, err := io.ReadFull(c.rand, raw[headerSize-nonceSize:headerSize]); err != nil {
		return dst, 0, fmt.Errorf("cookiesession: read nonce: %w", err)
	}
	binary.BigEndian.PutUint64(raw[headerSize:], uint64(iat))
	binary.BigEndian.PutUint64(raw[headerSize+8:], uint64(exp))

	chunks := 0
	if split != nil {
		n, err := split(base64.RawURLEncoding.EncodedLen(len(raw) + tagSize))
		if err != nil {
			return dst, 0, err
		}
		if n >= 2 {
			chunks = n
		}
	}

	// The associated data goes in the same buffer, past the room that the
	// ciphertext's tag takes, so sealing in place does not overwrite it.
	end := len(raw) + tagSize
	raw = slices.Grow(raw, tagSize+c.adLen(name, chunks))
	ad := c.appendAD(raw[end:end], raw[:headerSize], kind, name, chunks)
	sealed := primary.aead.Seal(raw[:headerSize], raw[headerSize-nonceSize:headerSize], raw[headerSize:], ad)
	*buf = sealed
	primary.sealed(c.sysTime(iat))
	return appendBase64(dst, sealed), chunks, nil
}

// adLen is the length of the associated data.
func (c *Codec) adLen(name string, chunks int) int {
	n := headerSize + 1 + 4 + len(name) + 4 + len(c.purpose)
	if chunks >= 2 {
		n += 4
	}
	return n
}

// appendAD appends the associated data of SPEC.md §4.1: the header, the
// kind of value, the cookie name and the purpose. A chunk count of 2 or
// more, for a value split over several cookies, is appended too.
func (c *Codec) appendAD(dst, header []byte, kind byte, name string, chunks int) []byte {
	dst = append(dst, header...)
	dst = append(dst, kind)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(name)))
	dst = append(dst, name...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(c.purpose)))
	dst = append(dst, c.purpose...)
	if chunks >= 2 {
		dst = binary.BigEndian.AppendUint32(dst, uint32(chunks))
	}
	return dst
}

// openPayload runs the checks of SPEC.md §6 for a value of the given kind
// that was split over chunks cookies (0 or 1: not split), at the time now
// (Unix seconds, read from the codec's clock by the caller). The payload
// it returns lives in *buf, or in another pooled buffer that it swaps into
// *buf, so it is valid until *buf goes back to the pool. value is only read.
func (c *Codec) openPayload(buf *[]byte, name string, kind byte, value []byte, chunks int, now int64) ([]byte, Info, error) {
	if err := c.checkLen(len(value)); err != nil {
		return nil, Info{}, err
	}
	// encoding/base64 skips CR and LF, so they are rejected here: each
	// byte string must have exactly one accepted text form.
	if bytes.IndexByte(value, '\r') >= 0 || bytes.IndexByte(value, '\n') >= 0 {
		return nil, Info{}, fmt.Errorf("%w: not base64url without padding", ErrMalformed)
	}
	raw, err := b64.AppendDecode((*buf)[:0], value)
	*buf = raw
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: not base64url without padding", ErrMalformed)
	}
	if len(raw) < overhead {
		return nil, Info{}, fmt.Errorf("%w: %d bytes is shorter than the %d-byte minimum", ErrMalformed, len(raw), overhead)
	}
	if raw[0] != formatVersion {
		return nil, Info{}, fmt.Errorf("%w: version %d", ErrUnsupportedVersion, raw[0])
	}
	id := KeyID(binary.BigEndian.Uint32(raw[2:6]))
	snap := c.kr.load()
	e := snap.byID[id]
	switch {
	case e == nil:
		return nil, Info{}, fmt.Errorf("%w: %v", ErrUnknownKey, id)
	case e.state == KeyDisabled:
		return nil, Info{}, fmt.Errorf("%w: %v", ErrKeyDisabled, id)
	}

	// The associated data goes in the same buffer, after the value, which
	// opening in place only shortens.
	raw = slices.Grow(raw, c.adLen(name, chunks))
	*buf = raw
	ad := c.appendAD(raw[len(raw):], raw[:headerSize], kind, name, chunks)
	nonce := raw[headerSize-nonceSize : headerSize]
	plain, err := e.aead.Open(raw[headerSize:headerSize], nonce, raw[headerSize:], ad)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: key %v", ErrAuthFailed, id)
	}

	// Authenticated from here on.
	flags := raw[1]
	method := flags & methodMask
	if flags&^methodMask != 0 || method > methodDeflate {
		return nil, Info{}, fmt.Errorf("%w: flags %#02x", ErrUnsupportedVersion, flags)
	}
	if kind == kindSession && method != methodNone {
		// Sessions compress values one by one, never the whole payload.
		return nil, Info{}, fmt.Errorf("%w: session compressed as a whole", ErrMalformed)
	}
	iat := int64(binary.BigEndian.Uint64(plain[0:8]))
	exp := int64(binary.BigEndian.Uint64(plain[8:16]))
	if iat < 0 || iat > maxUnixTime || exp < iat || exp > maxUnixTime {
		return nil, Info{}, fmt.Errorf("%w: timestamps out of range", ErrMalformed)
	}
	info := Info{
		KeyID:      id,
		Primary:    e == snap.primary,
		IssuedAt:   time.Unix(iat, 0).UTC(),
		ExpiresAt:  time.Unix(exp, 0).UTC(),
		Compressed: method == methodDeflate,
	}
	if now >= exp+c.skew {
		return nil, info, fmt.Errorf("%w: at %v", ErrExpired, info.ExpiresAt.UTC().Format(time.RFC3339))
	}
	body := plain[timesSize:]
	if method == methodNone {
		// The text length check above already bounds body by c.max.
		e.opened(c.sysTime(now))
		return body, info, nil
	}
	out := getBuf()
	payload, err := inflate((*out)[:0], body, c.max)
	// The payload now lives in out; hand that buffer to the caller instead.
	*out, *buf = *buf, payload
	putBuf(out)
	if err != nil {
		return nil, info, err
	}
	e.opened(c.sysTime(now))
	return payload, info, nil
}

// sysTime returns now, a reading of the codec's clock in Unix seconds, if
// that clock is the system clock, and 0 otherwise: what the key use
// counters take (keyEntry.opened and sealed).
func (c *Codec) sysTime(now int64) int64 {
	if c.sysClock {
		return now
	}
	return 0
}

// checkLen is step 1 of SPEC.md §6: the text length.
func (c *Codec) checkLen(n int) error {
	if n > c.maxText {
		return fmt.Errorf("%w: value of %d characters is over the %d a payload of MaxPayloadSize can take", ErrTooLarge, n, c.maxText)
	}
	return nil
}

// bufPool holds scratch buffers for sealing and opening.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 { // do not keep buffers of unusually large values
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
