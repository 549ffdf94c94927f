package cookiesession

import (
	"os"
	"testing"
	"time"
)

// TestClockShiftApplied guards .ci/clock-shift, which runs the tests with
// the process clock moved to another date: it fails unless this test
// binary's clock reads the date the script asked for, so a run in which
// the overlay of package time did not apply cannot pass as one at that
// date. Without COOKIESESSION_CLOCK_EXPECT (every other run) it is skipped.
func TestClockShiftApplied(t *testing.T) {
	want := os.Getenv("COOKIESESSION_CLOCK_EXPECT")
	if want == "" {
		t.Skip("not under .ci/clock-shift")
	}
	if got := time.Now().UTC().Format(time.DateOnly); got != want {
		t.Fatalf("the clock reads %s, want %s: the clock shift did not reach this test binary", got, want)
	}
}
