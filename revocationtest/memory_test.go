package revocationtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/revocationtest"
)

// fakeClock is the memory store's clock, which Wait moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestMemoryRevocationStore runs the suite against the in-memory store, on
// a fake clock.
func TestMemoryRevocationStore(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1795305600, 0)}
	revocationtest.Run(t, revocationtest.Harness{
		New: func(*testing.T) cookiesession.RevocationStore {
			return cookiesession.NewMemoryRevocationStore(clock.Now)
		},
		Wait: func(_ *testing.T, d time.Duration) { clock.Add(d) },
	})
}
