package cookiesession

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of key material in bytes: 32.
const KeySize = chacha20poly1305.KeySize

// KeyID identifies a key. It is chosen at random when the key is generated,
// is independent of the key material, and travels in the clear in every sealed
// value. The zero KeyID is reserved and never names a key.
type KeyID uint32

// String returns the ID as 8 lowercase hexadecimal digits, as in the keyring
// text form.
func (id KeyID) String() string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	return hex.EncodeToString(b[:])
}

// Key is a 32-byte secret and its ID. The zero Key is not valid; make keys
// with [GenerateKey] or [NewKey].
//
// A Key never prints its secret: String, GoString and every fmt verb show
// only the ID. The secret is reachable only through a function value, which
// fmt and log/slog print as an address, so even a Key in an unexported struct
// field, printed by reflection, does not show the key material. Keys are
// therefore not comparable with ==; compare IDs.
type Key struct {
	id     KeyID
	secret func() *[KeySize]byte
}

// material returns the key material, or nil for the zero Key.
func (k Key) material() []byte {
	if k.secret == nil {
		return nil
	}
	return k.secret()[:]
}

// newKeyMaterial returns a function that holds b, and b to fill in.
func newKeyMaterial() (func() *[KeySize]byte, *[KeySize]byte) {
	b := new([KeySize]byte)
	return func() *[KeySize]byte { return b }, b
}

// GenerateKey returns a new key with a random non-zero ID and random key
// material, both read from crypto/rand.
func GenerateKey() (Key, error) {
	var k Key
	var b *[KeySize]byte
	k.secret, b = newKeyMaterial()
	if _, err := rand.Read(b[:]); err != nil {
		return Key{}, fmt.Errorf("cookiesession: generate key: %w", err)
	}
	for k.id == 0 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Key{}, fmt.Errorf("cookiesession: generate key ID: %w", err)
		}
		k.id = KeyID(binary.BigEndian.Uint32(b[:]))
	}
	return k, nil
}

// NewKey returns a key with the given ID and key material, which must be
// exactly [KeySize] bytes and not all zero. The bytes are copied. The error
// wraps [ErrInvalidKey] and never contains the secret.
func NewKey(id KeyID, secret []byte) (Key, error) {
	if err := checkKey(id, secret); err != nil {
		return Key{}, err
	}
	k := Key{id: id}
	var b *[KeySize]byte
	k.secret, b = newKeyMaterial()
	copy(b[:], secret)
	return k, nil
}

// checkKey reports why id and secret do not make a valid key, if they don't.
func checkKey(id KeyID, secret []byte) error {
	if id == 0 {
		return fmt.Errorf("%w: key ID 0 is reserved", ErrInvalidKey)
	}
	if len(secret) != KeySize {
		return fmt.Errorf("%w: key %v has %d bytes of key material, want %d", ErrInvalidKey, id, len(secret), KeySize)
	}
	var or byte
	for _, b := range secret {
		or |= b
	}
	if or == 0 {
		return fmt.Errorf("%w: key %v has all-zero key material", ErrInvalidKey, id)
	}
	return nil
}

// ID returns the key's ID.
func (k Key) ID() KeyID { return k.id }

// String returns "key " and the ID, never the secret.
func (k Key) String() string { return "key " + k.id.String() }

// GoString is like String, so that %#v does not print the secret either.
func (k Key) GoString() string { return "cookiesession.Key{" + k.id.String() + "}" }

// Format makes every fmt verb print [Key.String], so no verb prints the secret.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}
