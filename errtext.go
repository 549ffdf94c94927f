package cookiesession

import "strings"

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
