package cookiesession

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	var b [8]byte
	s := strconv.AppendUint(b[:0], uint64(id), 16)
	return strings.Repeat("0", 8-len(s)) + string(s)
}

// KeyState says what a key in a keyring may do.
type KeyState uint8

const (
	// KeyPrimary seals and opens. A keyring has exactly one primary key.
	KeyPrimary KeyState = iota + 1
	// KeyDecryptOnly opens values but never seals.
	KeyDecryptOnly
	// KeyDisabled is kept on record and opens nothing.
	KeyDisabled
)

// String returns "primary", "decrypt-only" or "disabled", the names used in
// the keyring text form.
func (s KeyState) String() string {
	switch s {
	case KeyPrimary:
		return "primary"
	case KeyDecryptOnly:
		return "decrypt-only"
	case KeyDisabled:
		return "disabled"
	}
	return "KeyState(" + strconv.Itoa(int(s)) + ")"
}

func parseKeyState(s string) (KeyState, bool) {
	for _, st := range []KeyState{KeyPrimary, KeyDecryptOnly, KeyDisabled} {
		if s == st.String() {
			return st, true
		}
	}
	return 0, false
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

// KeyInfo describes a key in a keyring, without its secret.
type KeyInfo struct {
	// ID is the key's ID.
	ID KeyID
	// State is what the key may do in the keyring.
	State KeyState
}

// keyEntry is a key with its state and its ready-to-use AEAD.
type keyEntry struct {
	key   Key
	state KeyState
	aead  cipher.AEAD
}

// snapshot is an immutable view of a keyring. Writers build a new one and
// swap it in; readers load the pointer and never block.
type snapshot struct {
	entries []*keyEntry // in keyring order
	byID    map[KeyID]*keyEntry
	primary *keyEntry
}

// Keyring holds the keys that seal and open values: exactly one primary key,
// and any number of decrypt-only and disabled keys. It is safe for
// concurrent use: rotation swaps an immutable snapshot atomically, so values
// being sealed and opened never wait for it.
//
// The zero Keyring is empty: it opens nothing and cannot seal until
// [Keyring.Rotate] or [Keyring.Reload] gives it a primary key.
//
// A Keyring never prints its secrets; String lists IDs and states only.
type Keyring struct {
	mu   sync.Mutex // serializes writers
	snap atomic.Pointer[snapshot]
}

// NewKeyring returns a keyring with primary as its primary key and the
// others as decrypt-only keys. Duplicate IDs give [ErrDuplicateKeyID];
// invalid keys give [ErrInvalidKey].
func NewKeyring(primary Key, decryptOnly ...Key) (*Keyring, error) {
	ks := []stateKey{{primary, KeyPrimary}}
	for _, k := range decryptOnly {
		ks = append(ks, stateKey{k, KeyDecryptOnly})
	}
	return newKeyring(ks)
}

// stateKey is a key and its state, before validation.
type stateKey struct {
	key   Key
	state KeyState
}

func newKeyring(ks []stateKey) (*Keyring, error) {
	s, err := newSnapshot(ks)
	if err != nil {
		return nil, err
	}
	kr := new(Keyring)
	kr.snap.Store(s)
	return kr, nil
}

// newSnapshot validates keys and states and returns a snapshot of them.
func newSnapshot(ks []stateKey) (*snapshot, error) {
	s := &snapshot{byID: make(map[KeyID]*keyEntry, len(ks))}
	for _, sk := range ks {
		k, st := sk.key, sk.state
		if err := checkKey(k.id, k.material()); err != nil {
			return nil, err
		}
		if _, dup := s.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: %v appears twice", ErrDuplicateKeyID, k.id)
		}
		if st < KeyPrimary || st > KeyDisabled {
			return nil, fmt.Errorf("%w: key %v has invalid state %v", ErrInvalidKeyring, k.id, st)
		}
		aead, err := chacha20poly1305.NewX(k.material())
		if err != nil { // unreachable: the length was checked above
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		e := &keyEntry{key: k, state: st, aead: aead}
		if st == KeyPrimary {
			if s.primary != nil {
				return nil, fmt.Errorf("%w: keys %v and %v are both primary", ErrInvalidKeyring, s.primary.key.id, k.id)
			}
			s.primary = e
		}
		s.entries = append(s.entries, e)
		s.byID[k.id] = e
	}
	if s.primary == nil {
		return nil, fmt.Errorf("%w: no primary key", ErrInvalidKeyring)
	}
	return s, nil
}

var emptySnapshot = &snapshot{}

// load returns the current snapshot; a zero Keyring has an empty one.
func (kr *Keyring) load() *snapshot {
	if s := kr.snap.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

// Primary returns the ID of the primary key, or 0 for an empty keyring.
func (kr *Keyring) Primary() KeyID {
	if p := kr.load().primary; p != nil {
		return p.key.id
	}
	return 0
}

// Keys lists the keys in keyring order, without their secrets.
func (kr *Keyring) Keys() []KeyInfo {
	s := kr.load()
	out := make([]KeyInfo, len(s.entries))
	for i, e := range s.entries {
		out[i] = KeyInfo{e.key.id, e.state}
	}
	return out
}

// String lists the keys as "id:state" pairs, never their secrets.
func (kr *Keyring) String() string {
	var b strings.Builder
	b.WriteString("Keyring[")
	for i, k := range kr.Keys() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.ID.String() + ":" + k.State.String())
	}
	b.WriteByte(']')
	return b.String()
}

// Format makes every fmt verb print [Keyring.String].
func (kr *Keyring) Format(f fmt.State, _ rune) { fmt.Fprint(f, kr.String()) }

// update applies change to a copy of the current keys and states, validates
// the result, and swaps it in. On error the keyring is unchanged.
func (kr *Keyring) update(change func(ks []stateKey) ([]stateKey, error)) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	cur := kr.load()
	ks := make([]stateKey, len(cur.entries))
	for i, e := range cur.entries {
		ks[i] = stateKey{e.key, e.state}
	}
	ks, err := change(ks)
	if err != nil {
		return err
	}
	s, err := newSnapshot(ks)
	if err != nil {
		return err
	}
	kr.snap.Store(s)
	return nil
}

// setState moves key id from one of the states in from to state to.
func (kr *Keyring) setState(id KeyID, to KeyState, from ...KeyState) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		i := indexOf(ks, id)
		if i < 0 {
			return nil, fmt.Errorf("%w: %v is not in the keyring", ErrUnknownKey, id)
		}
		if cur := ks[i].state; !slices.Contains(from, cur) {
			return nil, fmt.Errorf("%w: key %v is %v, cannot make it %v", ErrKeyState, id, cur, to)
		}
		if to == KeyPrimary {
			demotePrimary(ks)
		}
		ks[i].state = to
		return ks, nil
	})
}

// demotePrimary makes the primary key in ks decrypt-only.
func demotePrimary(ks []stateKey) {
	for i := range ks {
		if ks[i].state == KeyPrimary {
			ks[i].state = KeyDecryptOnly
		}
	}
}

func indexOf(ks []stateKey, id KeyID) int {
	return slices.IndexFunc(ks, func(sk stateKey) bool { return sk.key.id == id })
}

// Add adds k as a decrypt-only key: the first step of a staged rotation.
// Values sealed under k open on this instance from now on; nothing is sealed
// under k until it is promoted. An ID already present gives
// [ErrDuplicateKeyID], an invalid key (such as the zero Key) gives
// [ErrInvalidKey], and a zero Keyring, which has no primary key to keep,
// gives [ErrInvalidKeyring].
func (kr *Keyring) Add(k Key) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		return append(ks, stateKey{k, KeyDecryptOnly}), nil
	})
}

// Promote makes the decrypt-only key id the primary key; the old primary
// becomes decrypt-only. A disabled key must be enabled first. Promoting the
// primary is a no-op.
func (kr *Keyring) Promote(id KeyID) error {
	return kr.setState(id, KeyPrimary, KeyDecryptOnly, KeyPrimary)
}

// Disable stops key id from opening values, keeping it on record. The
// primary key cannot be disabled: promote another key first. Disabling a
// disabled key is a no-op.
func (kr *Keyring) Disable(id KeyID) error {
	return kr.setState(id, KeyDisabled, KeyDecryptOnly, KeyDisabled)
}

// Enable makes the disabled key id decrypt-only again. Enabling a
// decrypt-only key is a no-op.
func (kr *Keyring) Enable(id KeyID) error {
	return kr.setState(id, KeyDecryptOnly, KeyDisabled, KeyDecryptOnly)
}

// Remove deletes key id from the keyring. The primary key cannot be removed.
func (kr *Keyring) Remove(id KeyID) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		i := indexOf(ks, id)
		if i < 0 {
			return nil, fmt.Errorf("%w: %v is not in the keyring", ErrUnknownKey, id)
		}
		if ks[i].state == KeyPrimary {
			return nil, fmt.Errorf("%w: key %v is primary, cannot remove it", ErrKeyState, id)
		}
		return slices.Delete(ks, i, i+1), nil
	})
}

// Rotate generates a new key and makes it primary in one step; the old
// primary becomes decrypt-only, so values sealed under it keep opening. Use
// it on a single instance. With several instances, use the staged steps
// instead (Add everywhere, then Promote, then Disable or Remove), so that no
// instance sees a value sealed under a key it does not know yet.
func (kr *Keyring) Rotate() (KeyID, error) {
	var id KeyID
	err := kr.update(func(ks []stateKey) ([]stateKey, error) {
		var k Key
		for k.id == 0 || indexOf(ks, k.id) >= 0 {
			var err error
			if k, err = GenerateKey(); err != nil {
				return nil, err
			}
		}
		demotePrimary(ks)
		id = k.id
		return append(ks, stateKey{k, KeyPrimary}), nil
	})
	return id, err
}

// Reload replaces every key and state with those in text, in the keyring
// text form (see [ParseKeyring]). It is how an instance picks up a keyring
// that an operator changed in a secret file or store. On error the keyring is
// unchanged.
func (kr *Keyring) Reload(text string) error {
	next, err := ParseKeyring(text)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.snap.Store(next.load())
	return nil
}
