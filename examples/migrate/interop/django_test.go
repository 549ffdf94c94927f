package interop

import (
	"testing"

	"github.com/cookiesession/cookiesession/internal/djangotest"
	"github.com/cookiesession/cookiesession/legacy"
)

// djangoCookies are cookies made by real Django (see djangotest), signed at
// testNow.
func djangoCookies(t *testing.T) legacyCookies {
	d := djangotest.Make(t, testNow)
	return legacyCookies{
		valid: map[string]string{"plain": d.Plain, "compressed": d.Compressed},
		bad: map[string]badCookie{
			"tampered": {value: d.Tampered, want: legacy.ErrSignature},
			"expired":  {value: d.Expired, want: legacy.ErrExpired},
			"wrongkey": {value: d.Wrongkey, want: legacy.ErrSignature},
		},
	}
}
