// Package legacy reads the session cookies of three other formats, so that
// a cookiesession application can take over their users (see
// cookiesession.Migration):
//
//   - [Gorilla]: a gorilla/sessions CookieStore (gorilla/securecookie's
//     format, with gob);
//   - [Django]: Django's signed-cookie sessions
//     (django.contrib.sessions.backends.signed_cookies);
//   - [JWT]: a JWT signed with HS256, kept in a cookie.
//
// Each reader checks the cookie as the old application did, with the
// standard library alone: the MAC or signature first, with hmac.Equal, then
// the age or expiry, and only then the payload, within a size cap. Each has
// a Load method that is a cookiesession Migration.Load, and a method that
// returns the verified contents of a cookie value.
//
// An application that already depends on gorilla/sessions or golang-jwt
// may call those libraries inside Migration.Load instead; these readers
// exist so that the example server runs from the library's own module,
// which depends on neither. The tests in examples/migrate/interop check
// them against cookies that the real libraries, and real Django, made.
//
// Every error wraps one of the Err* sentinels of this package, which
// errors.Is finds; the middleware then wraps it in
// cookiesession.ErrMigration.
package legacy
