package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// kubeletDir lays out a directory as the kubelet does for a Secret volume:
// the file "keys" is a symbolic link to "..data/keys", and "..data" is a
// symbolic link to a timestamped directory holding the real file.
type kubeletDir struct {
	dir string
	n   int
}

// update writes text as the kubelet does: into a new directory, then swaps
// "..data" to it atomically by renaming a new link over it, and removes
// the old directory.
func (k *kubeletDir) update(text string) error {
	k.n++
	ts := fmt.Sprintf("..2026_11_30_12_00_00.%09d", k.n)
	if err := os.Mkdir(filepath.Join(k.dir, ts), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(k.dir, ts, "keys"), []byte(text), 0o600); err != nil {
		return err
	}
	old, _ := os.Readlink(filepath.Join(k.dir, "..data"))
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(k.dir, "keys")); err != nil {
		if err := os.Symlink(filepath.Join("..data", "keys"), filepath.Join(k.dir, "keys")); err != nil {
			return err
		}
	}
	if old != "" {
		return os.RemoveAll(filepath.Join(k.dir, old))
	}
	return nil
}

// TestFileKeySourceSymlinkSwap reads a Secret-volume file while the kubelet's
// swap replaces it over and over: every read is one whole version.
func TestFileKeySourceSymlinkSwap(t *testing.T) {
	k := &kubeletDir{dir: t.TempDir()}
	// Two versions of different lengths, long enough that a torn read
	// would show: a hundred keys each, with comments.
	version := func(fill byte) string {
		var b strings.Builder
		for i := range 100 {
			kr, err := NewKeyring(testKey(t, KeyID(1+i), fill+byte(i)))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "# key %d of version %d\n%s\n", i, fill, strings.Replace(kr.Marshal(), "primary", "decrypt-only", min(i, 1)))
		}
		return b.String()
	}
	v1, v2 := version(1), version(2)+"# a longer last line for version two\n"
	if err := k.update(v1); err != nil {
		t.Fatal(err)
	}
	src := FileKeySource(filepath.Join(k.dir, "keys"))

	// The kubelet swaps while the reader reads: at least 200 times, and on
	// until the reader has seen both versions (at most 20,000 times, so a
	// machine too busy to interleave them still ends the test); every read
	// must be one whole version.
	const swaps, maxSwaps = 200, 20000
	var sawBoth atomic.Bool
	done := make(chan error, 1)
	go func() {
		for i := 0; i < maxSwaps && (i < swaps || !sawBoth.Load()); i++ {
			if err := k.update([]string{v2, v1}[i%2]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := map[string]int{}
	var swapErr error
read:
	for {
		sawBoth.Store(reads["v1"] > 0 && reads["v2"] > 0)
		select {
		case swapErr = <-done:
			break read
		default:
		}
		text, err := src(t.Context())
		if err != nil {
			<-done
			t.Fatalf("read %d: %v", reads["v1"]+reads["v2"], err)
		}
		switch text {
		case v1:
			reads["v1"]++
		case v2:
			reads["v2"]++
		default:
			<-done
			t.Fatalf("a read saw %d bytes, neither version (%d and %d bytes)", len(text), len(v1), len(v2))
		}
	}
	if swapErr != nil {
		t.Fatal(swapErr)
	}
	if reads["v1"] == 0 || reads["v2"] == 0 {
		t.Fatalf("reads %v over up to %d swaps: the swaps did not overlap the reads", reads, maxSwaps)
	}
	t.Logf("reads %v", reads)
	var kr Keyring
	if err := kr.Reload(v2); err != nil || len(kr.Keys()) != 100 {
		t.Fatalf("version 2 does not load: %v", err)
	}
}

func TestFileKeySourceErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := FileKeySource(filepath.Join(dir, "missing"))(t.Context()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxKeyringText+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FileKeySource(big)(t.Context()); !errors.Is(err, ErrInvalidKeyring) {
		t.Errorf("oversized file: %v", err)
	}
	// A context that is done stops the fetch before the file is opened.
	small := filepath.Join(dir, "keys")
	if err := os.WriteFile(small, []byte(oneKeyring(t).Marshal()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if text, err := FileKeySource(small)(ctx); !errors.Is(err, context.Canceled) || text != "" {
		t.Errorf("cancelled context: got %d bytes, %v; want context.Canceled", len(text), err)
	}
}
