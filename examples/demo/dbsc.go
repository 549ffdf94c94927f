package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/cookiesession/cookiesession"
)

// HTTPS and device-bound sessions (DBSC):
//
//	go run ./examples/demo -tls-cert cert.pem -tls-key key.pem -dbsc
//
// -tls-cert and -tls-key serve HTTPS. -dbsc binds each login to a key the
// browser keeps (Chrome and Chromium with DBSC), so a copy of the cookies
// stops working once the short-lived device cookie, which -dbsc-ttl sets,
// expires. DBSC needs HTTPS with a certificate the browser trusts:
// Chromium ignores it over plain HTTP, and -dbsc refuses to start without
// TLS. The page says whether the session is device-bound.
//
// Chromium refreshes a device cookie with less than 2 minutes to live, so
// a -dbsc-ttl under that makes it refresh before every request, and it
// signs at most 6 times per 9 minutes per site: short values are for
// tests. The default is the library's, 10 minutes.
var (
	tlsCert = flag.String("tls-cert", "", "serve HTTPS with this certificate file (PEM); needs -tls-key")
	tlsKey  = flag.String("tls-key", "", "the private key file (PEM) of -tls-cert")
	dbsc    = flag.Bool("dbsc", false, "device-bound sessions (DBSC): a copied cookie stops working after -dbsc-ttl; needs -tls-cert and -tls-key")
	dbscTTL = flag.Duration("dbsc-ttl", cookiesession.DefaultDeviceCookieLifetime, "lifetime of the device cookie with -dbsc: whole seconds from 10s to 24h")
)

// serving is how the demo serves: plain HTTP or HTTPS, with or without
// device binding.
type serving struct {
	cert, key string
	dbsc      bool
	ttl       time.Duration
	insecure  bool
}

func servingFlags() serving {
	return serving{cert: *tlsCert, key: *tlsKey, dbsc: *dbsc, ttl: *dbscTTL, insecure: *insecure}
}

func (s serving) tls() bool { return s.cert != "" }

// check refuses combinations that cannot work.
func (s serving) check() error {
	switch {
	case (s.cert == "") != (s.key == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case s.dbsc && !s.tls():
		return errors.New("-dbsc needs HTTPS: give -tls-cert and -tls-key (Chromium ignores DBSC over plain HTTP)")
	case s.dbsc && s.insecure:
		return errors.New("-dbsc needs Secure cookies: drop -insecure")
	case s.dbsc && (s.ttl < 10*time.Second || s.ttl > 24*time.Hour || s.ttl%time.Second != 0):
		return fmt.Errorf("-dbsc-ttl %v is not a whole number of seconds from 10s to 24h", s.ttl)
	}
	return nil
}

// apply turns device binding on in cfg with -dbsc.
func (s serving) apply(cfg *cookiesession.Config) {
	if s.dbsc {
		cfg.DeviceBinding = cookiesession.DeviceBinding{Enabled: true, CookieLifetime: s.ttl}
	}
}
