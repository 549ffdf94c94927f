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
	// keys, states or schedules has been loaded, and when a promotion
	// scheduled in the keyring takes effect, once, with kr showing the new
	// primary key. Default: log the keyring's key IDs and states after a
	// load with log/slog's default logger at level Info (a promotion is
	// logged whatever OnChange is: see [Keyring.Watch]).
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
// A text that removes a key, or gives one of its IDs other key material,
// is loaded only once Watch has read the same text twice in a row, one
// interval apart; a text that only adds keys or changes states loads at
// once. A file rewritten in place and read mid-write can parse as a valid
// keyring with fewer keys; that read is not followed by a second one like
// it, so the keys stay, and so do the sessions sealed under them. An
// operator's removal takes one interval longer.
//
// When a promotion scheduled in kr (SPEC.md §10.3, [Keyring.PromoteAt])
// takes effect, Watch logs it once, with log/slog's default logger at
// level Info and the IDs of the new and the old primary key, and calls
// cfg.OnChange if set. It wakes at the scheduled time, read from the
// keyring's clock, for that. Changes made through kr's methods are not
// reported.
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
	w := watcher{kr: kr, cfg: cfg}
	w.baseline()
	fetchT := time.NewTimer(0)
	defer fetchT.Stop()
	promoT := time.NewTimer(time.Hour)
	promoT.Stop()
	defer promoT.Stop()
	var promoC <-chan time.Time // nil: no promotion to wait for
	for {
		fetch := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fetchT.C:
			fetch = true
		case <-promoC:
		}
		w.reportPromotion()
		if fetch {
			text, err := src(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.fetched(text, err)
			fetchT.Reset(cfg.Interval)
		}
		w.baseline()
		promoC = nil
		if d, ok := kr.untilPromotion(); ok {
			promoT.Reset(d)
			promoC = promoT.C
		}
	}
}

// watcher is the state of one Keyring.Watch.
type watcher struct {
	kr  *Keyring
	cfg WatchConfig

	last    [sha256.Size]byte // the last text loaded or reported
	loaded  bool              // last is set
	held    [sha256.Size]byte // a text that removes keys, read once
	holding bool              // held is set, by the fetch just before

	head    *snapshot // kr's keyring when last seen
	primary KeyID     // its primary key then
}

// fetched handles one fetch of the keyring text.
func (w *watcher) fetched(text string, err error) {
	holding := w.holding
	w.holding = false
	if err != nil {
		w.cfg.ErrorHook(fmt.Errorf("cookiesession: fetching the keyring: %w", err))
		return
	}
	sum := sha256.Sum256([]byte(text))
	if w.loaded && sum == w.last {
		return
	}
	ks, err := parseKeyringText(text)
	if err == nil && w.kr.removes(ks) && !(holding && sum == w.held) {
		// Read once: load it if the next fetch reads it again.
		w.held, w.holding = sum, true
		return
	}
	w.loaded, w.last = true, sum
	before := w.kr.Marshal()
	if err == nil {
		err = w.kr.reload(ks)
	}
	switch {
	case err != nil:
		w.cfg.ErrorHook(fmt.Errorf("cookiesession: new keyring text not loaded, keeping the keys in use: %w", err))
	case w.kr.Marshal() == before:
	case w.cfg.OnChange != nil:
		w.cfg.OnChange(w.kr)
	default:
		slog.Info("cookiesession: keyring reloaded", "keys", w.kr.String())
	}
}

// baseline records the keyring as it is now.
func (w *watcher) baseline() { w.head, w.primary = w.kr.snap.Load(), w.kr.Primary() }

// reportPromotion reports a change of primary key since the baseline that
// the keyring's schedule made: the keyring itself is the same.
func (w *watcher) reportPromotion() {
	p := w.kr.Primary()
	if w.kr.snap.Load() != w.head || p == w.primary {
		return
	}
	slog.Info("cookiesession: scheduled promotion took effect", "primary", p.String(), "previous", w.primary.String())
	if w.cfg.OnChange != nil {
		w.cfg.OnChange(w.kr)
	}
	w.primary = p
}
