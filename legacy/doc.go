// Package legacy reads the session cookies of three other formats, so that
// a cookiesession application can take over their users without logging
// them out (see cookiesession.Migration). It is a supported package of the
// cookiesession module, with a stable API, and imports nothing but the
// standard library and cookiesession itself.
//
// # Readers
//
//   - [Gorilla]: a gorilla/sessions CookieStore (gorilla/securecookie's
//     format, with gob), made by [NewGorilla] from a [GorillaConfig];
//   - [Django]: Django's signed-cookie sessions
//     (django.contrib.sessions.backends.signed_cookies), made by
//     [NewDjango] from a [DjangoConfig];
//   - [JWT]: a JWT signed with HS256, kept in a cookie, made by [NewJWT]
//     from a [JWTConfig].
//
// Each constructor checks its config and fills in the defaults that each
// field's documentation states. Each reader has a Cookie method, which
// names the cookie it reads (for Migration.Cookies); a Load method, which
// is a Migration.Load; and a method that returns the verified contents of
// one cookie value (Gorilla.Decode, Django.Verify, JWT.Verify).
//
//	g, err := legacy.NewGorilla(legacy.GorillaConfig{
//		Keys: []legacy.GorillaKeys{{Hash: hashKey, Block: blockKey}},
//	})
//	m, err := cookiesession.New(kr, cookiesession.Config{
//		Migration: cookiesession.Migration{
//			Cookies: []cookiesession.LegacyCookie{{Name: g.Cookie(), Path: "/"}},
//			Load:    g.Load,
//		},
//	})
//
// # Checks
//
// Each reader checks the cookie as the old application did: the MAC or
// signature first, with hmac.Equal, then the age or expiry against its
// clock (the config's Now, time.Now by default), and only then the
// payload, within a size cap. A value longer than [MaxValueLen] bytes is
// refused unread. Match the old application's settings in the config:
// whatever a reader accepts is sealed into a cookiesession session and
// trusted from then on. A fuzz target for each reader (FuzzGorillaDecode,
// FuzzDjangoVerify, FuzzJWTVerify) signs the fuzzed bytes, to reach the
// code after the MAC, and fails if anything unsigned is accepted; CI runs
// them.
//
// An application that already depends on gorilla/sessions or golang-jwt
// may call those libraries inside Migration.Load instead. The tests of the
// module examples/migrate/interop check these readers against cookies that
// the real libraries, and real Django, made: the readers accept exactly
// what those accept, and read the same values.
//
// # Errors
//
// Every error wraps one of the Err* sentinels of this package ([ErrNoKey],
// [ErrTooLarge], [ErrMalformed], [ErrSignature], [ErrAlgorithm],
// [ErrExpired], [ErrNotYetValid], [ErrPayload]), which errors.Is finds; the
// middleware then wraps it in cookiesession.ErrMigration. An error quotes
// at most a few bytes of the cookie.
package legacy
