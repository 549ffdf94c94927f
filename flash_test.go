package cookiesession

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Several flashes, each with its level, survive a round trip and are read
// once, in order.
func TestFlashes(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if got, err := s.Flashes(); got != nil || err != nil || s.st.modified {
		t.Fatalf("Flashes of a new session: %v, %v, modified %v", got, err, s.st.modified)
	}
	for _, f := range []Flash{{"success", "Logged in as ada."}, {"info", "Item added."}} {
		if err := s.AddFlash(f.Level, f.Message); err != nil {
			t.Fatal(err)
		}
	}
	s.Set("user", "ada")
	s2, _ := stRoundTrip(t, e.m, s)
	want := []Flash{{"success", "Logged in as ada."}, {"info", "Item added."}}
	got, err := s2.Flashes()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Flashes (-want +got):\n%s", diff)
	}
	s3, _ := stRoundTrip(t, e.m, s2)
	if got, err := s3.Flashes(); got != nil || err != nil {
		t.Errorf("Flashes read twice: %v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"user"}, s3.Keys()); diff != "" {
		t.Errorf("keys after reading flashes (-want +got):\n%s", diff)
	}
}

// A FlashKey value that is not a list of flashes is an ErrValueType, and is
// left alone.
func TestFlashesWrongType(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set(FlashKey, 42)
	if err := s.AddFlash("info", "x"); !errors.Is(err, ErrValueType) {
		t.Errorf("AddFlash over an int: %v", err)
	}
	if _, err := s.Flashes(); !errors.Is(err, ErrValueType) {
		t.Errorf("Flashes of an int: %v", err)
	}
	if n, _, _ := Get[int](s, FlashKey); n != 42 {
		t.Errorf("the value became %d", n)
	}
}

// GetOr gives the stored value, or the default for a missing key or a value
// of another type; under the middleware the latter reaches the hook.
func TestGetOr(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("n", 7)
	s.Set("name", "ada")
	for _, tt := range []struct {
		name string
		got  int
		want int
	}{
		{"stored", GetOr(s, "n", -1), 7},
		{"missing", GetOr(s, "missing", -1), -1},
		{"another type", GetOr(s, "name", -1), -1},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: GetOr = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	if got := GetOr(s, "name", ""); got != "ada" {
		t.Errorf("GetOr string = %q", got)
	}

	m := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("name", "ada")
		if got := GetOr(s, "name", 5); got != 5 {
			t.Errorf("GetOr under the middleware = %d", got)
		}
	})
	m.do(t, "GET", "/", "")
	m.hook.mwWantErrs(t, ErrValueType)
}

// TestFlashesNeverCompressed runs the attack of SPEC.md §11 on flash
// messages: one flash holds a secret, the next is worded by the attacker
// (a search term echoed back, say) and long enough to pass the compression
// threshold. The messages share one value, so were it compressed, a right
// guess of the secret would shorten the cookie. They are stored as they
// are: the cookie has the same length whatever the guess.
func TestFlashesNeverCompressed(t *testing.T) {
	e := stNew(t, Config{})
	const secret = "7f3a9c2e41b8d605"
	lengths := map[string]int{}
	for _, guess := range []string{secret, "0123456789abcdef"} {
		s := stLoad(t, e.m, "")
		if err := s.AddFlash("info", "Your reset code is "+secret+"."); err != nil {
			t.Fatal(err)
		}
		if err := s.AddFlash("error", "No results for: reset code is "+guess+" "+hdWords(DefaultValueCompressThreshold, 64)); err != nil {
			t.Fatal(err)
		}
		header := stHeader(t, stSave(t, e.m, s))
		lengths[guess] = len(header)
		if i, ok := s.st.values.find(FlashKey); !ok || s.st.values[i].z != nil {
			t.Fatalf("the flash messages were stored compressed")
		}
		flashes, err := stLoad(t, e.m, header).Flashes()
		if err != nil || len(flashes) != 2 {
			t.Fatalf("Flashes after the round trip: %v, %v", flashes, err)
		}
	}
	if lengths[secret] != lengths["0123456789abcdef"] {
		t.Fatalf("cookie length %d for the right guess, %d for a wrong one", lengths[secret], lengths["0123456789abcdef"])
	}
}
