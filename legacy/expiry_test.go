package legacy

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/djangotest"
)

// A migrated session keeps the legacy session's end: a cookie a minute
// short of its maximum age becomes a session that ends in a minute, not a
// new Config.Lifetime. Config.IdleTimeout still applies to it.
func TestMigratedSessionKeepsLegacyExpiry(t *testing.T) {
	const day = 24 * time.Hour
	now := testNow.Unix()
	gk := GorillaKeys{Hash: testHashKey, Block: testBlockKey}
	type reader struct {
		cookie string
		load   func(*http.Request, *cookiesession.Session) error
		value  func(left time.Duration) string // a cookie whose session ends left from now
	}
	readers := map[string]reader{
		"django": {"sessionid", testDjango(t).Load, func(left time.Duration) string {
			signed := testNow.Add(left - 14*day).Unix()
			return djangoSign(djangotest.Secret, base64.RawURLEncoding.EncodeToString([]byte(`{"user":"ada"}`)), signed)
		}},
		"gorilla": {"session", testGorilla(t, gk).Load, func(left time.Duration) string {
			return gorillaSeal(gk, testNow.Add(left-30*day).Unix(), gorillaGob(t, map[any]any{"user": "ada"}))
		}},
		"jwt": {"jwt", testJWT(t).Load, func(left time.Duration) string {
			return jwtSign(`{"alg":"HS256","typ":"JWT"}`, `{"user":"ada","exp":`+strconv.FormatInt(now+int64(left/time.Second), 10)+`}`, testJWTSecret)
		}},
	}
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, rd := range readers {
		for _, tt := range []struct {
			left time.Duration
			idle time.Duration
			want time.Duration // from now
		}{
			{time.Minute, 0, time.Minute},
			{time.Minute, 15 * time.Minute, time.Minute},
			{2 * time.Hour, 15 * time.Minute, 15 * time.Minute}, // the idle timeout is kept
			{10 * day, 0, 10 * day},
			{20 * day, 0, 14 * day}, // capped by Config.Lifetime
		} {
			m, err := cookiesession.New(kr, cookiesession.Config{
				Name: "cs", IdleTimeout: tt.idle, Now: func() time.Time { return testNow },
				Migration: cookiesession.Migration{Cookies: []cookiesession.LegacyCookie{{Name: rd.cookie}}, Load: rd.load},
			})
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.LoadHeader(context.Background(), rd.cookie+"="+rd.value(tt.left))
			if err != nil || !s.Has("user") {
				t.Fatalf("%s, %v left: migration failed: %v", name, tt.left, err)
			}
			if got := s.Expiry().Sub(testNow); got != tt.want {
				t.Errorf("%s, %v left, IdleTimeout %v: the migrated session expires in %v, want %v", name, tt.left, tt.idle, got, tt.want)
			}
		}
	}
}
