package cookiesession

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"time"
)

// Defaults for [Config] fields left at their zero value.
const (
	// DefaultName is the default Config.Name when the configuration allows
	// the __Host- prefix: Secure (Insecure false), Path "/" and no Domain.
	// Browsers accept a __Host- cookie only from a secure origin (or
	// http://localhost), and never one set with a Domain, so a sibling
	// subdomain cannot plant a cookie of that name to shadow the session.
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

	minMaxSize = 512
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
	// [Session.Renew]), whatever its activity. Whole seconds, from 1 second
	// to 400 days. Default: DefaultLifetime (14 days).
	Lifetime time.Duration
	// IdleTimeout, if set, also ends a session after this long without a
	// request that saves it. Sessions are re-sealed with a later expiry once
	// a quarter of the timeout has passed since their last seal, so an
	// active session always has at least three quarters of it left, and
	// never outlives Lifetime. This is the sliding expiry that Django gives
	// with SESSION_SAVE_EVERY_REQUEST. Whole seconds, at most Lifetime.
	// A session given its own policy with [Session.SetExpiry] has its own
	// idle timeout instead. Default: 0, no idle timeout.
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
	// over it fails with ErrTooLarge. At least 512. Default: DefaultMaxSize
	// (6144 bytes).
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

	// Codec configures sealing: purpose, serializer and payload limits.
	// Codec.MaxPayloadSize also caps the total size of a session's values
	// after inflation. Codec.Compress and Codec.CompressThreshold apply
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
	// Migration reads sessions from another cookie format, such as the one
	// the application used before cookiesession, and deletes its cookies;
	// see [Migration]. Default: the zero Migration, none.
	Migration Migration
	// ErrorHook receives every error the middleware handles itself: a
	// cookie that was rejected (the request then has a fresh session), a
	// failed save, a change made after the response header was sent or
	// after the handler returned (ErrHeaderWritten), and a value that
	// [GetOr] could not decode (ErrValueType). Default: log with log/slog's default logger, at
	// level Info for expired cookies; Warn for other rejected cookies, for a
	// renewal that no longer fits (the cookie is kept) and for a session
	// first used after the header; Error for failed saves and for changes
	// made after the header.
	ErrorHook func(r *http.Request, err error)
	// SaveFailed writes the response when the middleware cannot save a
	// session, as when it is over MaxSize. Nothing of the handler's
	// response has been sent at that point, but the headers it set are
	// still in w.Header(); what the handler writes afterwards is discarded.
	// Default: a 500 Internal Server Error, without the Content-Length,
	// Content-Encoding and ETag headers the handler set.
	SaveFailed func(w http.ResponseWriter, r *http.Request, err error)
	// Now returns the current time. Tests inject a clock here.
	// Default: time.Now.
	Now func() time.Time
}

// Manager loads and saves sessions in cookies, as middleware or by hand.
// Make one with [New]; it is safe for concurrent use.
type Manager struct {
	cookieLayout // names, attributes, chunking and budgets of the cookies
	codec        *Codec
	lifetime     int64 // seconds
	idle         int64 // seconds; 0: none
	browser      bool
	saveEvery    bool
	zmin         int // ValueCompressThreshold; math.MaxInt: never compress
	validate     func(context.Context, *Session) error
	migration    *migration // nil: none
	hook         func(*http.Request, error)
	saveFailed   func(http.ResponseWriter, *http.Request, error)
	now          func() time.Time
}

// New returns a Manager that seals sessions with kr. Every Config field is
// checked here: a value out of range, or cookie attributes that browsers
// would reject, give an error wrapping [ErrInvalidConfig]; a keyring without
// a primary key gives [ErrInvalidKeyring].
func New(kr *Keyring, cfg Config) (*Manager, error) {
	bad := func(format string, a ...any) (*Manager, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Name == "" {
		cfg.Name = DefaultPlainName
		if !cfg.Insecure && cfg.Path == "/" && cfg.Domain == "" {
			cfg.Name = DefaultName
		}
	}
	if cfg.SameSite == 0 {
		cfg.SameSite = http.SameSiteLaxMode
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.MaxChunks == 0 {
		cfg.MaxChunks = DefaultMaxChunks
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	zmin := cmp.Or(cfg.ValueCompressThreshold, DefaultValueCompressThreshold)
	if zmin == -1 {
		zmin = math.MaxInt
	}
	switch {
	case cfg.Lifetime < time.Second || cfg.Lifetime > maxCookieAge*time.Second || cfg.Lifetime%time.Second != 0:
		return bad("Lifetime %v is not a whole number of seconds from 1s to 400 days", cfg.Lifetime)
	case cfg.IdleTimeout < 0 || cfg.IdleTimeout > cfg.Lifetime || cfg.IdleTimeout%time.Second != 0:
		return bad("IdleTimeout %v is not a whole number of seconds from 0 to Lifetime (%v)", cfg.IdleTimeout, cfg.Lifetime)
	case zmin < 0:
		return bad("ValueCompressThreshold %d is negative but not -1", zmin)
	case cfg.Codec.Now != nil:
		return bad("set Config.Now, not Config.Codec.Now")
	}
	layout, err := newCookieLayout(cookieSpec{
		name: cfg.Name, path: cfg.Path, domain: cfg.Domain,
		sameSite: cfg.SameSite, insecure: cfg.Insecure,
		noHTTPOnly: cfg.AllowScriptAccess, partitioned: cfg.Partitioned,
		maxChunks: cfg.MaxChunks, maxSize: cfg.MaxSize,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := cfg.Codec
	opts.Now = cfg.Now
	codec, err := NewCodec(kr, &opts)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cookieLayout: layout,
		codec:        codec,
		lifetime:     int64(cfg.Lifetime / time.Second),
		idle:         int64(cfg.IdleTimeout / time.Second),
		browser:      cfg.BrowserSession,
		saveEvery:    cfg.SaveEveryRequest,
		zmin:         zmin,
		validate:     cfg.Validate,
		hook:         cfg.ErrorHook,
		saveFailed:   cfg.SaveFailed,
		now:          cfg.Now,
	}
	if m.migration, err = m.newMigration(&cfg.Migration, !cfg.Insecure); err != nil {
		return nil, err
	}
	if m.hook == nil {
		m.hook = logError
	}
	if m.saveFailed == nil {
		m.saveFailed = internalError
	}
	return m, nil
}

// Codec returns the codec the manager seals with.
func (m *Manager) Codec() *Codec { return m.codec }

func (m *Manager) nowUnix() int64 { return m.now().Unix() }

// Load returns the session carried by r's Cookie headers. It always returns
// a usable session. If r carried session cookies that could not be used,
// the session is new and the error says why: it wraps one of the errors
// Codec.Open returns, ErrRejected, or ErrMigration (see Config.Migration).
func (m *Manager) Load(r *http.Request) (*Session, error) {
	return m.loadLines(r.Context(), r, r.Header["Cookie"])
}

// LoadHeader is Load for the value of a Cookie header, as "a=1; b=2".
func (m *Manager) LoadHeader(ctx context.Context, header string) (*Session, error) {
	return m.loadLines(ctx, nil, []string{header})
}

// LoadCookies is Load for a list of cookies, each "name=value" (or several
// pairs separated by ";", as in a Cookie header), such as the cookies array
// of an AWS API Gateway HTTP API (payload 2.0) event.
func (m *Manager) LoadCookies(ctx context.Context, cookies []string) (*Session, error) {
	return m.loadLines(ctx, nil, cookies)
}

func (m *Manager) loadLines(ctx context.Context, r *http.Request, lines []string) (*Session, error) {
	s := &Session{m: m, loaded: true}
	err := m.loadMigrating(ctx, r, &s.st, lines)
	return s, err
}

// loadLazy loads s from the request the middleware gave it. s is locked;
// the caller reports a rejected cookie to the error hook, after unlocking.
func (m *Manager) loadLazy(s *Session) (*http.Request, error) {
	s.loaded = true
	r, ctx := s.req, s.ctx
	s.req, s.ctx = nil, nil
	if r == nil {
		m.fresh(&s.st)
		return nil, nil
	}
	// Validate gets the context without this session: it is locked.
	return r, m.loadMigrating(ctx, r, &s.st, r.Header["Cookie"])
}

// report sends a load error to the error hook.
func (m *Manager) report(r *http.Request, err error) {
	if err != nil && r != nil {
		m.hook(r, err)
	}
}

// fresh makes st a new, empty session starting now.
func (m *Manager) fresh(st *state) {
	now := m.nowUnix()
	*st = state{created: now, deadline: now + m.lifetime, carried: st.carried}
}

// load fills st from the cookie lines. On error st is a fresh session that
// still knows which session cookies the request carried.
func (m *Manager) load(ctx context.Context, st *state, lines []string) error {
	var j jar
	for _, line := range lines {
		m.scan(&j, line)
	}
	if j.pairs > maxCookiePairs {
		m.fresh(st)
		return fmt.Errorf("%w: request carries more than %d cookies", ErrMalformed, maxCookiePairs)
	}
	st.carried = j.carried
	m.fresh(st)
	if j.n[0] == 0 {
		if j.carried != 0 {
			return fmt.Errorf("%w: chunk cookies without a first cookie %q", ErrMalformed, m.names[0])
		}
		return nil
	}
	loaded, err := m.open(&j)
	if err != nil {
		return err
	}
	loaded.carried = j.carried
	if m.validate != nil {
		tmp := &Session{m: m, loaded: true, st: loaded}
		if err := m.validate(ctx, tmp); err != nil {
			return wrap(ErrRejected, err)
		}
		loaded = tmp.st
		loaded.accessed = false
	}
	*st = loaded
	return nil
}

// open tries the candidate cookie sets in j, in the order the request sent
// them, and returns the first that opens. With no duplicates there is one.
func (m *Manager) open(j *jar) (state, error) {
	var firstErr error
	attempts := 0
	text := getBuf()
	defer putBuf(text)
	buf := getBuf()
	defer putBuf(buf)
	for c := 0; c < j.n[0] && attempts < maxAttempts; c++ {
		n, part0, err := parseCount(j.vals[0][c])
		if err == nil && n > m.maxChunks {
			err = fmt.Errorf("%w: chunk count %d is over MaxChunks %d", ErrMalformed, n, m.maxChunks)
		}
		for i := 1; err == nil && i < n; i++ {
			if j.n[i] == 0 {
				err = fmt.Errorf("%w: chunk cookie %q is missing", ErrMalformed, m.names[i])
			}
		}
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		// Walk every combination of candidates for chunks 1..n-1.
		var pick [maxChunksLimit]int
		for attempts < maxAttempts {
			attempts++
			size := len(part0)
			for i := 1; i < n; i++ {
				size += len(j.vals[i][pick[i]])
			}
			// The length is checked before the parts are copied together.
			if err := m.codec.checkLen(size); err != nil {
				firstErr = cmp.Or(firstErr, err)
			} else {
				t := append((*text)[:0], part0...)
				for i := 1; i < n; i++ {
					t = append(t, j.vals[i][pick[i]]...)
				}
				*text = t
				st, err := m.openText(buf, t, n)
				if err == nil {
					st.used = n
					return st, nil
				}
				firstErr = cmp.Or(firstErr, err)
			}
			i := 1
			for ; i < n; i++ {
				if pick[i]++; pick[i] < j.n[i] {
					break
				}
				pick[i] = 0
			}
			if i >= n {
				break
			}
		}
	}
	return state{}, firstErr
}

// openText opens one assembled sealed text and decodes its session payload.
func (m *Manager) openText(buf *[]byte, text []byte, chunks int) (state, error) {
	payload, info, err := m.codec.openPayload(buf, m.names[0], kindSession, text, chunks)
	if err != nil {
		return state{}, err
	}
	var st state
	if err := st.decodePayload(payload, m.codec.max); err != nil {
		return state{}, err
	}
	st.fromCookie, st.info = true, info
	st.issued, st.expires = info.IssuedAt.Unix(), info.ExpiresAt.Unix()
	st.oldKey = !info.Primary
	return st, nil
}

// Save adds to w's header the Set-Cookie lines that s needs, if any: see
// [Manager.SetCookieHeaders]. Call it before the response header is written.
func (m *Manager) Save(w http.ResponseWriter, s *Session) error {
	lines, err := m.SetCookieHeaders(s)
	for _, l := range lines {
		w.Header().Add("Set-Cookie", l)
	}
	return err
}

// SetCookieHeaders returns the Set-Cookie header values that store s, and
// that delete the chunk cookies it no longer uses, or none if nothing needs
// writing. It seals s when s was modified, its idle renewal is due, it was
// sealed under a key that is no longer primary, or Config.SaveEveryRequest
// is set. An empty session deletes its cookies. After a successful call, s
// counts as saved. A modified session over Config.MaxSize or
// Config.MaxChunks gives an error wrapping ErrTooLarge, and no headers. An
// unmodified one that no longer fits (after the budget was lowered) keeps
// its cookie, which stays valid: the headers that remain to be sent come
// with an error wrapping ErrTooLarge.
//
// Unlike the middleware, SetCookieHeaders does not see the response: do
// not call it for a 5xx response, and give a response that carries the
// lines "Vary: Cookie" and "Cache-Control: private", as the middleware
// does, if a shared cache could store it.
func (m *Manager) SetCookieHeaders(s *Session) ([]string, error) {
	if s.m != m {
		return nil, fmt.Errorf("%w: session belongs to another Manager", ErrInvalidConfig)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if !m.saveEvery {
			return nil, nil
		}
		// Load errors are not reported here: this is not the middleware.
		m.loadLazy(s)
	}
	return m.save(&s.st, m.nowUnix())
}
