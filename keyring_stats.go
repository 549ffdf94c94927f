package cookiesession

import (
	"sync/atomic"
	"time"
)

// keyStats counts one key's use in this process. It outlives snapshots:
// every phase and every later keyring that holds the same key shares it.
type keyStats struct {
	opens, seals       atomic.Uint64
	lastOpen, lastSeal atomic.Int64 // Unix seconds; 0: never
	// now reads the keyring's clock, in Unix seconds. sys is a reading of
	// the system clock (time.Now) that the caller already made, or 0: it
	// stands for the keyring's clock when that is the system clock, which
	// saves a second read of the clock per seal and open.
	now func(sys int64) int64
}

// opened counts a value that the key opened. The codec calls it once a
// value has authenticated and passed every check. It takes no lock and
// allocates nothing, and it writes the time only when it changes second,
// so that instances under load do not contend on it. sys is the caller's
// reading of the system clock, in Unix seconds, or 0 (see keyStats.now).
func (e *keyEntry) opened(sys int64) {
	e.stats.opens.Add(1)
	touch(&e.stats.lastOpen, e.stats.now(sys))
}

// sealed counts a value that the key sealed, as opened does.
func (e *keyEntry) sealed(sys int64) {
	e.stats.seals.Add(1)
	touch(&e.stats.lastSeal, e.stats.now(sys))
}

func touch(last *atomic.Int64, now int64) {
	if last.Load() < now {
		last.Store(now)
	}
}

// KeyStats describes a key in a keyring as it is now, and how much this
// process has used it: the figures that tell an operator when a key can be
// disabled (README.md, "Keys and rotation").
type KeyStats struct {
	// ID is the key's ID.
	ID KeyID
	// State is what the key may do now.
	State KeyState
	// PrimaryFrom and DisabledFrom are the times at which the keyring text
	// schedules the key to become primary, or disabled, whether that time
	// is past or to come. Zero: nothing scheduled.
	PrimaryFrom, DisabledFrom time.Time
	// Opens and Seals count the values this key opened and sealed in this
	// process, since the key first entered the keyring. A reload that keeps
	// the key, with the same key material, keeps its counts.
	Opens, Seals uint64
	// LastOpen and LastSeal are when the key last opened and sealed a
	// value, to the second, by the keyring's clock. Zero: never.
	LastOpen, LastSeal time.Time
}

// Stats returns the state, schedule and use counters of each key, in
// keyring order. Reading them takes no lock that sealing or opening takes.
func (kr *Keyring) Stats() []KeyStats {
	head := kr.snap.Load()
	if head == nil {
		return nil
	}
	listed := head.keys()
	cur := head.at(kr.nowUnix())
	out := make([]KeyStats, len(cur.entries))
	for i, e := range cur.entries {
		out[i] = KeyStats{
			ID:           e.key.id,
			State:        e.state,
			PrimaryFrom:  unixOrZero(listed[i].primaryFrom),
			DisabledFrom: unixOrZero(listed[i].disabledFrom),
			Opens:        e.stats.opens.Load(),
			Seals:        e.stats.seals.Load(),
			LastOpen:     unixOrZero(e.stats.lastOpen.Load()),
			LastSeal:     unixOrZero(e.stats.lastSeal.Load()),
		}
	}
	return out
}

func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
