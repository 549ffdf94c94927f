package cookiesession_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/cookiesession/cookiesession"
)

// A keyring kept in step with a secret file, such as a Kubernetes Secret
// volume.
func ExampleKeyring_Watch() {
	dir, err := os.MkdirTemp("", "keys")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys")
	if err := os.WriteFile(path, []byte("# shop sessions\n"+exampleKeys+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// readme:begin
	src := cookiesession.FileKeySource(path)
	text, err := src(ctx)
	if err != nil {
		log.Fatal(err)
	}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		log.Fatal(err)
	}
	go kr.Watch(ctx, src, cookiesession.WatchConfig{Interval: 5 * time.Second})
	// readme:end

	fmt.Println(kr)
	// Output: Keyring[5eed0001:primary 5eed0002:decrypt-only]
}

// A one-step rotation for several instances: the new key is decrypt-only
// until its scheduled promotion, and the old key ends once the sessions it
// sealed have expired.
func ExampleKeyring_PromoteAt() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	promote := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := kr.PromoteAt(0x5eed0002, promote); err != nil {
		log.Fatal(err)
	}
	lifetime := 14 * 24 * time.Hour
	if err := kr.DisableAt(0x5eed0001, promote.Add(lifetime+5*time.Minute)); err != nil {
		log.Fatal(err)
	}
	for _, at := range []time.Time{promote.Add(-time.Second), promote, promote.Add(lifetime + 5*time.Minute)} {
		kr.SetClock(func() time.Time { return at })
		fmt.Println(at.Format(time.RFC3339), kr)
	}
	// Output:
	// 2026-12-01T09:59:59Z Keyring[5eed0001:primary 5eed0002:decrypt-only]
	// 2026-12-01T10:00:00Z Keyring[5eed0001:decrypt-only 5eed0002:primary]
	// 2026-12-15T10:05:00Z Keyring[5eed0001:disabled 5eed0002:primary]
}
