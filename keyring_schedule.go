package cookiesession

import (
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"math"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// stateKey is a key as a keyring lists it: its state and its schedule,
// before validation.
type stateKey struct {
	key   Key
	state KeyState
	// primaryFrom and disabledFrom are the Unix seconds from which the key
	// is primary, or disabled (SPEC.md §10); 0: nothing scheduled.
	primaryFrom, disabledFrom int64
}

// keyEntry is a key in the state it has during one phase of a keyring,
// with its ready-to-use AEAD and its use counters.
type keyEntry struct {
	key   Key
	state KeyState
	aead  cipher.AEAD
	stats *keyStats // shared by every phase and snapshot that holds the key
}

// snapshot is an immutable view of a keyring during one phase of its
// schedule. Writers build new ones and swap the first in; readers load the
// pointer and never block.
type snapshot struct {
	entries []*keyEntry // in keyring order
	byID    map[KeyID]*keyEntry
	primary *keyEntry

	// listed is the keyring as written, schedules and all, shared by every
	// phase; Marshal writes it. nil: the entries' states, unscheduled.
	listed []stateKey
	// next, if not nil, is the keyring from Unix second until on.
	next  *snapshot
	until int64
}

// at returns the phase of s's schedule that holds at Unix second now.
func (s *snapshot) at(now int64) *snapshot {
	for s.next != nil && now >= s.until {
		s = s.next
	}
	return s
}

// keys returns the keys of s as listed, in a new slice.
func (s *snapshot) keys() []stateKey {
	if s == nil {
		return nil
	}
	if s.listed != nil {
		return slices.Clone(s.listed)
	}
	ks := make([]stateKey, len(s.entries))
	for i, e := range s.entries {
		ks[i] = stateKey{key: e.key, state: e.state}
	}
	return ks
}

// resolve returns the keys of s as they are at Unix second now: each in its
// current state, with only the changes still to come scheduled.
func (s *snapshot) resolve(now int64) []stateKey {
	ks := s.keys()
	if s == nil || s.next == nil {
		return ks
	}
	cur := s.at(now)
	for i := range ks {
		ks[i].state = cur.byID[ks[i].key.id].state
		if ks[i].primaryFrom <= now {
			ks[i].primaryFrom = 0
		}
		if ks[i].disabledFrom <= now {
			ks[i].disabledFrom = 0
		}
	}
	return ks
}

// stateAt returns the state of sk at Unix second t, given whether the
// keyring's scheduled promotion, if any, has happened by then.
func (sk stateKey) stateAt(t int64, promoted bool) KeyState {
	st := sk.state
	if promoted {
		if sk.primaryFrom != 0 {
			st = KeyPrimary
		} else if st == KeyPrimary {
			st = KeyDecryptOnly
		}
	}
	if sk.disabledFrom != 0 && t >= sk.disabledFrom {
		st = KeyDisabled
	}
	return st
}

// newSnapshot validates ks and returns the first phase of the keyring they
// make, linked to the phases that follow at scheduled times. Keys that
// prev holds with the same material keep their AEAD and use counters.
func (kr *Keyring) newSnapshot(ks []stateKey, prev *snapshot) (*snapshot, error) {
	if len(ks) > MaxKeyringEntries {
		return nil, fmt.Errorf("%w: %d keys, more than %d", ErrInvalidKeyring, len(ks), MaxKeyringEntries)
	}
	var old map[KeyID]*keyEntry
	if prev != nil {
		old = prev.byID
	}
	base := make(map[KeyID]*keyEntry, len(ks)) // state-less entries
	promotion := int64(0)
	for _, sk := range ks {
		k, st := sk.key, sk.state
		if err := checkKey(k.id, k.material()); err != nil {
			return nil, err
		}
		if _, dup := base[k.id]; dup {
			return nil, fmt.Errorf("%w: %v appears twice", ErrDuplicateKeyID, k.id)
		}
		if st < KeyPrimary || st > KeyDisabled {
			return nil, fmt.Errorf("%w: key %v has invalid state %v", ErrInvalidKeyring, k.id, st)
		}
		if err := checkSchedule(sk); err != nil {
			return nil, err
		}
		if sk.primaryFrom != 0 {
			if promotion != 0 {
				return nil, fmt.Errorf("%w: more than one key has primary-from", ErrInvalidKeyring)
			}
			promotion = sk.primaryFrom
		}
		e := &keyEntry{key: k}
		if o := old[k.id]; o != nil && subtle.ConstantTimeCompare(o.key.material(), k.material()) == 1 {
			e.aead, e.stats = o.aead, o.stats
		} else {
			aead, err := chacha20poly1305.NewX(k.material())
			if err != nil { // unreachable: the length was checked above
				return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
			}
			e.aead, e.stats = aead, &keyStats{now: kr.statsNow}
		}
		base[k.id] = e
	}

	// The times at which something changes, in order.
	var times []int64
	for _, sk := range ks {
		for _, t := range []int64{sk.primaryFrom, sk.disabledFrom} {
			if t != 0 && !slices.Contains(times, t) {
				times = append(times, t)
			}
		}
	}
	slices.Sort(times)
	listed := slices.Clone(ks)
	if len(times) == 0 {
		listed = nil // nothing scheduled: the entries say it all
	}
	var first, last *snapshot
	for i := -1; i < len(times); i++ {
		t := int64(math.MinInt64) // before anything scheduled
		if i >= 0 {
			t = times[i]
		}
		s, err := phase(ks, base, t, promotion != 0 && t >= promotion)
		if err != nil {
			return nil, err
		}
		s.listed = listed
		if last == nil {
			first = s
		} else {
			last.next, last.until = s, t
		}
		last = s
	}
	return first, nil
}

// phase returns the snapshot of ks at Unix second t.
func phase(ks []stateKey, base map[KeyID]*keyEntry, t int64, promoted bool) (*snapshot, error) {
	s := &snapshot{entries: make([]*keyEntry, len(ks)), byID: make(map[KeyID]*keyEntry, len(ks))}
	for i, sk := range ks {
		e := *base[sk.key.id]
		e.state = sk.stateAt(t, promoted)
		s.entries[i], s.byID[sk.key.id] = &e, &e
		if e.state != KeyPrimary {
			continue
		}
		if s.primary != nil {
			return nil, fmt.Errorf("%w: keys %v and %v are both primary%s", ErrInvalidKeyring, s.primary.key.id, e.key.id, from(t))
		}
		s.primary = &e
	}
	if s.primary == nil {
		return nil, fmt.Errorf("%w: no primary key%s", ErrInvalidKeyring, from(t))
	}
	return s, nil
}

// from names the start of a phase in an error message.
func from(t int64) string {
	if t == math.MinInt64 {
		return ""
	}
	return " from " + formatScheduleTime(t)
}

// checkSchedule reports what is wrong with sk's schedule, if anything.
func checkSchedule(sk stateKey) error {
	for _, t := range []int64{sk.primaryFrom, sk.disabledFrom} {
		if t < 0 || t > maxUnixTime {
			return fmt.Errorf("%w: key %v: scheduled time outside 1970..9999", ErrInvalidKeyring, sk.key.id)
		}
	}
	switch {
	case sk.primaryFrom != 0 && sk.state != KeyDecryptOnly:
		return fmt.Errorf("%w: key %v is %v; only a decrypt-only key can have primary-from", ErrInvalidKeyring, sk.key.id, sk.state)
	case sk.disabledFrom != 0 && sk.state == KeyDisabled:
		return fmt.Errorf("%w: key %v is disabled already; it cannot have disabled-from", ErrInvalidKeyring, sk.key.id)
	case sk.primaryFrom != 0 && sk.disabledFrom != 0:
		return fmt.Errorf("%w: key %v has both primary-from and disabled-from", ErrInvalidKeyring, sk.key.id)
	}
	return nil
}

// scheduleSeconds returns t as the Unix second at which a scheduled change
// happens: t rounded up, so that nothing happens before t.
func scheduleSeconds(t time.Time) (int64, error) {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	if s <= 0 || s > maxUnixTime {
		return 0, fmt.Errorf("%w: scheduled time %v is outside 1970..9999", ErrInvalidConfig, t)
	}
	return s, nil
}

// PromoteAt schedules the decrypt-only key id to become the primary key at
// time at, rounded up to a whole second; the primary key then becomes
// decrypt-only. It is the one-step rotation for a fleet (README.md, "Keys
// and rotation"): every instance first holds the key as decrypt-only, and
// each promotes it when its own clock reaches at. A keyring holds at most
// one scheduled promotion: PromoteAt replaces the one before. A key that
// is not decrypt-only now gives [ErrKeyState].
func (kr *Keyring) PromoteAt(id KeyID, at time.Time) error {
	return kr.schedule(id, at, func(ks []stateKey, i int, t int64) error {
		if st := ks[i].state; st != KeyDecryptOnly {
			return fmt.Errorf("%w: key %v is %v; only a decrypt-only key can be promoted at a set time", ErrKeyState, id, st)
		}
		for j := range ks {
			ks[j].primaryFrom = 0
		}
		ks[i].primaryFrom, ks[i].disabledFrom = t, 0
		return nil
	})
}

// DisableAt schedules key id to stop opening values at time at, rounded up
// to a whole second: the end of a rotation, once every value sealed under
// the key has expired. A disabled key gives [ErrKeyState], and so does a
// key scheduled to become primary, and the primary key unless a promotion
// of another key is scheduled no later than at.
func (kr *Keyring) DisableAt(id KeyID, at time.Time) error {
	return kr.schedule(id, at, func(ks []stateKey, i int, t int64) error {
		if ks[i].primaryFrom != 0 {
			return fmt.Errorf("%w: key %v is scheduled to become primary", ErrKeyState, id)
		}
		switch ks[i].state {
		case KeyDisabled:
			return fmt.Errorf("%w: key %v is disabled already", ErrKeyState, id)
		case KeyPrimary:
			if !slices.ContainsFunc(ks, func(sk stateKey) bool { return sk.primaryFrom != 0 && sk.primaryFrom <= t }) {
				return fmt.Errorf("%w: key %v is primary, and no other key is scheduled to be promoted by %s", ErrKeyState, id, formatScheduleTime(t))
			}
		}
		ks[i].disabledFrom = t
		return nil
	})
}

// schedule is the common part of PromoteAt and DisableAt: it rounds at up
// to the Unix second t, finds key id at index i of the keys as they are
// now, and lets change set its schedule in place.
func (kr *Keyring) schedule(id KeyID, at time.Time, change func(ks []stateKey, i int, t int64) error) error {
	t, err := scheduleSeconds(at)
	if err != nil {
		return err
	}
	return kr.update(func(ks []stateKey) ([]stateKey, error) {
		i, err := find(ks, id)
		if err != nil {
			return nil, err
		}
		if err := change(ks, i, t); err != nil {
			return nil, err
		}
		return ks, nil
	})
}

// untilPromotion returns how long, by the keyring's clock, until its
// scheduled promotion takes effect, rounded up to a whole second, and
// false if none is to come.
func (kr *Keyring) untilPromotion() (time.Duration, bool) {
	s := kr.snap.Load()
	if s == nil {
		return 0, false
	}
	now := kr.nowUnix()
	for _, sk := range s.listed {
		if sk.primaryFrom > now {
			return time.Duration(sk.primaryFrom-now) * time.Second, true
		}
	}
	return 0, false
}
