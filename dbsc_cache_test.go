package cookiesession

import (
	"errors"
	"testing"
	"time"
)

// TestDeviceCache checks that the cache of opened device cookies never
// accepts what opening would refuse: a key disabled after the device
// cookie was cached, an expired device cookie, or a text that differs.
func TestDeviceCache(t *testing.T) {
	m, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	text := b.jar["__Host-dbsc"].value
	now := clock.Now().Unix()
	rec, exp, err := m.openDeviceCookie(text, now)
	if err != nil || m.devCache.get(text, m.codec.kr.load()) == nil {
		t.Fatalf("first open: %v, or not cached", err)
	}
	if again, _, err := m.openDeviceCookie(text, now); err != nil || *again != *rec {
		t.Fatalf("cached open: %v", err)
	}
	// A text one character off misses, and does not open.
	last := "A"
	if text[len(text)-1] == 'A' {
		last = "Q"
	}
	other := text[:len(text)-1] + last
	if _, _, err := m.openDeviceCookie(other, now); err == nil {
		t.Error("an altered device cookie opened")
	}
	// The cache does not extend the expiry: the stage refuses it.
	clock.Add(time.Duration(exp-now) * time.Second)
	if got := whoami(t, b.steal()); got != notLoggedIn {
		t.Errorf("expired device cookie, cached: %q", got)
	}
	// A keyring change makes every entry miss: with the device cookie's
	// key disabled, it no longer opens, cached or not.
	clock.Set(time.Unix(now, 0))
	kr := m.codec.kr
	if err := kr.Add(testKey(t, 2, 2)); err != nil {
		t.Fatal(err)
	}
	if m.devCache.get(text, kr.load()) != nil {
		t.Error("a keyring change left the cache entry valid")
	}
	if err := kr.Promote(2); err != nil {
		t.Fatal(err)
	}
	if err := kr.Disable(1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.openDeviceCookie(text, now); !errors.Is(err, ErrKeyDisabled) {
		t.Errorf("device cookie under a disabled key: %v", err)
	}
}
