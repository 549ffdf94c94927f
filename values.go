package cookiesession

import (
	"fmt"
	"slices"
)

// A session's values in memory: sorted by key, each kept in serialized
// form, a compressed one inflated only when it is first read.

// entry is one session value, in serialized form. A value stored
// compressed in the cookie stays compressed until it is read (z set, val
// nil), and keeps its compressed bytes for the next save as long as it is
// not set again. Slices, once stored, are never written to.
type entry struct {
	key   string
	val   []byte // the serialized value; nil while z is not inflated yet
	z     []byte // the value's raw DEFLATE form, if it is stored compressed
	n     int    // len(val), known before inflation
	fresh bool   // set since the last save: how to store it is not decided yet
}

// value returns the serialized value of e, inflating it on first use.
func (e *entry) value() ([]byte, error) {
	if e.val != nil || e.z == nil {
		return e.val, nil
	}
	v, err := inflateExact(e.z, e.n)
	if err != nil {
		return nil, fmt.Errorf("%w (session value %.32q)", err, e.key)
	}
	e.val = v
	return v, nil
}

// values holds a session's entries in increasing key order, the order of
// the payload, so they encode without sorting and decode without a map.
type values []entry

// find returns the index of key in vs, or where it would be inserted, and
// whether it is there. A binary search, written out so that no entry is
// copied to compare its key.
func (vs values) find(key string) (int, bool) {
	lo, hi := 0, len(vs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if vs[mid].key < key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(vs) && vs[lo].key == key
}

// index returns the index of key in vs, or -1. A session of a few values
// is scanned for an equal key, which compares lengths before bytes; a
// larger one is searched.
func (vs values) index(key string) int {
	if len(vs) > 8 {
		if i, ok := vs.find(key); ok {
			return i
		}
		return -1
	}
	for i := range vs {
		if vs[i].key == key {
			return i
		}
	}
	return -1
}

// get returns the serialized value of key, inflating it if need be.
func (vs values) get(key string) ([]byte, bool, error) {
	if i := vs.index(key); i >= 0 {
		v, err := vs[i].value()
		return v, true, err
	}
	return nil, false, nil
}

func (vs *values) set(key string, val []byte) {
	e := entry{key: key, val: val, n: len(val), fresh: true}
	i, ok := vs.find(key)
	if ok {
		(*vs)[i] = e
		return
	}
	*vs = slices.Insert(*vs, i, e)
}

// del removes key and reports whether it was there.
func (vs *values) del(key string) bool {
	i, ok := vs.find(key)
	if ok {
		*vs = slices.Delete(*vs, i, i+1)
	}
	return ok
}

func (vs *values) clear() {
	clear(*vs)
	*vs = (*vs)[:0]
}
