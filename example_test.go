package cookiesession_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The keys of SPEC.md §10's example. They are published: never use them.
const exampleKeys = "csk1:5eed0001:primary:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA,csk1:5eed0002:decrypt-only:ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A"

type Cart struct {
	User  string
	Items []string
}

func Example() {
	// In production: cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS")).
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c, err := cookiesession.NewCodec(kr, &cookiesession.Options{
		Now: func() time.Time { return now }, // a fixed clock, for this example
	})
	if err != nil {
		log.Fatal(err)
	}

	v, err := c.Seal("session", Cart{User: "ada", Items: []string{"tea", "mug"}}, now.Add(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}

	var cart Cart
	info, err := c.Open("session", v, &cart)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cart.User, cart.Items)
	fmt.Println("key:", info.KeyID, "primary:", info.Primary)
	fmt.Println("expires:", info.ExpiresAt)

	// The cookie name is bound into the seal.
	_, err = c.Open("other", v, &cart)
	fmt.Println(errors.Is(err, cookiesession.ErrAuthFailed))
	// Output:
	// ada [tea mug]
	// key: 5eed0001 primary: true
	// expires: 2026-11-23 12:00:00 +0000 UTC
	// true
}

func ExampleGenerateKey() {
	k, err := cookiesession.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		log.Fatal(err)
	}
	// kr.Marshal() is the text to store in COOKIESESSION_KEYS.
	fmt.Println(len(kr.Keys()), kr.Keys()[0].State)
	// Output: 1 primary
}

// Staged rotation across instances: each step runs on every instance (for
// example through Keyring.Reload of a shared secret) before the next begins.
func ExampleKeyring_Promote() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	next, err := cookiesession.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	old := kr.Primary()

	// 1. Everywhere: the new key opens values, but seals nothing yet.
	if err := kr.Add(next); err != nil {
		log.Fatal(err)
	}
	// 2. Everywhere: the new key seals; the old one still opens.
	if err := kr.Promote(next.ID()); err != nil {
		log.Fatal(err)
	}
	// 3. Once values under the old key have expired or been sealed again.
	if err := kr.Disable(old); err != nil {
		log.Fatal(err)
	}
	for _, k := range kr.Keys() {
		if k.ID == next.ID() {
			fmt.Println("new key:", k.State)
		} else {
			fmt.Println(k.ID, k.State)
		}
	}
	// Output:
	// 5eed0001 disabled
	// 5eed0002 decrypt-only
	// new key: primary
}

func ExampleKeyring_Rotate() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	id, err := kr.Rotate()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(kr.Primary() == id, len(kr.Keys()))
	// The secrets never print.
	fmt.Println(kr.Keys()[0], cookiesession.KeyID(0x5eed0001))
	// Output:
	// true 3
	// {5eed0001 decrypt-only} 5eed0001
}

func ExampleCodec_Open_errors() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c, err := cookiesession.NewCodec(kr, &cookiesession.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.Seal("session", "hello", now.Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	tampered := "B" + v[1:] // the first character holds the version byte
	now = now.Add(2 * time.Hour)
	for _, cookie := range []string{v, tampered, "not a sealed value"} {
		var s string
		_, err := c.Open("session", cookie, &s)
		switch {
		case errors.Is(err, cookiesession.ErrExpired):
			fmt.Println("expired: start a new session")
		case err != nil:
			fmt.Println("rejected:", err)
		}
	}
	// Output:
	// expired: start a new session
	// rejected: cookiesession: unsupported format version: version 6
	// rejected: cookiesession: malformed value: not base64url without padding
}
