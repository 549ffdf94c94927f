package cookiesession

import (
	"hash/maphash"
	"sync/atomic"
)

// deviceCache remembers the device cookies that opened, so that the
// requests of a bound session do not decode and open the same device
// cookie again and again: without it, a bound request costs about 1.5
// times an unbound one (BenchmarkDeviceMiddleware). It is an optimization
// only, and forgets nothing it should not: an entry counts only for the
// exact text that opened, under the keyring snapshot it opened under (any
// change to the keyring, scheduled or not, makes every entry miss), and
// its sealed expiry is checked on every hit. Only values that opened are
// stored, so an attacker cannot fill it with values of their own; a
// collision overwrites a slot, and costs a miss. Its size is fixed:
// deviceCacheSlots entries of about 300 bytes.
type deviceCache struct {
	seed  maphash.Seed
	slots [deviceCacheSlots]atomic.Pointer[deviceEntry]
}

const deviceCacheSlots = 1024

// deviceEntry is a device cookie that opened.
type deviceEntry struct {
	text string
	snap *snapshot // the keyring it opened under
	rec  [80]byte  // session ID || key
	exp  int64
}

func newDeviceCache() *deviceCache { return &deviceCache{seed: maphash.MakeSeed()} }

func (c *deviceCache) slot(text string) *atomic.Pointer[deviceEntry] {
	return &c.slots[maphash.String(c.seed, text)%deviceCacheSlots]
}

// get returns the entry of text opened under snap, or nil.
func (c *deviceCache) get(text string, snap *snapshot) *deviceEntry {
	e := c.slot(text).Load()
	if e == nil || e.snap != snap || e.text != text {
		return nil
	}
	return e
}

// put remembers that text opened under snap to rec, expiring at exp.
func (c *deviceCache) put(text string, snap *snapshot, rec []byte, exp int64) {
	e := &deviceEntry{text: text, snap: snap, exp: exp}
	copy(e.rec[:], rec)
	c.slot(text).Store(e)
}

// openDeviceCookie opens a device cookie's text at now, through the cache,
// and returns its record (session ID || key) and expiry. The record is
// shared: the caller must not change it.
func (m *Manager) openDeviceCookie(text string, now int64) (*[80]byte, int64, error) {
	snap := m.codec.kr.load()
	if e := m.devCache.get(text, snap); e != nil {
		return &e.rec, e.exp, nil
	}
	p, exp, err := m.openDevice(kindDevice, m.dev.name, text, 80, now)
	if err != nil {
		return nil, 0, err
	}
	m.devCache.put(text, snap, p, exp)
	var rec [80]byte
	copy(rec[:], p)
	return &rec, exp, nil
}
