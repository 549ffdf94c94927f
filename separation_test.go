package cookiesession

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A Codec value and a session payload never open as each other (SPEC.md
// §4.1): what a value holds is bound into its associated data. Before
// format version 2, a value made with Codec.Seal("session", ...) under the
// session's keyring and purpose, with a serializer that stores bytes as
// given, opened as a session in the middleware, and loaded user="admin".
// These tests run that attack, and the reverse.

// separationCases are cookie names and purposes a caller may pick.
var separationCases = []struct{ name, purpose string }{
	{DefaultName, ""},
	{DefaultName, "admin"},
	{"__Host-sid", "session"},
}

// forgedSession returns a session payload that says user="admin", as the
// session layer writes it.
func forgedSession(t *testing.T) []byte {
	st := state{created: t0, deadline: t0 + 3600}
	st.values.set("user", []byte(`"admin"`))
	p, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCodecValueDoesNotOpenAsSession(t *testing.T) {
	for _, tc := range separationCases {
		t.Run(tc.name+"/"+tc.purpose, func(t *testing.T) {
			clock := newTestClock(t0)
			kr := testKeyring(t)
			var hooked []error
			m, err := New(kr, Config{Name: tc.name, Codec: Options{Purpose: tc.purpose}, Now: clock.Now,
				ErrorHook: func(_ *http.Request, err error) { hooked = append(hooked, err) }})
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewCodec(kr, &Options{Purpose: tc.purpose, Serializer: rawSerializer{}, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			payload := forgedSession(t)
			forged, err := c.Seal(tc.name, payload, clock.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}

			// Control: the same payload, sealed as a session, loads as admin,
			// so what stops the forgery is the kind of value alone.
			text, _, err := m.codec.appendSeal(nil, tc.name, kindSession, payload, clock.Now(), clock.Now().Add(time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.LoadHeader(context.Background(), tc.name+"="+string(text))
			if user, _, _ := Get[string](s, "user"); err != nil || user != "admin" {
				t.Fatalf("control: the payload sealed as a session loads user %q, error %v", user, err)
			}

			s, err = m.LoadHeader(context.Background(), tc.name+"="+forged)
			if !errors.Is(err, ErrAuthFailed) || !wrapsOne(err) {
				t.Fatalf("Load of a Codec value: error %v, want ErrAuthFailed", err)
			}
			if user, ok, _ := Get[string](s, "user"); ok || !s.IsNew() {
				t.Fatalf("Load of a Codec value gave a session with user %q", user)
			}

			// Through the middleware: a fresh session, and the reason to the hook.
			var seen string
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _, _ = Get[string](FromContext(r.Context()), "user")
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", tc.name+"="+forged)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || seen != "" {
				t.Fatalf("middleware: status %d, user %q; want 200 and no user", w.Code, seen)
			}
			if len(hooked) != 1 || !errors.Is(hooked[0], ErrAuthFailed) {
				t.Fatalf("ErrorHook got %v, want one ErrAuthFailed", hooked)
			}
		})
	}
}

func TestSessionDoesNotOpenAsCodecValue(t *testing.T) {
	for _, tc := range separationCases {
		t.Run(tc.name+"/"+tc.purpose, func(t *testing.T) {
			clock := newTestClock(t0)
			kr := testKeyring(t)
			m, err := New(kr, Config{Name: tc.name, Codec: Options{Purpose: tc.purpose}, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := m.LoadHeader(context.Background(), "")
			if err := s.Set("user", "admin"); err != nil {
				t.Fatal(err)
			}
			lines, err := m.SetCookieHeaders(s)
			if err != nil || len(lines) != 1 {
				t.Fatalf("SetCookieHeaders: %q, %v", lines, err)
			}
			c, err := http.ParseSetCookie(lines[0])
			if err != nil {
				t.Fatal(err)
			}
			raw, err := NewCodec(kr, &Options{Purpose: tc.purpose, Serializer: rawSerializer{}, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			for _, codec := range []*Codec{raw, m.Codec()} {
				var out []byte
				if _, err := codec.Open(tc.name, c.Value, &out); !errors.Is(err, ErrAuthFailed) || !wrapsOne(err) {
					t.Fatalf("Codec.Open of a session cookie: %q, error %v; want ErrAuthFailed", out, err)
				}
			}
		})
	}
}
