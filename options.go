package cookiesession

import "time"

// Defaults for [Options] fields left at their zero value.
const (
	// DefaultMaxPayloadSize is the default Options.MaxPayloadSize: 64 KiB.
	DefaultMaxPayloadSize = 64 << 10
	// DefaultCompressThreshold is the default Options.CompressThreshold: 2048 bytes.
	DefaultCompressThreshold = 2048
	// DefaultClockSkew is the default Options.ClockSkew: 10 seconds.
	DefaultClockSkew = 10 * time.Second

	maxMaxPayloadSize = 16 << 20
	maxClockSkew      = 5 * time.Minute
)

// Options configures a [Codec]. The zero value, like a nil *Options, gives
// the safe defaults stated on each field.
type Options struct {
	// Purpose is bound into every value as associated data, so values
	// sealed for one purpose never open under another, even for the same
	// cookie name and keys. It is not stored in the value. Default: "".
	Purpose string

	// Serializer turns values into payload bytes and back.
	// Default: JSONSerializer{}.
	Serializer Serializer

	// Compress turns on DEFLATE compression of whole values sealed with
	// [Codec.Seal], for payloads of CompressThreshold bytes or more.
	//
	// Warning: compression makes the length of the sealed value depend on
	// its contents. If one value holds both a secret (a token, a user ID)
	// and data an attacker can influence (a search term, a name), an
	// attacker who sees the lengths can recover the secret a byte at a
	// time, as in the CRIME and BREACH attacks (SPEC.md §11). The codec
	// cannot know what a value mixes: turn this on only for values that do
	// not hold both.
	//
	// It does not apply to sessions: the session layer never compresses a
	// session as a whole, only each large value on its own
	// (Config.ValueCompressThreshold). Default: false, no compression.
	Compress bool

	// CompressThreshold is the payload size in bytes below which Compress
	// never compresses. Larger payloads are compressed, and the result is
	// used only if it is shorter. Below the default, a sealed value fits one
	// cookie uncompressed, so compressing would cost time for no gain
	// (SPEC.md §12). Set 1 to compress every payload. Default:
	// DefaultCompressThreshold (2048).
	CompressThreshold int

	// MaxPayloadSize is the largest serialized payload in bytes, before
	// compression when sealing and after decompression when opening.
	// Larger payloads give ErrTooLarge, and inflation stops there, so a
	// decompression bomb costs at most this much memory. At most 16 MiB.
	// Default: DefaultMaxPayloadSize (64 KiB).
	MaxPayloadSize int

	// ClockSkew is how long after its sealed expiry a value still opens,
	// to allow for instances whose clocks run slightly ahead. It is a whole
	// number of seconds, at most 5 minutes; a negative value means no
	// allowance. Default: DefaultClockSkew (10 seconds).
	ClockSkew time.Duration

	// Now returns the current time. Tests inject a clock here.
	// Default: time.Now.
	Now func() time.Time
}

// Info describes a value that was opened.
type Info struct {
	// KeyID is the ID of the key that sealed the value.
	KeyID KeyID
	// Primary reports whether KeyID was the keyring's primary key when the
	// value was opened. A value under an older key should be sealed again.
	Primary bool
	// IssuedAt is when the value was sealed, to the second.
	IssuedAt time.Time
	// ExpiresAt is the value's sealed expiry, to the second.
	ExpiresAt time.Time
	// Compressed reports whether the payload was stored compressed as a
	// whole (Options.Compress). It is always false for a session, whose
	// values are compressed one by one.
	Compressed bool
}
