package cookiesession_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
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
	// The keyring resolves schedules against its clock: a fixed date needs
	// the clock set first, or a promotion already past is applied at once.
	at := promote.Add(-10 * time.Minute)
	kr.SetClock(func() time.Time { return at })
	if err := kr.PromoteAt(0x5eed0002, promote); err != nil {
		log.Fatal(err)
	}
	lifetime := 14 * 24 * time.Hour
	if err := kr.DisableAt(0x5eed0001, promote.Add(lifetime+5*time.Minute)); err != nil {
		log.Fatal(err)
	}
	for _, t := range []time.Time{promote.Add(-time.Second), promote, promote.Add(lifetime + 5*time.Minute)} {
		at = t
		fmt.Println(at.Format(time.RFC3339), kr)
	}
	// Output:
	// 2026-12-01T09:59:59Z Keyring[5eed0001:primary 5eed0002:decrypt-only]
	// 2026-12-01T10:00:00Z Keyring[5eed0001:decrypt-only 5eed0002:primary]
	// 2026-12-15T10:05:00Z Keyring[5eed0001:disabled 5eed0002:primary]
}

// TestExamplePromoteAtAnyDate runs ExampleKeyring_PromoteAt's steps with
// the promotion on the example's date, on today's, and in 2099, and checks
// that each gives the same answers: a step that read the real clock instead
// of the keyring's would tell the dates apart.
func TestExamplePromoteAtAnyDate(t *testing.T) {
	lifetime := 14 * 24 * time.Hour
	for _, promote := range []time.Time{
		time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		time.Now().UTC().Truncate(time.Second),
		time.Date(2099, 12, 1, 10, 0, 0, 0, time.UTC),
	} {
		t.Run(promote.Format("2006-01-02"), func(t *testing.T) {
			kr, err := cookiesession.ParseKeyring(exampleKeys)
			if err != nil {
				t.Fatal(err)
			}
			at := promote.Add(-10 * time.Minute)
			kr.SetClock(func() time.Time { return at })
			if err := kr.PromoteAt(0x5eed0002, promote); err != nil {
				t.Fatal(err)
			}
			if err := kr.DisableAt(0x5eed0001, promote.Add(lifetime+5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, t := range []time.Time{promote.Add(-time.Second), promote, promote.Add(lifetime + 5*time.Minute)} {
				at = t
				got = append(got, kr.String())
			}
			want := []string{
				"Keyring[5eed0001:primary 5eed0002:decrypt-only]",
				"Keyring[5eed0001:decrypt-only 5eed0002:primary]",
				"Keyring[5eed0001:disabled 5eed0002:primary]",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
		})
	}
}
