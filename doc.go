// Package cookiesession keeps web sessions in cookies, with no server-side
// store. Session data is serialized (large values compressed, each on its
// own) and sealed with XChaCha20-Poly1305 under a rotating keyring; the
// expiry is sealed inside, so a replayed old cookie stops working on time
// even if a browser keeps it.
//
// # Sessions
//
// A [Manager] loads and saves sessions. Its [Manager.Middleware] gives every
// request a [Session], which works like Django's request.session:
//
//	kr, err := cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS"))
//	m, err := cookiesession.New(kr, cookiesession.Config{})
//	csrf := http.NewCrossOriginProtection()
//	http.ListenAndServe(addr, csrf.Handler(m.Middleware(mux)))
//
//	// in a handler
//	s := cookiesession.FromContext(r.Context())
//	n := cookiesession.GetOr(s, "visits", 0) + 1
//	err = s.Set("visits", n)
//
// [Get], [GetOr] and [Pop] read typed values; [Session.Set],
// [Session.Delete], [Session.Clear] and [Session.Destroy] change the
// session; [Session.AddFlash] and [Session.Flashes] keep messages to show
// once; [Session.SetExpiry], [Session.ResetExpiry] and [Session.Renew]
// manage its lifetime. The session is opened on first use only, and saved,
// just before the response header goes out, only when it changed (or needs
// a renewed or re-keyed seal). Session IDs, 128 random bits, are sealed
// inside for logs and revocation lists; [Config.Validate] can reject a
// session after it opens.
//
// # Expiry
//
// A session follows [Config] unless it has a policy of its own: it ends
// Config.Lifetime after its start or last renewal, or after
// Config.IdleTimeout without a request that saves it, in cookies without
// Max-Age if Config.BrowserSession is set. [Session.SetExpiry] gives one
// session its own [Expiry], sealed in its cookie: Django's set_expiry with
// seconds of inactivity (IdleTimeout), 0 (BrowserClose), a datetime
// (Deadline) or a timedelta (Lifetime); [Session.ResetExpiry] is
// set_expiry(None). An Expiry without an IdleTimeout of its own keeps
// Config.IdleTimeout; Expiry.NoIdleTimeout turns it off for that session,
// as for a "remember me" login: Expiry{Lifetime: 30 * 24 * time.Hour,
// NoIdleTimeout: true}. [Session.OwnExpiry] reads the policy back. Lifetime
// never moves, not even with Config.SaveEveryRequest; Config.IdleTimeout is
// the expiry that slides with activity. A session without a policy of its
// own is also held, when it loads, to the Lifetime and IdleTimeout in force
// then, and every session to Config.CreatedAfter, so that a changed
// configuration reaches cookies already issued.
//
// # Values
//
// Values are stored serialized, JSON by default: a struct comes back as the
// same struct. [Get] of a value as any gives what encoding/json gives, so a
// number is a float64; read it as an int to get an int. A [time.Time] comes
// back as the same instant to the nanosecond, with its UTC offset but
// without its location name or monotonic clock reading: compare times with
// Equal. Each response carries the whole session, so when two requests
// from one browser overlap (two tabs), the one answered last wins and the
// other's changes are lost, as with every cookie session: write the session
// in the requests that own a value, and keep data that many tabs change at
// once on the server, with only its ID in the session.
//
// # Mistakes
//
// A handler that [Manager.Middleware] does not wrap gets a nil *Session
// from [FromContext], whose methods panic with a message that names the
// middleware. A change after the response header went out cannot be saved:
// [Session.Set] and the other changes that return an error return
// [ErrHeaderWritten], and [Config.ErrorHook] hears of it, as it does of a
// change from a goroutine after the handler returned.
//
// # Cookies
//
// Cookies are HttpOnly, Secure and SameSite=Lax unless configured otherwise,
// and named __Host-session ([DefaultName]) when the configuration allows
// the prefix, so that a sibling subdomain cannot plant a cookie that shadows
// them; otherwise session ([DefaultPlainName]). [New] rejects attribute
// combinations that browsers refuse, such as a __Host- name with a Domain.
// The middleware adds "Vary: Cookie" to responses that used the session, and
// makes every response that carries session cookies "Cache-Control:
// private" (unless the handler chose no-store or an unqualified private),
// so that no shared cache hands one visitor's session to another.
//
// SameSite=Lax keeps the cookies out of requests that another site starts,
// such as a form posted from it, but not out of its top-level GET
// navigations, and a cross-site POST still reaches the handler, without the
// cookies. Change state only in POST (PUT, DELETE) handlers, and wrap the
// middleware in [net/http.CrossOriginProtection], which refuses
// cross-origin requests other than GET, HEAD and OPTIONS.
//
// A session too large for one 4096-byte cookie is
// split over several (__Host-session, __Host-session.1, ...), with the count
// authenticated; chunks no longer used are deleted. [Config.MaxSize] (6144
// bytes by default) keeps the Cookie header within common proxy limits;
// saving a larger session fails with [ErrTooLarge] before anything is sent.
//
// # Serverless
//
// Without a middleware chain, [Manager.Load], [Manager.LoadHeader] and
// [Manager.LoadCookies] read a session from a request, a Cookie header or a
// list of cookies (as in an AWS API Gateway HTTP API event), and
// [Manager.Save], [Manager.SaveHeader] (which also add the middleware's
// Vary and Cache-Control headers) and [Manager.SetCookieHeaders] write it
// back.
//
// # Migrating from another format
//
// [Config.Migration] moves visitors from another session cookie, such as
// gorilla/sessions' or Django's, without logging them out: its Load reads
// the legacy cookie when no cookiesession cookie opened, the session is
// saved in the new format, and the legacy cookies are deleted. Checking the
// legacy cookie's signature and expiry is Load's job.
//
// # Revocation
//
// A stateless cookie cannot be taken back on its own: a copy stolen before
// logout works until it expires. [Config.Revocation] adds a store of
// revocation marks that every instance shares (never session data):
// [Session.SetSubject] at login records whose session it is,
// [Session.Revoke] at logout refuses every copy of the cookie, and
// [Manager.RevokeSubject] every session of a user ("log out everywhere").
// Revocation.Bound is the longest a revoked session may still be accepted;
// each session is checked at most that often, and the time of its last
// check is sealed in its cookie, so a request whose check is not due makes
// no round trip. When the store is down, the check fails closed by default
// (a fresh session; the cookie is kept). [NewMemoryRevocationStore] serves
// one instance; the redisstore module a fleet, on Redis or Valkey; the
// revocationtest package is the conformance suite for any other
// [RevocationStore].
//
// # Device-bound sessions
//
// [Config.DeviceBinding], off by default, binds a session to a key that
// the browser keeps and cannot export (Device Bound Session Credentials,
// in Chrome and Chromium), so that a copy of the cookies stops working
// when the short-lived device cookie expires. A handler offers binding
// with [Session.OfferDeviceBinding] at login; the middleware serves the
// registration and refresh endpoints. The public key is sealed in the
// session, and the challenges are sealed values: nothing is stored on the
// server. Browsers without DBSC keep ordinary sessions. It needs HTTPS.
//
// # Sealing values
//
// A [Codec] turns any serializable Go value into a cookie-safe string for a
// named cookie, and back:
//
//	kr, err := cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS"))
//	c, err := cookiesession.NewCodec(kr, nil) // nil: the defaults
//	v, err := c.Seal("session", cart, time.Now().Add(24*time.Hour))
//	info, err := c.Open("session", v, &cart)
//
// The cookie name, and an optional purpose, are bound into the seal as
// associated data: a value sealed for one cookie never opens as another.
// [Info] says which key sealed a value, whether that key is still primary,
// and when the value was issued and expires.
//
// # Keys and rotation
//
// A [Keyring] holds one primary key, which seals, plus decrypt-only keys,
// which still open older values, and disabled keys, which open nothing. Every
// key has a random 32-bit ID that travels in the sealed value, so opening
// looks the key up directly and never tries keys in turn.
//
// [Keyring.Rotate] rotates a single instance in one step. Several instances
// rotate in stages, so that none meets a value under a key it does not know:
// [Keyring.Add] the new key everywhere, then [Keyring.Promote] it
// everywhere, then [Keyring.Disable] or [Keyring.Remove] the old key once
// the values under it have expired or been sealed again. [ParseKeyring],
// [Keyring.Marshal] and [Keyring.Reload] carry keyrings as text, for
// environment variables and secret files. Keyrings are safe for concurrent
// use; rotation never blocks sealing or opening.
//
// A fleet can also rotate in one step: a keyring text may schedule a key's
// promotion and another's end ([Keyring.PromoteAt], [Keyring.DisableAt],
// "primary-from" and "disabled-from" in the text), which every instance
// applies by its own clock. [Keyring.Watch] keeps a keyring in step with a
// file ([FileKeySource]) or any other [KeySource], and [Keyring.Stats]
// counts the values each key sealed and opened, so that an operator can see
// when an old key is no longer presented.
//
// # Errors
//
// Cookies are attacker input. [Codec.Open] never panics, and every error it
// returns wraps one sentinel: [ErrMalformed], [ErrUnsupportedVersion],
// [ErrUnknownKey], [ErrKeyDisabled], [ErrAuthFailed], [ErrExpired] or
// [ErrTooLarge]. Test them with errors.Is. The middleware turns a cookie
// that does not open into a fresh, empty session, never an error response,
// and reports the reason to [Config.ErrorHook].
//
// # Format
//
// SPEC.md in the module specifies the sealed value, the session payload, the
// cookies and the keyring text byte by byte, with test vectors in
// testdata/. In short: a 30-byte clear header (version 2, flags, key ID,
// nonce), then the ciphertext of the issued-at and expiry times and the
// payload, all in unpadded base64url. What the payload is (a Codec value or
// a session), the cookie name and the purpose are bound in as associated
// data, so a value sealed with a Codec never opens as a session.
//
// # Compression
//
// Compression leaks, through the length of the cookie, how well a secret and
// attacker-chosen data compress together (CRIME, BREACH). Sessions are never
// compressed as a whole: each value of Config.ValueCompressThreshold bytes
// (1 KiB) or more is compressed on its own, so what an attacker stores under
// one key reveals nothing of another key's value. A single value that mixes
// a secret and attacker-chosen data still leaks; keep secrets under keys of
// their own. The Codec compresses whole values only with Options.Compress,
// off by default. Decompression runs only after authentication, only for
// the values a request reads, and only after the values' stated sizes have
// passed Config.MaxSessionSize and Config.MaxCompressionRatio. Flash
// messages are never compressed.
package cookiesession
