package cookiesession

import "errors"

// Errors for values that cannot be opened. Every error that Open returns
// wraps exactly one of these, so callers can branch with errors.Is. SPEC.md §9
// says when each applies.
var (
	// ErrMalformed means the value is not a sealed value: bad characters,
	// too short, or, after authentication, bad timestamps, a bad DEFLATE
	// stream, a payload that does not deserialize into the target, a
	// session payload that breaks SPEC.md §13 (or a session compressed as a
	// whole), or a bad chunk count or set of chunk cookies. Reading a
	// session value that does not inflate to its stated length gives it too.
	ErrMalformed = errors.New("cookiesession: malformed value")

	// ErrUnsupportedVersion means the value has a format version, flags, a
	// session payload version or an entry method that this version of the
	// package does not know. Values of format version 1 give it.
	ErrUnsupportedVersion = errors.New("cookiesession: unsupported format version")

	// ErrUnknownKey means no key in the keyring has the value's key ID. The
	// keyring methods that take a KeyID return it for IDs they do not hold.
	ErrUnknownKey = errors.New("cookiesession: unknown key")

	// ErrKeyDisabled means the value's key is in the keyring but disabled.
	ErrKeyDisabled = errors.New("cookiesession: key disabled")

	// ErrAuthFailed means the value did not authenticate: it was altered or
	// truncated, or sealed for another cookie name, purpose or chunk count,
	// or as the other kind of value (a Codec value opened as a session, or
	// a session opened with a Codec).
	ErrAuthFailed = errors.New("cookiesession: authentication failed")

	// ErrExpired means the value's sealed expiry has passed. Seal returns it
	// for an expiry that is not after the current time.
	ErrExpired = errors.New("cookiesession: expired")

	// ErrTooLarge means a value or payload exceeds Options.MaxPayloadSize,
	// or would inflate beyond it, or that a session's values add up to
	// more than it (inflated), or that a session does not fit Config.MaxSize
	// or Config.MaxChunks when it is saved.
	ErrTooLarge = errors.New("cookiesession: too large")
)

// Errors for keys, keyrings and configuration.
var (
	// ErrInvalidKey means key material is not KeySize bytes, is all zero,
	// is not valid base64url, or the key ID is 0.
	ErrInvalidKey = errors.New("cookiesession: invalid key")

	// ErrDuplicateKeyID means two keys in one keyring share an ID.
	ErrDuplicateKeyID = errors.New("cookiesession: duplicate key ID")

	// ErrInvalidKeyring means keyring text does not parse, or a keyring
	// does not have exactly one primary key.
	ErrInvalidKeyring = errors.New("cookiesession: invalid keyring")

	// ErrKeyState means a key's state does not allow the change asked for,
	// such as disabling or removing the primary key.
	ErrKeyState = errors.New("cookiesession: key state does not allow this")

	// ErrInvalidConfig means an Options or Config value, or an argument, is
	// out of range, or a session was given to a Manager that did not make it.
	ErrInvalidConfig = errors.New("cookiesession: invalid configuration")
)

// Errors from sessions and the middleware.
var (
	// ErrValueType means a session value exists but does not deserialize
	// into the type asked for, as when a string is read as an int.
	ErrValueType = errors.New("cookiesession: session value has another type")

	// ErrRejected means Config.Validate rejected an authentic session. The
	// request goes on with a fresh, empty session.
	ErrRejected = errors.New("cookiesession: session rejected by Validate")

	// ErrInflateLimit means a session cookie's values say they would
	// inflate past Config.MaxSessionSize in all, or a value past
	// Config.MaxCompressionRatio times its stored length. The cookie is
	// refused at load, before anything is inflated. Such an error also
	// wraps ErrTooLarge.
	ErrInflateLimit = errors.New("cookiesession: session over its inflate limits")

	// ErrHeaderWritten means a session changed after the response header
	// had been sent, or after the connection was hijacked, so the change
	// could not be saved. Session.Set and the other changes that return an
	// error return it, and the middleware reports it through
	// Config.ErrorHook.
	ErrHeaderWritten = errors.New("cookiesession: session changed after the response header was written")
)

// Errors from migrating sessions of another format.
var (
	// ErrMigration means Config.Migration.Load failed: a legacy cookie did
	// not verify or could not be read. The request goes on with a fresh,
	// empty session.
	ErrMigration = errors.New("cookiesession: legacy session not migrated")
)
