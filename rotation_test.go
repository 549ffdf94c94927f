package cookiesession

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRotationUnderLoad rotates the keyring, one-step and staged, while
// goroutines seal and open. Every key stays in the keyring, so no open may
// fail. Run it with -race.
func TestRotationUnderLoad(t *testing.T) {
	s := newSetup(t, nil)
	const workers, rounds = 4, 300
	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		opened   atomic.Int64
		migrated atomic.Int64 // opens of values whose key was no longer primary
	)
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			var held []string // values sealed earlier, under older keys
			for i := 0; !stop.Load() || i < rounds; i++ {
				v, err := s.c.Seal("session", fmt.Sprintf("w%d-%d", w, i), s.clock.Now().Add(time.Hour))
				if err != nil {
					errs <- err
					return
				}
				held = append(held, v)
				for _, h := range []string{v, held[i/2], held[0]} {
					var out string
					info, err := s.c.Open("session", h, &out)
					if err != nil {
						errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
						return
					}
					opened.Add(1)
					if !info.Primary {
						migrated.Add(1)
					}
				}
			}
		})
	}
	for r := range 200 {
		if r%2 == 0 {
			if _, err := s.kr.Rotate(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.kr.Add(k); err != nil {
			if errors.Is(err, ErrDuplicateKeyID) {
				continue
			}
			t.Fatal(err)
		}
		if err := s.kr.Promote(k.ID()); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if migrated.Load() == 0 {
		t.Errorf("no value was opened under a non-primary key in %d opens: rotation did not overlap the workers", opened.Load())
	}
	t.Logf("%d opens, %d under a key that was no longer primary, %d keys", opened.Load(), migrated.Load(), len(s.kr.Keys()))
}
