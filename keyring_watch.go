package cookiesession

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// DefaultWatchInterval is the default WatchConfig.Interval: 5 seconds.
const DefaultWatchInterval = 5 * time.Second

// maxKeyringText bounds the keyring text a source may return: 1 MiB, far
// more than any keyring needs.
const maxKeyringText = 1 << 20

// KeySource fetches the current keyring text, in the form of SPEC.md §10,
// from wherever it is kept: a file ([FileKeySource]), or a secret store
// such as AWS Secrets Manager, SSM Parameter Store or Vault, through a
// function that calls its client. ctx bounds the fetch. [Keyring.Watch]
// calls it once per interval, and never concurrently.
type KeySource func(ctx context.Context) (string, error)

// FileKeySource returns a KeySource that reads the file at path, opening it
// anew on every call. A read follows symbolic links when it opens the
// file, so it sees one whole version of a Kubernetes Secret volume, whose
// files the kubelet replaces by swapping a "..data" symbolic link, or of a
// file replaced by rename (Vault Agent, systemd credentials,
// "cookiesession rotate -o"). A file rewritten in place can be read half
// written: write keyring files by rename.
//
// Opening a path through symbolic links is not one step: an open can
// follow "..data" to the old directory just as the kubelet deletes it, and
// find nothing. Such an open is tried again, at most twice, before the
// error is returned.
//
// The path must name a regular file, after symbolic links are followed: a
// FIFO, a device, a socket or a directory gives an error wrapping
// [ErrInvalidKeyring] without being read, so that nothing at the path can
// block [Keyring.Watch]. A ctx that is done gives its error before the
// file is opened.
func FileKeySource(path string) KeySource {
	return func(ctx context.Context) (string, error) {
		f, err := openRegular(ctx, path)
		for try := 0; try < 2 && errors.Is(err, fs.ErrNotExist); try++ {
			f, err = openRegular(ctx, path)
		}
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxKeyringText+1))
		if err != nil {
			return "", err
		}
		if len(b) > maxKeyringText {
			return "", fmt.Errorf("%w: %s is over %d bytes", ErrInvalidKeyring, path, maxKeyringText)
		}
		return string(b), nil
	}
}

// openRegular opens path for reading if it is a regular file. It opens
// without blocking (an open of a FIFO for reading otherwise waits for a
// writer), and then checks what it opened, so that a file swapped in
// between cannot slip through.
func openRegular(ctx context.Context, path string) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s is not a regular file (%v)", ErrInvalidKeyring, path, fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WatchConfig configures [Keyring.Watch]. The zero value gives the defaults
// stated on each field.
type WatchConfig struct {
	// Interval is the time between two fetches of the keyring text.
	// Default: DefaultWatchInterval (5 seconds).
	Interval time.Duration
	// ErrorHook receives each error of the source, and each new text that
	// does not parse (once per distinct text). The keyring keeps the keys it
	// has. The errors never contain key material. Default: log with
	// log/slog's default logger at level Warn.
	ErrorHook func(err error)
	// OnChange, if set, is called after a text that changes the keyring's
	// keys, states or schedules has been loaded. Default: log the keyring's
	// key IDs and states with log/slog's default logger at level Info.
	OnChange func(kr *Keyring)
}

// Watch keeps kr in step with the keyring text that src returns, until ctx
// is done; run it in its own goroutine. It fetches the text at once and
// then every cfg.Interval, and reloads kr when the text's SHA-256 differs
// from the last text fetched: it compares hashes, not file times, and keeps
// no copy of the text. A text is validated in full before it replaces the
// keyring ([Keyring.Reload]); a text that does not parse goes to
// cfg.ErrorHook and the keyring keeps its last good keys.
//
// Watch polls rather than waiting for file system events: polling works
// alike for files and secret stores, needs nothing beyond the standard
// library, and cannot miss the kubelet's symbolic link swap, which a watch
// on the file itself (as with fsnotify and inotify) sees as the file's
// removal and then nothing. A read of a small file every few seconds costs
// nothing measurable; schedule promotions (SPEC.md §10) later than the
// slowest instance can pick a change up.
//
// Watch returns ctx's error when ctx is done, or at once an error wrapping
// [ErrInvalidConfig] if src is nil or cfg.Interval is negative.
func (kr *Keyring) Watch(ctx context.Context, src KeySource, cfg WatchConfig) error {
	if src == nil {
		return fmt.Errorf("%w: nil KeySource", ErrInvalidConfig)
	}
	if cfg.Interval < 0 {
		return fmt.Errorf("%w: WatchConfig.Interval %v is negative", ErrInvalidConfig, cfg.Interval)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultWatchInterval
	}
	if cfg.ErrorHook == nil {
		cfg.ErrorHook = func(err error) { slog.Warn("cookiesession: keyring watch", "err", err) }
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(kr *Keyring) { slog.Info("cookiesession: keyring reloaded", "keys", kr.String()) }
	}
	var last [sha256.Size]byte
	fetched := false
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		text, err := src(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			cfg.ErrorHook(fmt.Errorf("cookiesession: fetching the keyring: %w", err))
		default:
			sum := sha256.Sum256([]byte(text))
			if fetched && sum == last {
				break
			}
			fetched, last = true, sum
			before := kr.Marshal()
			if err := kr.Reload(text); err != nil {
				cfg.ErrorHook(fmt.Errorf("cookiesession: new keyring text not loaded, keeping the keys in use: %w", err))
			} else if kr.Marshal() != before {
				cfg.OnChange(kr)
			}
		}
		t.Reset(cfg.Interval)
	}
}
