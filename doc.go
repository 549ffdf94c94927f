// Package cookiesession keeps web sessions in cookies, with no server-side
// store. Session data is serialized, compressed, and sealed with
// XChaCha20-Poly1305 under a rotating keyring; the expiry is sealed inside,
// so a replayed old cookie stops working on time even if a browser keeps it.
//
// # Sessions
//
// A [Manager] loads and saves sessions. Its [Manager.Middleware] gives every
// request a [Session], which works like Django's request.session:
//
//	kr, err := cookiesession.ParseKeyring(os.Getenv("COOKIESESSION_KEYS"))
//	m, err := cookiesession.New(kr, cookiesession.Config{})
//	http.ListenAndServe(addr, m.Middleware(mux))
//
//	// in a handler
//	s := cookiesession.FromContext(r.Context())
//	n, _, err := cookiesession.Get[int](s, "visits")
//	err = s.Set("visits", n+1)
//
// [Get] and [Pop] read typed values; [Session.Set], [Session.Delete],
// [Session.Clear] and [Session.Destroy] change the session, and
// [Session.SetExpiry] and [Session.Renew] manage its lifetime. The session
// is opened on first use only, and saved, just before the response header
// goes out, only when it changed (or needs a renewed or re-keyed seal).
// Session IDs, 128 random bits, are sealed inside for logs and revocation
// lists; [Config.Validate] can reject a session after it opens.
//
// # Cookies
//
// Cookies are HttpOnly, Secure and SameSite=Lax unless configured otherwise,
// and [New] rejects attribute combinations that browsers refuse, such as a
// __Host- name with a Domain. A session too large for one 4096-byte cookie is
// split over several (session, session.1, ...), with the count
// authenticated; chunks no longer used are deleted. [Config.MaxSize] (6144
// bytes by default) keeps the Cookie header within common proxy limits;
// saving a larger session fails with [ErrTooLarge] before anything is sent.
//
// # Serverless
//
// Without a middleware chain, [Manager.Load], [Manager.LoadHeader] and
// [Manager.LoadCookies] read a session from a request, a Cookie header or a
// list of cookies (as in an AWS API Gateway HTTP API event), and
// [Manager.Save] and [Manager.SetCookieHeaders] write it back.
//
// # Migrating from another format
//
// [Config.Migration] moves visitors from another session cookie, such as
// gorilla/sessions' or Django's, without logging them out: its Load reads
// the legacy cookie when no cookiesession cookie opened, the session is
// saved in the new format, and the legacy cookies are deleted. Checking the
// legacy cookie's signature and expiry is Load's job.
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
// the values a request reads, and never past Options.MaxPayloadSize.
package cookiesession
