package cookiesession

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Device-bound sessions (Device Bound Session Credentials, DBSC; SPEC.md
// §15). A browser that supports DBSC keeps a private key it cannot export,
// and proves possession of it to renew a short-lived device cookie. The
// public key travels sealed inside the session payload; challenges, the
// device cookie and the DBSC session identifier are sealed values of kinds
// of their own. Nothing is stored on the server.

// Defaults for [DeviceBinding] fields left at their zero value.
const (
	// DefaultDeviceRegistrationPath is the default
	// DeviceBinding.RegistrationPath.
	DefaultDeviceRegistrationPath = "/dbsc/start"
	// DefaultDeviceRefreshPath is the default DeviceBinding.RefreshPath.
	DefaultDeviceRefreshPath = "/dbsc/refresh"
	// DefaultDeviceCookieName is the default DeviceBinding.CookieName when
	// the session cookie may take the __Host- prefix; DefaultDevicePlainName
	// otherwise.
	DefaultDeviceCookieName = "__Host-dbsc"
	DefaultDevicePlainName  = "dbsc"
	// DefaultDeviceCookieLifetime is the default
	// DeviceBinding.CookieLifetime: 10 minutes. A stolen copy of a bound
	// session's cookies works for at most this long. Chromium refreshes a
	// device cookie with less than 2 minutes to live, so an active browser
	// signs once every 8 minutes or so, well inside Chromium's cap of 6
	// signings per 9 minutes per site.
	DefaultDeviceCookieLifetime = 10 * time.Minute
	// DefaultDeviceChallengeLifetime is the default
	// DeviceBinding.ChallengeLifetime: 1 minute. Chromium answers a
	// challenge within a second or so; the rest is room for slow networks.
	DefaultDeviceChallengeLifetime = time.Minute

	minDeviceCookieLifetime = 10 * time.Second
	maxDeviceCookieLifetime = 24 * time.Hour
	minChallengeLifetime    = 5 * time.Second
	maxChallengeLifetime    = 10 * time.Minute
)

// DeviceBinding configures device-bound sessions (DBSC), which are off by
// default. With Enabled set, the middleware serves the registration and
// refresh endpoints itself, at RegistrationPath and RefreshPath, and a
// handler offers binding with [Session.OfferDeviceBinding], typically
// right after a login. Browsers without DBSC never register, and keep
// ordinary, unbound sessions. DBSC needs HTTPS: Chromium ignores its headers
// over plain HTTP, so Config.Insecure must be false.
//
// Binding is written by the middleware only: [Manager.Load] and its
// siblings reject a bound session without a valid device cookie as the
// middleware does, but [Manager.Save] and [Manager.SetCookieHeaders] write
// no device cookie and no registration offer.
type DeviceBinding struct {
	// Enabled turns device binding on. Default: false.
	Enabled bool
	// RegistrationPath is the path the browser POSTs its new public key to.
	// Default: DefaultDeviceRegistrationPath ("/dbsc/start").
	RegistrationPath string
	// RefreshPath is the path the browser POSTs to for a new device cookie.
	// Default: DefaultDeviceRefreshPath ("/dbsc/refresh").
	RefreshPath string
	// CookieName is the name of the short-lived device cookie. It gets the
	// session cookie's Path, Domain, SameSite and Partitioned attributes,
	// and is always Secure and HttpOnly. Default: DefaultDeviceCookieName
	// ("__Host-dbsc") when the session cookie's name may take the __Host-
	// prefix, otherwise DefaultDevicePlainName ("dbsc").
	CookieName string
	// CookieLifetime is how long a device cookie lasts: how long a stolen
	// copy of a bound session's cookies keeps working. Each expiry costs
	// the browser a refresh round trip and a signature. Whole seconds, from
	// 10 seconds to 24 hours. Default: DefaultDeviceCookieLifetime (10
	// minutes).
	CookieLifetime time.Duration
	// ChallengeLifetime is how long a challenge may be answered. Whole
	// seconds, from 5 seconds to 10 minutes. Default:
	// DefaultDeviceChallengeLifetime (1 minute).
	ChallengeLifetime time.Duration
	// Origin is the scope origin sent to the browser, as
	// "https://example.com". Default: "https://" and the request's Host.
	Origin string
}

// ErrDeviceBinding means a device-bound session came without a valid
// device cookie for its key and session ID (expired, missing, or from
// another session), so the request got a fresh session; or that a
// registration or refresh could not go ahead.
var ErrDeviceBinding = errors.New("cookiesession: device binding")

// deviceConfig is a checked DeviceBinding.
type deviceConfig struct {
	regPath, refreshPath string
	name                 string
	attrs                string // the device cookie's attributes, as sent to the browser
	ttl, challengeTTL    int64  // seconds
	origin               string
}

// newDeviceConfig checks d against the rest of cfg (defaults applied).
func newDeviceConfig(d DeviceBinding, cfg *Config) (*deviceConfig, error) {
	if !d.Enabled {
		return nil, nil
	}
	bad := func(format string, a ...any) (*deviceConfig, error) {
		return nil, fmt.Errorf("%w: DeviceBinding: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	if cfg.Insecure {
		return bad("needs Secure cookies (Insecure false): browsers ignore DBSC over plain HTTP")
	}
	if d.RegistrationPath == "" {
		d.RegistrationPath = DefaultDeviceRegistrationPath
	}
	if d.RefreshPath == "" {
		d.RefreshPath = DefaultDeviceRefreshPath
	}
	if d.CookieName == "" {
		d.CookieName = DefaultDevicePlainName
		if strings.HasPrefix(cfg.Name, "__Host-") || cfg.Path == "/" && cfg.Domain == "" {
			d.CookieName = DefaultDeviceCookieName
		}
	}
	d.CookieLifetime = cmp.Or(d.CookieLifetime, DefaultDeviceCookieLifetime)
	d.ChallengeLifetime = cmp.Or(d.ChallengeLifetime, DefaultDeviceChallengeLifetime)
	switch {
	case !validPath(d.RegistrationPath) || !validPath(d.RefreshPath) || d.RegistrationPath == d.RefreshPath ||
		strings.ContainsAny(d.RegistrationPath+d.RefreshPath, "\"\\?# "):
		return bad("RegistrationPath %q and RefreshPath %q must be two different absolute paths", d.RegistrationPath, d.RefreshPath)
	case !isToken(d.CookieName) || len(d.CookieName) > maxNameLen:
		return bad("CookieName %q is not a valid cookie name", d.CookieName)
	case d.CookieName == cfg.Name || strings.HasPrefix(d.CookieName, cfg.Name+"."):
		return bad("CookieName %q clashes with the session cookie %q", d.CookieName, cfg.Name)
	case d.CookieLifetime < minDeviceCookieLifetime || d.CookieLifetime > maxDeviceCookieLifetime || d.CookieLifetime%time.Second != 0:
		return bad("CookieLifetime %v is not a whole number of seconds from 10s to 24h", d.CookieLifetime)
	case d.ChallengeLifetime < minChallengeLifetime || d.ChallengeLifetime > maxChallengeLifetime || d.ChallengeLifetime%time.Second != 0:
		return bad("ChallengeLifetime %v is not a whole number of seconds from 5s to 10m", d.ChallengeLifetime)
	case d.Origin != "" && (!strings.HasPrefix(d.Origin, "https://") || strings.ContainsAny(d.Origin[8:], "/\"\\ ") || len(d.Origin) == 8):
		return bad("Origin %q is not https://host[:port]", d.Origin)
	}
	spec := cookieSpec{name: d.CookieName, path: cfg.Path, domain: cfg.Domain,
		sameSite: cfg.SameSite, partitioned: cfg.Partitioned, maxChunks: 1, maxSize: minMaxSize}
	attrs, err := spec.attrs()
	if err != nil {
		return nil, fmt.Errorf("%w (DeviceBinding.CookieName)", err)
	}
	return &deviceConfig{
		regPath: d.RegistrationPath, refreshPath: d.RefreshPath,
		name: d.CookieName, attrs: strings.TrimPrefix(attrs, "; "),
		ttl: int64(d.CookieLifetime / time.Second), challengeTTL: int64(d.ChallengeLifetime / time.Second),
		origin: d.Origin,
	}, nil
}

// devState is what the request's device cookie said, and what the
// response is to do about binding.
type devState struct {
	id      [16]byte // the session ID the valid device cookie names
	exp     int64    // its expiry, Unix seconds; 0: no valid device cookie
	carried bool     // the request carried a device cookie, valid or not
	offer   bool     // OfferDeviceBinding was called
}

// Kinds of the sealed values of device binding (SPEC.md §4.1), and the
// names bound into their associated data in place of a cookie name.
const (
	kindChallenge = 0x03 // purpose byte || session ID
	kindDevice    = 0x04 // session ID || x || y: the device cookie
	kindDeviceID  = 0x05 // session ID || x || y: the DBSC session identifier

	challengeName = "Secure-Session-Challenge"
	deviceIDName  = "Sec-Secure-Session-Id"

	challengeRegister = 0x01
	challengeRefresh  = 0x02
)

// OfferDeviceBinding asks the browser, in this response, to bind the
// session to a key of its own (DBSC), with a Secure-Session-Registration
// header. Call it at login, after [Session.Renew]. It does nothing unless
// Config.DeviceBinding is enabled, the session is saved with values, and it
// is not bound already. Browsers without DBSC ignore the offer.
func (s *Session) OfferDeviceBinding() {
	s.lock()
	s.st.dev.offer = true
	s.unlock()
}

// DeviceBound reports whether the session is bound to a device key: only a
// browser that holds the key can keep using it past the device cookie's
// lifetime.
func (s *Session) DeviceBound() bool {
	s.lock()
	defer s.unlock()
	return s.st.bound
}

// sealDevice seals an 80-byte record (session ID || key) or a challenge
// of the given kind, for name, to expire at exp.
func (m *Manager) sealDevice(kind byte, name string, payload []byte, now, exp int64) (string, error) {
	buf := getBuf()
	defer putBuf(buf)
	out, _, err := m.codec.appendSeal((*buf)[:0], name, kind, payload, time.Unix(now, 0), time.Unix(exp, 0), nil)
	*buf = out
	return string(out), err
}

// maxDeviceText is the longest sealed device value read: the 80-byte
// records take 190 characters.
const maxDeviceText = 256

// openDevice opens a value sealed by sealDevice and returns a copy of its
// payload, which must be n bytes long, and its expiry.
func (m *Manager) openDevice(kind byte, name, text string, n int, now int64) ([]byte, int64, error) {
	if len(text) > maxDeviceText {
		return nil, 0, fmt.Errorf("%w: value of %d bytes", ErrMalformed, len(text))
	}
	buf := getBuf()
	defer putBuf(buf)
	in := getBuf()
	defer putBuf(in)
	*in = append((*in)[:0], text...)
	p, info, err := m.codec.openPayload(buf, name, kind, *in, 0, now)
	if err != nil {
		return nil, 0, err
	}
	if len(p) != n {
		return nil, 0, fmt.Errorf("%w: payload of %d bytes", ErrMalformed, len(p))
	}
	return bytes.Clone(p), info.ExpiresAt.Unix(), nil
}

// challenge returns a new challenge of the given purpose for session id.
func (m *Manager) challenge(purpose byte, id [16]byte, now int64) (string, error) {
	return m.sealDevice(kindChallenge, challengeName, append([]byte{purpose}, id[:]...), now, now+m.dev.challengeTTL)
}

// checkChallenge checks that c is a live challenge of the given purpose
// for session id.
func (m *Manager) checkChallenge(c string, purpose byte, id [16]byte, now int64) error {
	p, _, err := m.openDevice(kindChallenge, challengeName, c, 17, now)
	if err != nil {
		return fmt.Errorf("%w: challenge: %w", ErrDeviceProof, err)
	}
	if p[0] != purpose || subtle.ConstantTimeCompare(p[1:], id[:]) != 1 {
		return fmt.Errorf("%w: challenge is for another purpose or session", ErrDeviceProof)
	}
	return nil
}

// deviceRecord is the payload of a device cookie or identifier.
func deviceRecord(id [16]byte, key *[64]byte) []byte {
	return append(id[:], key[:]...)
}

// deviceCookie returns the Set-Cookie line of a device cookie for session
// id and key, to expire at exp; or of its deletion with exp 0.
func (m *Manager) deviceCookie(id [16]byte, key *[64]byte, now, exp int64) (string, error) {
	if exp == 0 {
		return m.dev.name + "=; " + m.dev.attrs + "; Max-Age=0", nil
	}
	v, err := m.sealDevice(kindDevice, m.dev.name, deviceRecord(id, key), now, exp)
	if err != nil {
		return "", err
	}
	return m.dev.name + "=" + v + "; " + m.dev.attrs + "; Max-Age=" + strconv.FormatInt(exp-now, 10), nil
}

// deviceStage is the device-binding stage of loading (SPEC.md §15.5),
// run on an authentic, validated session st with the device cookies of j.
// A bound session needs a device cookie that names its ID and key and has
// not expired; without one, deviceStage returns an error wrapping
// ErrDeviceBinding, and the caller gives the request a fresh session. An
// unbound session with such a cookie for its own ID was bound, and then
// overwritten by a save that did not know (a concurrent request): it is
// bound again, and marked modified so the response re-seals it.
func (m *Manager) deviceStage(st *state, j *jar, now int64) error {
	if m.dev == nil {
		return nil
	}
	st.dev.carried = j.ndev > 0
	for i := range min(j.ndev, maxCandidates) {
		// No clock skew allowance past the device cookie's expiry: it
		// bounds a stolen copy, and Chromium refreshes it 2 minutes early.
		p, exp, err := m.openDeviceCookie(j.dev[i], now)
		if err != nil || now >= exp || !bytes.Equal(p[:16], st.id[:]) {
			continue
		}
		if st.bound && !bytes.Equal(p[16:], st.devKey[:]) {
			continue
		}
		if !st.bound {
			st.bound = true
			copy(st.devKey[:], p[16:])
			st.changed()
		}
		copy(st.dev.id[:], p[:16])
		st.dev.exp = exp
		return nil
	}
	if st.bound && !j.devOptional {
		return fmt.Errorf("%w: bound session without a valid device cookie (%d carried)", ErrDeviceBinding, j.ndev)
	}
	return nil
}

// deviceSave is the device-binding stage of the middleware's save at now,
// after m.save returned lines and err: it adds the device cookie's lines,
// and a Secure-Session-Registration header to h if the session offers
// binding. destroyed says the session was destroyed in this request.
func (m *Manager) deviceSave(h http.Header, st *state, now int64, destroyed bool, lines []string, err error) ([]string, error) {
	dl, reg, derr := m.deviceLines(st, now, destroyed)
	if derr != nil {
		return nil, derr
	}
	if reg != "" {
		h.Set("Secure-Session-Registration", reg)
	}
	return append(lines, dl...), err
}

// deviceLines returns the Set-Cookie lines of the device cookie for a
// save at now, and the value of a Secure-Session-Registration header (""
// for none).
func (m *Manager) deviceLines(st *state, now int64, destroyed bool) (lines []string, reg string, err error) {
	switch {
	case !st.bound || len(st.values) == 0:
		if st.dev.carried && (destroyed || len(st.values) == 0) {
			l, _ := m.deviceCookie(st.id, nil, now, 0)
			lines = append(lines, l)
		}
		if !st.bound && st.dev.offer && len(st.values) > 0 && st.hasID {
			c, err := m.challenge(challengeRegister, st.id, now)
			if err != nil {
				return lines, "", err
			}
			reg = "(ES256);path=\"" + m.dev.regPath + "\";challenge=\"" + c + "\""
		}
	case st.dev.exp > now && st.dev.id != st.id:
		// Renewed: the device cookie follows the new ID, with the expiry
		// of the one the request proved, never a later one.
		l, err := m.deviceCookie(st.id, &st.devKey, now, st.dev.exp)
		if err != nil {
			return nil, "", err
		}
		lines = append(lines, l)
		st.dev.id = st.id
	}
	st.dev.offer = false
	return lines, reg, nil
}

// deviceRoute serves the registration and refresh endpoints, and reports
// whether r was one of them.
func (m *Manager) deviceRoute(w http.ResponseWriter, r *http.Request) bool {
	if m.dev == nil {
		return false
	}
	switch r.URL.Path {
	case m.dev.regPath:
		m.serveRegistration(w, r)
	case m.dev.refreshPath:
		m.serveRefresh(w, r)
	default:
		return false
	}
	return true
}
