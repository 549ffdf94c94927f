package cookiesession

import (
	"strconv"
	"strings"
)

// Every error of the package starts with "cookiesession: ", once: an error
// that wraps another of the package's says so without a second prefix.

// unprefixed returns err's text without the package's "cookiesession: "
// prefix, for an error that adds its own.
func unprefixed(err error) string { return strings.TrimPrefix(err.Error(), "cookiesession: ") }

// wrapError is a sentinel error with the cause that produced it, as
// fmt.Errorf("%w: %w", sentinel, err) would make, but whose text names the
// package once.
type wrapError struct{ sentinel, err error }

// wrap returns sentinel wrapping err; errors.Is finds both.
func wrap(sentinel, err error) error { return wrapError{sentinel, err} }

func (e wrapError) Error() string   { return e.sentinel.Error() + ": " + unprefixed(e.err) }
func (e wrapError) Unwrap() []error { return []error{e.sentinel, e.err} }

// maxLogged is the most bytes of a request's path or method that the
// default error hook logs.
const maxLogged = 128

// logPrefix returns s, from a request, cut to its first maxLogged bytes,
// with its full length if that cut it: a 500 KB path must not make a 500
// KB log record. The logger quotes what it needs to.
func logPrefix(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return s[:maxLogged] + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
