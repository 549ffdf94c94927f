package cookiesession

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// Manager loads and saves sessions in cookies, as middleware or by hand.
// Make one with [New]; it is safe for concurrent use.
type Manager struct {
	cookieLayout // names, attributes, chunking and budgets of the cookies
	codec        *Codec
	lifetime     int64 // seconds
	idle         int64 // seconds; 0: none
	browser      bool
	saveEvery    bool
	zmin         int   // ValueCompressThreshold; math.MaxInt: never compress
	maxSession   int   // MaxSessionSize
	maxRatio     int   // MaxCompressionRatio
	createdAfter int64 // CreatedAfter in Unix seconds; 0: none
	validate     func(context.Context, *Session) error
	migration    *migration  // nil: none
	revocation   *revocation // nil: off
	hook         func(*http.Request, error)
	saveFailed   func(http.ResponseWriter, *http.Request, error)
	now          func() time.Time
	dev          *deviceConfig // nil: device binding off
	devCache     *deviceCache  // device cookies that opened (dbsc_cache.go)
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
	maxSession := cmp.Or(cfg.MaxSessionSize, DefaultMaxSessionSize)
	maxRatio := cmp.Or(cfg.MaxCompressionRatio, DefaultMaxCompressionRatio)
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
	case maxSession < 1 || maxSession > maxMaxPayloadSize:
		return bad("MaxSessionSize %d is outside 1..%d", maxSession, maxMaxPayloadSize)
	case maxRatio < 1 || maxRatio > maxCompressionRatio:
		return bad("MaxCompressionRatio %d is outside 1..%d", maxRatio, maxCompressionRatio)
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
	opts := cfg.Codec
	opts.Now = cfg.Now // nil: the codec reads time.Now, and knows it
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	codec, err := NewCodec(kr, &opts)
	if err != nil {
		return nil, err
	}
	var createdAfter int64
	if !cfg.CreatedAfter.IsZero() {
		createdAfter = cfg.CreatedAfter.Unix()
		if latest := cfg.Now().Unix() + codec.skew; createdAfter < 0 || createdAfter > latest {
			return bad("CreatedAfter %v is before 1970 or after now (%v) plus ClockSkew",
				cfg.CreatedAfter.UTC().Format(time.RFC3339), cfg.Now().UTC().Format(time.RFC3339))
		}
	}
	m := &Manager{
		cookieLayout: layout,
		codec:        codec,
		lifetime:     int64(cfg.Lifetime / time.Second),
		idle:         int64(cfg.IdleTimeout / time.Second),
		browser:      cfg.BrowserSession,
		saveEvery:    cfg.SaveEveryRequest,
		zmin:         zmin,
		maxSession:   maxSession,
		maxRatio:     maxRatio,
		createdAfter: createdAfter,
		validate:     cfg.Validate,
		hook:         cfg.ErrorHook,
		saveFailed:   cfg.SaveFailed,
		now:          cfg.Now,
	}
	if m.migration, err = m.newMigration(&cfg.Migration, !cfg.Insecure); err != nil {
		return nil, err
	}
	if m.revocation, err = newRevocation(&cfg.Revocation, codec.skew); err != nil {
		return nil, err
	}
	if m.dev, err = newDeviceConfig(cfg.DeviceBinding, &cfg); err != nil {
		return nil, err
	}
	if m.dev != nil {
		m.devName, m.devCache = m.dev.name, newDeviceCache()
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
// Codec.Open returns, ErrRejected, ErrRevoked, ErrRevocationUnavailable, or
// ErrMigration (see Config.Migration). With Config.Revocation.FailOpen, an
// error wrapping ErrRevocationUnavailable comes with the session accepted.
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
	err := m.loadRequest(ctx, r, &s.st, lines)
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
	return r, m.loadRequest(ctx, r, &s.st, r.Header["Cookie"])
}

// report sends a load error to the error hook.
func (m *Manager) report(r *http.Request, err error) {
	if err != nil && r != nil {
		m.hook(r, err)
	}
}

// fresh makes st a new, empty session starting now.
func (m *Manager) fresh(st *state) { m.freshAt(st, m.nowUnix()) }

// freshAt makes st a new, empty session starting at now.
func (m *Manager) freshAt(st *state, now int64) {
	*st = state{created: now, deadline: now + m.lifetime, carried: st.carried}
}

// loadRequest fills st from a request's Cookie lines: the load pipeline,
// whose stages run in this order (the handler, then the save, come after
// it):
//
//  1. read: one pass over the lines finds the session's chunk cookies, the
//     device cookie of Config.DeviceBinding, and any legacy cookies of a
//     Migration (scan);
//  2. open: authenticate, check the sealed expiry, and decode the payload
//     within MaxSessionSize and MaxCompressionRatio, inflating nothing
//     (loadJar, open);
//  3. check: the expiry policy in force, Lifetime, IdleTimeout and
//     CreatedAfter (checkPolicy), then Config.Validate, then revocation
//     when due (checkRevocation), then device binding (deviceStage), all
//     in loadJar;
//  4. migrate: only for a request that carried no session cookie at all
//     (migrateFallback).
//
// r is the request, or nil for LoadHeader and LoadCookies. On error st is
// a fresh session that still knows which session cookies, and which legacy
// cookies, the request carried.
func (m *Manager) loadRequest(ctx context.Context, r *http.Request, st *state, lines []string) error {
	err := m.loadCookies(ctx, st, lines, false)
	return m.migrateFallback(ctx, r, st, lines, err)
}

// loadCookies is stages 1 to 3 of loadRequest, with no migration; with
// devOptional, a bound session loads without a valid device cookie (for
// the device-binding endpoints, which check a proof instead).
func (m *Manager) loadCookies(ctx context.Context, st *state, lines []string, devOptional bool) error {
	var j jar
	j.devOptional = devOptional
	if m.migration != nil {
		j.legacy = m.migration.names
	}
	for _, line := range lines {
		m.scan(&j, line)
	}
	err := m.loadJar(ctx, st, &j)
	st.legacy = j.legacyBits
	return err
}

// loadJar fills st from the session cookies in j: stages 2 and 3 of
// loadRequest. The clock is read once, for the fresh session and for the
// expiry checks.
func (m *Manager) loadJar(ctx context.Context, st *state, j *jar) error {
	now := m.nowUnix()
	if j.pairs > maxCookiePairs {
		m.freshAt(st, now)
		return fmt.Errorf("%w: request carries more than %d cookies", ErrMalformed, maxCookiePairs)
	}
	st.carried = j.carried
	m.freshAt(st, now)
	if j.n[0] == 0 {
		if j.dropped != nil {
			st.keepCookie = errors.Is(j.dropped, errOverBudget)
			return fmt.Errorf("%w: no value of cookie %q can be a session cookie", j.dropped, m.names[0])
		}
		if j.carried != 0 {
			return fmt.Errorf("%w: chunk cookies without a first cookie %q", ErrMalformed, m.names[0])
		}
		return nil
	}
	// open: authenticate, check the sealed expiry, decode the payload
	// within MaxSessionSize and MaxCompressionRatio (nothing inflated).
	var loaded state
	if err := m.open(j, now, &loaded); err != nil {
		st.keepCookie = errors.Is(err, ErrUnknownKey) || errors.Is(err, errOverBudget)
		return err
	}
	loaded.carried = j.carried
	// check: the expiry policy in force (Lifetime, IdleTimeout,
	// CreatedAfter), then the application's Validate.
	if err := m.checkPolicy(&loaded, now); err != nil {
		return err
	}
	if err := m.validated(ctx, &loaded); err != nil {
		return err
	}
	ok, err := m.checkRevocation(ctx, &loaded)
	if !ok {
		if errors.Is(err, ErrRevocationUnavailable) {
			st.held = true // fail closed: a passing fault keeps the cookie
		}
		return err
	}
	if err := m.deviceStage(&loaded, j, now); err != nil {
		// A passing fault (a refresh that failed) must not delete the
		// cookie: only a new session written in its place does.
		st.keepCookie = true
		return err
	}
	loaded.accessed = false
	*st = loaded
	return err // with Revocation.FailOpen, the store's failure, for the hook
}

// validated runs Config.Validate, if set, on a stand-in session holding st,
// and keeps in st what Validate changed. A rejection wraps ErrRejected.
func (m *Manager) validated(ctx context.Context, st *state) error {
	if m.validate == nil {
		return nil
	}
	v := &Session{m: m, loaded: true, st: *st}
	if err := m.validate(ctx, v); err != nil {
		return wrap(ErrRejected, err)
	}
	*st = v.st
	return nil
}

// open tries the candidate cookie sets in j, in the order the request sent
// them, and fills st from the first that opens at now. With no duplicates
// there is one. On error st holds no session.
func (m *Manager) open(j *jar, now int64, st *state) error {
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
			if err := cmp.Or(m.checkJoined(n, size), m.codec.checkLen(size)); err != nil {
				firstErr = cmp.Or(firstErr, err)
			} else {
				t := append((*text)[:0], part0...)
				for i := 1; i < n; i++ {
					t = append(t, j.vals[i][pick[i]]...)
				}
				*text = t
				err := m.openText(buf, t, n, now, st)
				if err == nil {
					st.used = n
					return nil
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
	*st = state{}
	return firstErr
}

// openText opens one assembled sealed text at now and decodes its session
// payload into st, which it clears first.
func (m *Manager) openText(buf *[]byte, text []byte, chunks int, now int64, st *state) error {
	*st = state{}
	payload, info, err := m.codec.openPayload(buf, m.names[0], kindSession, text, chunks, now)
	if err != nil {
		return err
	}
	if err := st.decodePayload(payload, m.maxSession, m.maxRatio); err != nil {
		return err
	}
	st.fromCookie, st.info = true, info
	st.issued, st.expires = info.IssuedAt.Unix(), info.ExpiresAt.Unix()
	st.oldKey = !info.Primary
	return nil
}

// Save is [Manager.SaveHeader] on w's header: it adds the Set-Cookie lines
// that s needs, if any, with Vary: Cookie and Cache-Control: private. Call
// it before the response header is written.
func (m *Manager) Save(w http.ResponseWriter, s *Session) error { return m.SaveHeader(w.Header(), s) }

// SetCookieHeaders returns the Set-Cookie header values that store s, and
// that delete the chunk cookies it no longer uses, or none if nothing needs
// writing. It seals s when s was modified, its idle renewal is due, it was
// sealed under a key that is no longer primary, or Config.SaveEveryRequest
// is set. An empty session deletes its cookies. After a successful call, s
// counts as saved. A modified session over Config.MaxSize or
// Config.MaxChunks gives an error wrapping ErrTooLarge, and no headers. An
// unmodified one that no longer fits (after the budget was lowered) keeps
// its cookie, which stays valid: the headers that remain to be sent come
// with an error wrapping ErrTooLarge. So do they with an error wrapping
// ErrRevocationUnavailable when the ID the session had before
// [Session.Renew] could not be revoked, and, with no headers, when the
// session is the fresh one of a request whose revocation check failed
// closed and it was changed without a login or Destroy: its changes are
// not saved, so that the request's cookie comes back with the store. None
// of these three calls for failing the response: send it, with the
// headers returned, as the middleware does after telling Config.ErrorHook.
//
// Unlike the middleware, SetCookieHeaders does not see the response: do
// not call it for a 5xx response, and give a response that carries the
// lines "Vary: Cookie" and "Cache-Control: private", as the middleware
// and [Manager.SaveHeader] do, if a shared cache could store it.
//
// A nil s panics, as every method of a nil *Session does, with a message
// that names [Manager.Middleware].
func (m *Manager) SetCookieHeaders(s *Session) ([]string, error) {
	s.check()
	if s.m != m {
		return nil, fmt.Errorf("%w: session belongs to another Manager", ErrInvalidConfig)
	}
	revErr := m.revokeRenewed(context.Background(), s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if !m.saveEvery {
			return nil, nil
		}
		// Load errors are not reported here: this is not the middleware.
		m.loadLazy(s)
	}
	lines, err := m.save(&s.st, m.nowUnix())
	if err == nil {
		err = revErr // the lines are still to be sent
	}
	return lines, err
}
