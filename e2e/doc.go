// Package e2e holds end-to-end tests of cookiesession in a real browser: they
// build the demo server in examples/demo, start it on a loopback port, and
// drive Debian's headless Chromium against it through the DevTools protocol
// (github.com/chromedp/chromedp), reading the browser's own cookie store.
//
// The package has no code of its own, only tests. Run them from this
// directory:
//
//	go test ./...
//
// They look for the browser at /usr/bin/chromium, or at the path in the
// E2E_CHROMIUM environment variable. Without a browser they skip, unless
// E2E_REQUIRE_BROWSER=1, as in CI, where a missing browser fails them.
//
// TestDeviceBoundChromium (dbsc_test.go) runs the demo over HTTPS with
// device-bound sessions (-dbsc -dbsc-ttl 10s), and its own Chromium,
// /usr/lib/chromium/chromium (or E2E_CHROMIUM), with the DBSC features and
// a self-signed certificate trusted through
// --ignore-certificate-errors-spki-list. It takes about 30 s, most of it
// waiting for device cookies to expire.
package e2e
