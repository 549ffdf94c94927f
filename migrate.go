package cookiesession

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxLegacyCookies is the most cookies a Migration may name.
const maxLegacyCookies = 16

// Migration moves visitors from another session format to cookiesession
// without logging them out. For a while (the migration window) the
// application reads the old cookie when a request has no cookiesession
// cookie, writes only the new one, and deletes the old one.
//
// Load is called when a session is loaded (by the middleware, at the
// request's first use of its session; by Manager.Load and its siblings,
// at once) from a request that carries at least one of Cookies and no
// cookiesession cookie at all. A browser is migrated at most once: once it
// holds a cookiesession cookie, a request that carries one is never
// migrated, whether that cookie opens or fails (expired, altered, under a
// key this instance does not hold, rejected by Config.Validate). With a
// Load, a session that ends up empty (after [Session.Destroy] at logout, or
// [Session.Clear]) keeps an empty cookiesession cookie, sealed, instead of
// having its cookies deleted, so that the browser is not migrated again
// from a legacy cookie that outlived the logout.
//
// That matters because a legacy cookie cannot always be deleted. Anyone who
// controls a sibling subdomain can set a cookie of a legacy name with
// Domain=.example.com, and the deletion that Cookies describes does not
// match it: the browser keeps sending it. An attacker who tosses their own
// valid legacy cookie at a victim logs the victim into the attacker's
// session on the first migration (login CSRF, as with any cookie of a name
// without the __Host- prefix); the once-per-browser rule keeps it from
// coming back after the victim logs out. So keep the migration window as
// short as the legacy sessions allow: every legacy cookie was issued before
// the deploy, and none is valid for longer than the old format's maximum
// age (SESSION_COOKIE_AGE, a gorilla store's MaxAge, a token's exp) after
// that. Close the window (remove Load) once that age has passed since the
// deploy; before it, if most visitors have come back. Config.Lifetime
// should be at least that age, so that the empty cookie outlives every
// legacy cookie that may come back.
//
// Load must check the legacy cookie itself, exactly as the old application
// did: its signature or MAC, its expiry or maximum age, and anything the old
// application checked besides. cookiesession cannot tell an authentic legacy
// cookie from a forged one; whatever Load copies into the session is sealed
// and trusted from then on. Config.Validate still runs on a migrated
// session, so revocation lists and generation numbers apply to it too.
//
// A rolling deploy keeps working. Old servers read and write the legacy
// cookie as before and ignore the cookiesession cookie; new servers migrate
// any legacy cookie they see on a request without a cookiesession cookie,
// including one an old server wrote a moment ago. Once a visitor has a
// cookiesession cookie, new servers ignore and delete any legacy cookie
// (changes an old server made in it are not merged), and a logout on an old
// server does not end the session on new ones: keep the deploy short.
//
// When the window is over, remove Load and keep Cookies for a while, so that
// the legacy cookies of visitors who come back late are still deleted; then
// remove the Migration.
type Migration struct {
	// Cookies are the legacy cookies, each with the Path and Domain it was
	// set with. Every one of them that a request carries is deleted
	// (Max-Age=0) by the response that saves its session: after a
	// migration, after Load failed, and when a cookiesession cookie opened.
	// At most 16; no name may be Config.Name or one of its chunk names.
	// Default: none.
	Cookies []LegacyCookie

	// Load fills s, a fresh session, from r's legacy cookies. It returns
	// nil, having set nothing, when r has no legacy session to migrate. It
	// returns an error when a legacy cookie does not verify (altered,
	// expired, signed with another key) or cannot be read: the request then
	// gets a fresh session, and the error, wrapped in ErrMigration, goes to
	// Config.ErrorHook. A session that Load modified (with Set, say) counts
	// as modified, so it is saved in cookiesession's format on the same
	// response.
	//
	// The legacy session's expiry is kept: Load sets it with
	// [Session.SetExpiry] (a Deadline, with no idle timeout of its own, so
	// that Config.IdleTimeout still applies), and the migrated session ends
	// at the earlier of that and Config.Lifetime from the migration.
	//
	// The migrated session must fit Config.MaxSize and MaxChunks; if it
	// does not, Load's work is dropped and the error, wrapping ErrMigration
	// and ErrTooLarge, goes to Config.ErrorHook. A migrated session did not
	// come from a cookiesession cookie, so its IsNew reports true.
	//
	// r's context is the request's context, in which FromContext finds no
	// session. For Manager.LoadHeader and Manager.LoadCookies, r is a
	// stand-in that carries only their cookies, as its Cookie header, and
	// their context. s is a stand-in too: do not keep it after Load returns.
	// Default: nil, legacy cookies are only deleted.
	Load func(r *http.Request, s *Session) error
}

// LegacyCookie names a cookie of the session format being migrated from.
type LegacyCookie struct {
	// Name is the cookie's name, matched exactly.
	Name string
	// Path is the Path attribute the cookie was set with, which its
	// deletion must repeat. Default: "/".
	Path string
	// Domain is the Domain attribute the cookie was set with. Default: "",
	// a host-only cookie.
	Domain string
}

// migration is a Manager's checked Migration.
type migration struct {
	names   []string // Cookies[i].Name
	deletes []string // the Set-Cookie line that deletes Cookies[i]
	load    func(*http.Request, *Session) error
}

// newMigration checks mg against the cookie configuration that m already
// has, and returns nil if mg is the zero Migration.
func (m *Manager) newMigration(mg *Migration, secure bool) (*migration, error) {
	bad := func(format string, a ...any) (*migration, error) {
		return nil, fmt.Errorf("%w: Migration: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	if len(mg.Cookies) == 0 {
		if mg.Load != nil {
			return bad("Load needs the legacy Cookies it reads")
		}
		return nil, nil
	}
	if len(mg.Cookies) > maxLegacyCookies {
		return bad("%d Cookies, more than %d", len(mg.Cookies), maxLegacyCookies)
	}
	x := &migration{load: mg.Load}
	for _, c := range mg.Cookies {
		if c.Path == "" {
			c.Path = "/"
		}
		switch {
		case len(c.Name) > maxNameLen || !isToken(c.Name):
			return bad("legacy cookie name %q is not a token of 1 to %d characters", c.Name, maxNameLen)
		case m.chunkIndex(c.Name) >= 0:
			return bad("legacy cookie name %q is a session cookie name", c.Name)
		case !validPath(c.Path):
			return bad("legacy cookie %q: Path %q must start with / and hold no ';' or control characters", c.Name, c.Path)
		case !validDomain(c.Domain):
			return bad("legacy cookie %q: Domain %q is not a host name", c.Name, c.Domain)
		case hasPrefixFold(c.Name, "__Host-") && (c.Path != "/" || c.Domain != ""):
			return bad("legacy cookie %q: a __Host- cookie has Path / and no Domain", c.Name)
		}
		var b strings.Builder
		b.WriteString(c.Name)
		b.WriteString("=; Path=")
		b.WriteString(c.Path)
		if c.Domain != "" {
			b.WriteString("; Domain=")
			b.WriteString(c.Domain)
		}
		b.WriteString("; Max-Age=0")
		// Browsers ignore a prefixed cookie's deletion without Secure.
		if secure || hasPrefixFold(c.Name, "__Host-") || hasPrefixFold(c.Name, "__Secure-") {
			b.WriteString("; Secure")
		}
		x.names = append(x.names, c.Name)
		x.deletes = append(x.deletes, b.String())
	}
	return x, nil
}

// migrateFallback is the last stage of loadRequest: given st and err as
// the earlier stages left them, it migrates when the request carries a
// legacy cookie and no session cookie at all, and returns the load's
// errors. r is the request, or nil for LoadHeader and LoadCookies.
func (m *Manager) migrateFallback(ctx context.Context, r *http.Request, st *state, lines []string, err error) error {
	x := m.migration
	if x == nil || x.load == nil {
		return err
	}
	// The browser holds cookiesession cookies: keep it holding one, even
	// empty, unless its cookie failed for a reason that may pass (a key
	// this instance lacks, over its MaxSize, a revocation store that is
	// down, a device check): that cookie may open again, and stays as it is.
	st.keepEmpty = st.fromCookie || st.carried != 0 && !st.faultPending()
	if st.legacy == 0 || st.carried != 0 {
		return err
	}
	merr := m.migrate(ctx, r, st, lines)
	if err == nil || merr == nil {
		return cmp.Or(err, merr)
	}
	return errors.Join(err, merr)
}

// migrate runs the migration hook on a copy of st, a fresh session, and
// keeps the result if the hook filled it and Validate accepts it.
func (m *Manager) migrate(ctx context.Context, r *http.Request, st *state, lines []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if r == nil {
		r = (&http.Request{
			Method:     http.MethodGet,
			URL:        &url.URL{Path: "/"},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{"Cookie": slices.Clone(lines)},
		}).WithContext(ctx)
	} else {
		// The middleware's request carries the session in its context.
		r = r.WithContext(ctx)
	}
	tmp := &Session{m: m, loaded: true, st: *st}
	if err := m.migration.load(r, tmp); err != nil {
		return wrap(ErrMigration, err)
	}
	if !tmp.st.modified {
		return nil // nothing to migrate
	}
	if err := m.validated(ctx, &tmp.st); err != nil {
		return err
	}
	if err := m.checkMigrated(ctx, &tmp.st); err != nil {
		return err
	}
	tmp.st.accessed = st.accessed
	tmp.st.modified = true
	tmp.st.keepEmpty = true
	// The legacy expiry that Load set, within the configured Lifetime.
	tmp.st.deadline = min(tmp.st.deadline, tmp.st.created+m.lifetime)
	// A migrated session that can never be saved would fail every request
	// until the legacy cookie expires: give it up now instead, so that the
	// request goes on with a fresh session and the legacy cookie is deleted.
	trial := tmp.st
	if _, err := m.save(&trial, m.nowUnix()); err != nil {
		return wrap(ErrMigration, err)
	}
	*st = tmp.st
	return nil
}

// appendLegacyDeletes appends to lines the deletion of every legacy cookie
// the request carried, once.
func (m *Manager) appendLegacyDeletes(lines []string, st *state) []string {
	if st.legacy == 0 || m.migration == nil {
		return lines
	}
	for i, l := range m.migration.deletes {
		if st.legacy&(1<<i) != 0 {
			lines = append(lines, l)
		}
	}
	st.legacy = 0
	return lines
}
