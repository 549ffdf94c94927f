// Package interop tests examples/migrate against the real thing: the
// legacy package's readers and the example server read cookies that
// gorilla/sessions, golang-jwt and Django made. It is a module of its own,
// so that the library's module does not depend on those libraries; it has
// tests only.
package interop
