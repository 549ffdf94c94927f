package cookiesession_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cookiesession/cookiesession"
)

// Device binding is off by default: turn it on in Config, and offer it at
// login. The middleware then serves the registration and refresh endpoints.
func Example_deviceBinding() {
	kr, err := cookiesession.ParseKeyring(exampleKeys)
	if err != nil {
		log.Fatal(err)
	}
	// readme:begin
	m, err := cookiesession.New(kr, cookiesession.Config{
		DeviceBinding: cookiesession.DeviceBinding{Enabled: true}, // device cookie: 10 minutes
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the password first
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		s.Set("user", r.FormValue("user"))
		s.OfferDeviceBinding() // Secure-Session-Registration on this response
	})
	handler := m.Middleware(mux) // also serves POST /dbsc/start and /dbsc/refresh
	// readme:end

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "https://example.com/login?user=ada", nil))
	reg := w.Header().Get("Secure-Session-Registration")
	fmt.Println(strings.HasPrefix(reg, `(ES256);path="/dbsc/start";challenge="`))
	// Output: true
}
