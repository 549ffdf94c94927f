//go:build unix

package cookiesession

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// callUnblocking runs call and returns its error. While call runs, it
// opens the FIFO at fifo for writing whenever a reader waits on it, and
// writes text, once: code that blocks in opening the FIFO, as
// FileKeySource did, then reads text instead of hanging the test.
func callUnblocking(t *testing.T, fifo, text string, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		// A non-blocking open for writing succeeds only while a reader
		// has the FIFO open, or waits in opening it.
		w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			runtime.Gosched()
			continue
		}
		w.WriteString(text)
		w.Close()
		return <-done
	}
}

// TestFileKeySourceRefusesFIFO runs the attack of issue 19 item 7: a FIFO
// at the key path (directly or through a symbolic link) used to block the
// read for good. Anything that is not a regular file is refused without
// being read.
func TestFileKeySourceRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "keys")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	text := oneKeyring(t).Marshal()
	for _, path := range []string{fifo, link, dir, os.DevNull} {
		err := callUnblocking(t, fifo, text, func() error {
			_, err := FileKeySource(path)(t.Context())
			return err
		})
		if !errors.Is(err, ErrInvalidKeyring) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: got %v, want ErrInvalidKeyring, not a regular file", path, err)
		}
	}
	// A symbolic link to a regular file is followed.
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	if got, err := FileKeySource(link)(t.Context()); err != nil || got != text {
		t.Errorf("symbolic link to a regular file: got %d bytes, %v", len(got), err)
	}
}

// TestWatchFIFO: Watch on a FIFO reports it to the error hook and stops
// when its context is cancelled, instead of blocking for good.
func TestWatchFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "keys")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	kr := oneKeyring(t)
	// What a writer to the FIFO would send: a change, which OnChange hears.
	two, err := NewKeyring(testKey(t, 1, 1), testKey(t, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	text := two.Marshal()
	ctx, cancel := context.WithCancel(t.Context())
	var got []error
	cfg := WatchConfig{
		ErrorHook: func(err error) { got = append(got, err); cancel() },
		OnChange:  func(*Keyring) { got = append(got, errors.New("reloaded")); cancel() },
	}
	err = callUnblocking(t, fifo, text, func() error { return kr.Watch(ctx, FileKeySource(fifo), cfg) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v, want context.Canceled", err)
	}
	if len(got) != 1 || !errors.Is(got[0], ErrInvalidKeyring) || !strings.Contains(got[0].Error(), "not a regular file") {
		t.Fatalf("Watch reported %v, want one ErrInvalidKeyring, not a regular file", got)
	}
}
