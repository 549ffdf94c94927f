package cookiesession

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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

// KeyInfo describes a key in a keyring, without its secret.
type KeyInfo struct {
	// ID is the key's ID.
	ID KeyID
	// State is what the key may do in the keyring now.
	State KeyState
}

// Keyring holds the keys that seal and open values: exactly one primary key,
// and any number of decrypt-only and disabled keys. It is safe for
// concurrent use: a change swaps in an immutable snapshot atomically, so
// values being sealed and opened never wait for it, and finding a key takes
// no lock and allocates nothing.
//
// A keyring may also hold changes scheduled for a given time (SPEC.md §10):
// a decrypt-only key that becomes primary, and keys that stop opening. They
// take effect when the keyring's clock (see [Keyring.SetClock]) reaches
// their time, with nothing else to run. [Keyring.Stats] counts, for each
// key, the values it sealed and opened.
//
// The zero Keyring is empty: it opens nothing and cannot seal until
// [Keyring.Rotate] or [Keyring.Reload] gives it a primary key.
//
// A Keyring never prints its secrets; String lists IDs and states only.
type Keyring struct {
	mu    sync.Mutex                // serializes writers
	snap  atomic.Pointer[snapshot]  // the first phase; see snapshot.next
	clock atomic.Pointer[clockFunc] // nil: time.Now
}

type clockFunc func() time.Time

// NewKeyring returns a keyring with primary as its primary key and the
// others as decrypt-only keys. Duplicate IDs give [ErrDuplicateKeyID];
// invalid keys give [ErrInvalidKey].
func NewKeyring(primary Key, decryptOnly ...Key) (*Keyring, error) {
	ks := []stateKey{{key: primary, state: KeyPrimary}}
	for _, k := range decryptOnly {
		ks = append(ks, stateKey{key: k, state: KeyDecryptOnly})
	}
	return newKeyring(ks)
}

func newKeyring(ks []stateKey) (*Keyring, error) {
	kr := new(Keyring)
	s, err := kr.newSnapshot(ks, nil)
	if err != nil {
		return nil, err
	}
	kr.snap.Store(s)
	return kr, nil
}

// SetClock sets the clock the keyring reads to apply scheduled changes and
// to record when each key was last used. nil restores the default,
// time.Now. A Manager's Config.Now does not reach the keyring: tests that
// move one clock should set both.
func (kr *Keyring) SetClock(now func() time.Time) {
	if now == nil {
		kr.clock.Store(nil)
		return
	}
	f := clockFunc(now)
	kr.clock.Store(&f)
}

// statsNow is keyStats.now: sys, a reading of the system clock in Unix
// seconds, if it is not 0 and the keyring's clock is the system clock;
// otherwise a reading of the keyring's clock.
func (kr *Keyring) statsNow(sys int64) int64 {
	if sys != 0 && kr.clock.Load() == nil {
		return sys
	}
	return kr.nowUnix()
}

// nowUnix reads the keyring's clock, in Unix seconds.
func (kr *Keyring) nowUnix() int64 {
	if f := kr.clock.Load(); f != nil {
		return (*f)().Unix()
	}
	return time.Now().Unix()
}

var emptySnapshot = &snapshot{}

// load returns the keyring as it is now. Without a schedule it is one
// atomic load; with one, a read of the clock and at most a few pointer
// hops. A zero Keyring has an empty snapshot.
func (kr *Keyring) load() *snapshot {
	s := kr.snap.Load()
	if s == nil {
		return emptySnapshot
	}
	if s.next != nil {
		s = s.at(kr.nowUnix())
	}
	return s
}

// Primary returns the ID of the primary key, or 0 for an empty keyring.
func (kr *Keyring) Primary() KeyID {
	if p := kr.load().primary; p != nil {
		return p.key.id
	}
	return 0
}

// Keys lists the keys in keyring order, in their states now, without their
// secrets.
func (kr *Keyring) Keys() []KeyInfo {
	s := kr.load()
	out := make([]KeyInfo, len(s.entries))
	for i, e := range s.entries {
		out[i] = KeyInfo{e.key.id, e.state}
	}
	return out
}

// String lists the keys as "id:state" pairs, in their states now, never
// their secrets.
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

// update applies change to the keys as they are now, with the changes
// still scheduled, validates the result, and swaps it in. On error the
// keyring is unchanged.
func (kr *Keyring) update(change func(ks []stateKey) ([]stateKey, error)) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	head := kr.snap.Load()
	ks, err := change(head.resolve(kr.nowUnix()))
	if err != nil {
		return err
	}
	s, err := kr.newSnapshot(ks, head)
	if err != nil {
		return err
	}
	kr.snap.Store(s)
	return nil
}

// find returns the index of key id in ks, or an error wrapping
// ErrUnknownKey.
func find(ks []stateKey, id KeyID) (int, error) {
	i := slices.IndexFunc(ks, func(sk stateKey) bool { return sk.key.id == id })
	if i < 0 {
		return -1, fmt.Errorf("%w: %v is not in the keyring", ErrUnknownKey, id)
	}
	return i, nil
}

// setState moves key id from one of the states in from to state to, and
// cancels any change scheduled for it.
func (kr *Keyring) setState(id KeyID, to KeyState, from ...KeyState) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		i, err := find(ks, id)
		if err != nil {
			return nil, err
		}
		if cur := ks[i].state; !slices.Contains(from, cur) {
			return nil, fmt.Errorf("%w: key %v is %v, cannot make it %v", ErrKeyState, id, cur, to)
		}
		if to == KeyPrimary {
			demotePrimary(ks)
		}
		ks[i].state = to
		ks[i].primaryFrom, ks[i].disabledFrom = 0, 0
		return ks, nil
	})
}

// demotePrimary makes the primary key in ks decrypt-only, and cancels any
// scheduled promotion: a promotion now replaces it.
func demotePrimary(ks []stateKey) {
	for i := range ks {
		if ks[i].state == KeyPrimary {
			ks[i].state = KeyDecryptOnly
		}
		ks[i].primaryFrom = 0
	}
}

// Add adds k as a decrypt-only key: the first step of a staged rotation.
// Values sealed under k open on this instance from now on; nothing is sealed
// under k until it is promoted. An ID already present gives
// [ErrDuplicateKeyID], an invalid key (such as the zero Key) gives
// [ErrInvalidKey], and a zero Keyring, which has no primary key to keep,
// or one that holds [MaxKeyringEntries] keys already, gives
// [ErrInvalidKeyring].
func (kr *Keyring) Add(k Key) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		return append(ks, stateKey{key: k, state: KeyDecryptOnly}), nil
	})
}

// Promote makes the decrypt-only key id the primary key; the old primary
// becomes decrypt-only. A disabled key must be enabled first. Promoting the
// primary is a no-op. Promote cancels a promotion scheduled with
// [Keyring.PromoteAt], and any change scheduled for key id.
func (kr *Keyring) Promote(id KeyID) error {
	return kr.setState(id, KeyPrimary, KeyDecryptOnly, KeyPrimary)
}

// Disable stops key id from opening values, keeping it on record. The
// primary key cannot be disabled: promote another key first. Disabling a
// disabled key is a no-op. Disable cancels any change scheduled for key id.
func (kr *Keyring) Disable(id KeyID) error {
	return kr.setState(id, KeyDisabled, KeyDecryptOnly, KeyDisabled)
}

// Enable makes the disabled key id decrypt-only again. Enabling a
// decrypt-only key is a no-op. Enable cancels any change scheduled for key
// id.
func (kr *Keyring) Enable(id KeyID) error {
	return kr.setState(id, KeyDecryptOnly, KeyDisabled, KeyDecryptOnly)
}

// Remove deletes key id from the keyring. The primary key cannot be removed.
func (kr *Keyring) Remove(id KeyID) error {
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		i, err := find(ks, id)
		if err != nil {
			return nil, err
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
// instead (Add everywhere, then Promote, then Disable or Remove), or
// schedule the promotion with [Keyring.PromoteAt], so that no instance sees
// a value sealed under a key it does not know yet. Rotate cancels a
// scheduled promotion. A keyring that holds [MaxKeyringEntries] keys
// already gives [ErrInvalidKeyring].
func (kr *Keyring) Rotate() (KeyID, error) {
	var id KeyID
	err := kr.update(func(ks []stateKey) ([]stateKey, error) {
		var k Key
		for k.id == 0 || slices.ContainsFunc(ks, func(sk stateKey) bool { return sk.key.id == k.id }) {
			var err error
			if k, err = GenerateKey(); err != nil {
				return nil, err
			}
		}
		demotePrimary(ks)
		id = k.id
		return append(ks, stateKey{key: k, state: KeyPrimary}), nil
	})
	return id, err
}

// Reload replaces every key, state and schedule with those in text, in the
// keyring text form (see [ParseKeyring]). It is how an instance picks up a
// keyring that an operator changed in a secret file or store; see also
// [Keyring.Watch]. The use counters of keys that stay, with the same key
// material, carry on. On error the keyring is unchanged.
func (kr *Keyring) Reload(text string) error {
	ks, err := parseKeyringText(text)
	if err != nil {
		return err
	}
	return kr.reload(ks)
}

// reload replaces every key, state and schedule with ks.
func (kr *Keyring) reload(ks []stateKey) error {
	return kr.update(func([]stateKey) ([]stateKey, error) { return ks, nil })
}

// removes reports whether ks lacks a key that kr holds, or gives one of
// its IDs other key material.
func (kr *Keyring) removes(ks []stateKey) bool {
	for _, cur := range kr.snap.Load().keys() {
		i := slices.IndexFunc(ks, func(sk stateKey) bool { return sk.key.id == cur.key.id })
		if i < 0 || subtle.ConstantTimeCompare(ks[i].key.material(), cur.key.material()) != 1 {
			return true
		}
	}
	return false
}
