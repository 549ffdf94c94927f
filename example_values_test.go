package cookiesession_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cookiesession/cookiesession"
)

func ExampleGetOr() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "")

	n := cookiesession.GetOr(s, "visits", 0) // 0: not set yet
	s.Set("visits", n+1)
	fmt.Println(cookiesession.GetOr(s, "visits", 0))
	fmt.Println(cookiesession.GetOr(s, "theme", "light"))
	// Output:
	// 1
	// light
}

func ExampleSession_Flashes() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "")

	// A POST handler leaves messages, then redirects ...
	s.AddFlash("success", "Logged in as ada.")
	s.AddFlash("info", "You have 2 items in your cart.")

	// ... and the page that follows shows each of them once.
	flashes, _ := s.Flashes()
	for _, f := range flashes {
		fmt.Printf("%s: %s\n", f.Level, f.Message)
	}
	flashes, _ = s.Flashes()
	fmt.Println(len(flashes))
	// Output:
	// success: Logged in as ada.
	// info: You have 2 items in your cart.
	// 0
}

// With the default JSON serializer, a number read as any is a float64, as
// encoding/json gives; read it as an int to get an int.
func ExampleGet_numbers() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "")
	s.Set("visits", 3)

	v, _, _ := cookiesession.Get[any](s, "visits")
	fmt.Printf("%T %v\n", v, v)
	n, _, _ := cookiesession.Get[int](s, "visits")
	fmt.Printf("%T %v\n", n, n)
	// Output:
	// float64 3
	// int 3
}

// A time.Time goes through JSON as RFC 3339 text: it comes back the same
// instant, to the nanosecond, with its UTC offset but without its location
// name or monotonic clock reading. Compare times with Equal.
func ExampleGet_time() {
	m := exampleManager(cookiesession.Config{})
	s, _ := m.LoadHeader(context.Background(), "")
	paris, _ := time.LoadLocation("Europe/Paris")
	login := time.Date(2026, 11, 22, 13, 0, 0, 5, paris)
	s.Set("login", login)

	got, _, _ := cookiesession.Get[time.Time](s, "login")
	fmt.Println(got.Equal(login), got == login)
	fmt.Println(got)
	// Output:
	// true false
	// 2026-11-22 13:00:00.000000005 +0100 +0100
}
