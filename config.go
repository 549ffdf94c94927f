package cookiesession

import (
	"context"
	"net/http"
	"time"
)

// Defaults for [Config] fields left at their zero value.
const (
	// DefaultName is the default Config.Name when the configuration allows
	// the __Host- prefix: Secure (Insecure false), Path "/" and no Domain.
	// Browsers accept a __Host- cookie only from a secure origin (Chrome
	// and Firefox count http://localhost as one; Safari does not), and
	// never one set with a Domain, so a sibling subdomain cannot plant a
	// cookie of that name to shadow the session.
	DefaultName = "__Host-session"
	// DefaultPlainName is the default Config.Name when the configuration
	// does not allow the __Host- prefix.
	DefaultPlainName = "session"
	// DefaultLifetime is the default Config.Lifetime: two weeks, as Django.
	DefaultLifetime = 14 * 24 * time.Hour
	// DefaultMaxChunks is the default Config.MaxChunks: 3 cookies.
	DefaultMaxChunks = 3
	// DefaultMaxSize is the default Config.MaxSize: 6144 bytes of session
	// cookies in the Cookie header. That leaves 2 KiB of nginx's 8 KiB
	// header line for other cookies, and 4 KiB of AWS API Gateway's 10 KiB
	// of request line and headers for everything else.
	DefaultMaxSize = 6144

	// DefaultMaxSessionSize is the default Config.MaxSessionSize: 64 KiB,
	// over one and a half times the largest cart that fits the default
	// cookie budget (38 KB of item names that compress 8.5 times; README,
	// "Configuration").
	DefaultMaxSessionSize = 64 << 10
	// DefaultMaxCompressionRatio is the default Config.MaxCompressionRatio:
	// a stored value may inflate to at most 32 times its stored length.
	// Session data compresses 2 to 9 times (the benchmarks' cart objects
	// 5.1 times, a cart of item names 8.5; README, "Configuration").
	DefaultMaxCompressionRatio = 32

	minMaxSize = 512
	// maxCompressionRatio is the most DEFLATE can inflate by (258 bytes
	// for a 2-bit code, rounded up): a larger Config.MaxCompressionRatio
	// would be no cap.
	maxCompressionRatio = 1032
)

// Config configures a [Manager]. The zero value gives the defaults stated
// on each field; [New] rejects values that browsers would refuse.
type Config struct {
	// Name is the session cookie's name. When a session is split over
	// several cookies, the others are Name.1, Name.2 and so on. A name
	// starting with __Host- needs Path "/", no Domain and Secure; one
	// starting with __Secure- needs Secure. Default: DefaultName
	// ("__Host-session") when Insecure is false, Path is "/" (or empty) and
	// Domain is empty; otherwise DefaultPlainName ("session").
	Name string
	// Path is the cookie's Path attribute. Default: "/".
	Path string
	// Domain is the cookie's Domain attribute. Default: "", a host-only
	// cookie, sent to this host alone.
	Domain string
	// SameSite is the cookie's SameSite attribute. http.SameSiteNoneMode
	// needs Secure; http.SameSiteDefaultMode writes no attribute.
	// Default (0): http.SameSiteLaxMode.
	SameSite http.SameSite
	// Insecure leaves out the Secure attribute, so that browsers send the
	// cookie over plain HTTP. Set it only for local development.
	// Default: false, cookies are Secure.
	Insecure bool
	// AllowScriptAccess leaves out the HttpOnly attribute, so that
	// JavaScript can read the sealed cookie. Default: false, HttpOnly.
	AllowScriptAccess bool
	// Partitioned adds the Partitioned attribute (CHIPS), for sessions in
	// third-party iframes. It needs Secure. Default: false.
	Partitioned bool

	// Lifetime is how long a session lasts from its start (or its last
	// [Session.Renew]), whatever its activity. A session without its own
	// policy is checked at load against the Lifetime in force, so lowering
	// it reaches sessions already issued. Whole seconds, from 1 second
	// to 400 days. Default: DefaultLifetime (14 days).
	Lifetime time.Duration
	// IdleTimeout, if set, also ends a session after this long without a
	// request that saves it. Sessions are re-sealed with a later expiry once
	// a quarter of the timeout has passed since their last seal, so an
	// active session always has at least three quarters of it left, and
	// never outlives Lifetime. This is the sliding expiry that Django gives
	// with SESSION_SAVE_EVERY_REQUEST. Whole seconds, at most Lifetime.
	// It applies to sessions given their own policy with
	// [Session.SetExpiry] too, unless that policy sets an idle timeout of
	// its own or turns it off (Expiry.NoIdleTimeout). Adding or lowering it
	// reaches sessions already issued: each is checked at load against the
	// idle timeout in force. Default: 0, no idle timeout.
	IdleTimeout time.Duration
	// BrowserSession writes cookies without Max-Age, so browsers drop them
	// when they close. The sealed expiry still applies. A session given its
	// own policy with [Session.SetExpiry] makes its own choice.
	// Default: false.
	BrowserSession bool
	// SaveEveryRequest re-seals the session on every request that is not
	// answered with a 5xx status, loading it on requests that do not use
	// it. Unlike Django's SESSION_SAVE_EVERY_REQUEST it does not move the
	// session's end, since Lifetime counts from the session's start, not
	// from the last save: for expiry that slides with activity, set
	// IdleTimeout. Default: false: save only when a session was modified,
	// its idle renewal is due, or it was sealed under a key that is no
	// longer primary.
	SaveEveryRequest bool

	// MaxChunks is the most cookies one session may be split over, from
	// 1 to 10. Default: DefaultMaxChunks (3).
	MaxChunks int
	// MaxSize is the most bytes the session cookies may take in the
	// request's Cookie header, counting each name, "=" and value. A save
	// over it fails with ErrTooLarge, and a request's session cookies over
	// it are not opened (ErrTooLarge), so that a hostile header costs no
	// more than a real session (SPEC.md §14.2): lowering MaxSize or
	// MaxChunks ends the sessions that no longer fit, and so does an
	// instance with a smaller MaxSize than the one that wrote them. Such
	// cookies are not deleted, though, unless a new session is written in
	// their place, so a rollout that raises MaxSize, or its rollback, logs
	// no one out for good. At least 512.
	// Default: DefaultMaxSize (6144 bytes).
	MaxSize int

	// ValueCompressThreshold is the size in bytes, serialized, from which
	// a session value is compressed when it is saved. Each value is
	// compressed on its own, and stored compressed only if that makes it
	// shorter; smaller values (tokens, IDs, flags) never are. No two values
	// ever share a compression context, so what an attacker stores under
	// one key cannot reveal what another key holds through the cookie's
	// length. A value that mixes attacker-chosen data and a secret still can
	// (SPEC.md §11). -1 turns compression off; other negative values are
	// invalid. Default: DefaultValueCompressThreshold (1024 bytes).
	ValueCompressThreshold int

	// MaxSessionSize is the most bytes a session's values may add up to,
	// serialized and inflated. It bounds what loading a session costs a
	// request, whatever its cookie holds: a session over it fails to save
	// with ErrTooLarge, and a cookie whose values say they inflate past it
	// is refused at load, before anything is inflated, with
	// ErrInflateLimit. It is the session's own cap, independent of
	// Codec.MaxPayloadSize. From 1 to 16 MiB.
	// Default: DefaultMaxSessionSize (64 KiB).
	MaxSessionSize int
	// MaxCompressionRatio is the most a value stored compressed may
	// inflate by: its inflated length at most MaxCompressionRatio times its
	// stored length. A value that compresses better is stored as it is,
	// and a cookie holding one that claims a higher ratio is refused at
	// load, before anything is inflated, with ErrInflateLimit. So a small
	// cookie can never cost a request the inflation of a large session.
	// From 1 (compression never pays) to 1032.
	// Default: DefaultMaxCompressionRatio (32).
	MaxCompressionRatio int

	// Codec configures sealing: purpose, serializer and payload limits.
	// Codec.MaxPayloadSize caps the sealed payload; MaxSessionSize, not
	// it, caps the session's values once inflated. Codec.Compress and Codec.CompressThreshold apply
	// only to values sealed with Manager.Codec; sessions are never
	// compressed as a whole. Leave Codec.Now nil; set Now below instead.
	// Default: the zero Options.
	Codec Options

	// Validate, if set, is called with every session that opens, before the
	// request sees it. Returning an error rejects the session: the request
	// gets a fresh, empty one, and the error, wrapped in ErrRejected, goes to
	// ErrorHook. Use it to check a per-user generation number or a list of
	// revoked session IDs. s holds the loaded session; changes made to it
	// are kept, but s itself is a stand-in: do not keep it after Validate
	// returns. ctx is the request's context, in which FromContext finds no
	// session.
	// Default: nil, every authentic session is accepted.
	Validate func(ctx context.Context, s *Session) error
	// CreatedAfter, if set, ends every session that started before it
	// (started: created, or renewed with [Session.Renew], to the second),
	// own expiry policy or not, without rotating keys: the request gets a
	// fresh session and ErrorHook hears of an error wrapping ErrExpired. Set
	// it to the time of an incident to log everyone out. It may not be
	// later than Now plus Codec.ClockSkew, nor before 1970.
	// Default: the zero Time, no such limit.
	CreatedAfter time.Time

	// Revocation takes sessions back before they expire: logout that
	// refuses every copy of a cookie, and "log out everywhere", within a
	// stated bound, through a store that every instance shares; see
	// [Revocation] for its fields and their defaults. Default: the zero
	// Revocation, off.
	Revocation Revocation
	// Migration reads sessions from another cookie format, such as the one
	// the application used before cookiesession, and deletes its cookies;
	// see [Migration]. Default: the zero Migration, none.
	Migration Migration
	// ErrorHook receives every error the middleware handles itself: a
	// cookie that was rejected (the request then has a fresh session), a
	// failed save, a change made after the response header was sent or
	// after the handler returned (ErrHeaderWritten), and a value that
	// [GetOr] could not decode (ErrValueType). Default: log with log/slog's
	// default logger, at level Info for expired cookies; Error for failed
	// saves and for changes made after the header; Warn for the rest (other
	// rejected cookies, a renewal that no longer fits and keeps its cookie, a
	// session first used after the header, a value GetOr could not decode).
	// The default log record carries the request's method and path, each
	// cut to its first 128 bytes with its full length noted, so a hostile
	// request cannot make a large record.
	ErrorHook func(r *http.Request, err error)
	// SaveFailed writes the response when the middleware cannot save a
	// session, as when it is over MaxSize. Nothing of the handler's
	// response has been sent at that point, but the headers it set are
	// still in w.Header(); what the handler writes afterwards is discarded.
	// Default: a 500 Internal Server Error, without the Content-Length,
	// Content-Encoding and ETag headers the handler set.
	SaveFailed func(w http.ResponseWriter, r *http.Request, err error)
	// DeviceBinding turns on device-bound sessions (DBSC): see
	// [DeviceBinding] and [Session.OfferDeviceBinding].
	// Default: the zero DeviceBinding, off.
	DeviceBinding DeviceBinding
	// Now returns the current time. Tests inject a clock here.
	// Default: time.Now.
	Now func() time.Time
}
