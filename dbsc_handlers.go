package cookiesession

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The registration and refresh endpoints of device binding (SPEC.md §15.3
// and §15.4), served by the middleware at DeviceBinding.RegistrationPath
// and RefreshPath. Each loads the session from the request's cookies without
// requiring a device cookie, checks a proof, and answers with the session
// instructions JSON and a fresh device cookie.

// maxDeviceIDLen is the longest Sec-Secure-Session-Id read.
const maxDeviceIDLen = maxDeviceText

// deviceInstructions is the session instructions JSON, in the field order
// Chromium 156 was measured with.
type deviceInstructions struct {
	SessionIdentifier string             `json:"session_identifier"`
	RefreshURL        string             `json:"refresh_url"`
	Scope             deviceScope        `json:"scope"`
	Credentials       []deviceCredential `json:"credentials"`
}

type deviceScope struct {
	Origin             string     `json:"origin"`
	IncludeSite        bool       `json:"include_site"`
	ScopeSpecification []struct{} `json:"scope_specification"`
}

type deviceCredential struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Attributes string `json:"attributes"`
}

// deviceEnd is the answer that ends the browser's DBSC session.
type deviceEnd struct {
	SessionIdentifier string `json:"session_identifier"`
	Continue          bool   `json:"continue"`
}

// serveRegistration binds the request's session to the key in its proof.
func (m *Manager) serveRegistration(w http.ResponseWriter, r *http.Request) {
	if !devicePost(w, r) {
		return
	}
	now := m.nowUnix()
	var st state
	m.report(r, m.loadCookies(r.Context(), &st, r.Header["Cookie"], true))
	fail := func(status int, err error) {
		m.hook(r, err)
		deviceError(w, status)
	}
	text, ok := singleHeader(r, "Secure-Session-Response")
	switch {
	case !ok:
		fail(http.StatusBadRequest, fmt.Errorf("%w: registration without one Secure-Session-Response", ErrDeviceProof))
		return
	case st.faultPending():
		// A passing fault, as in serveRefresh: the session may load on
		// the next try, so it is no reason to refuse the binding.
		deviceError(w, http.StatusServiceUnavailable)
		return
	case !st.fromCookie || len(st.values) == 0:
		fail(http.StatusForbidden, fmt.Errorf("%w: registration without a session", ErrDeviceBinding))
		return
	case st.bound:
		fail(http.StatusForbidden, fmt.Errorf("%w: registration for a session bound already", ErrDeviceBinding))
		return
	}
	proof, err := verifyProof(text, nil)
	if err == nil {
		err = m.checkChallenge(proof.jti, challengeRegister, st.id, now)
	}
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	st.bound, st.devKey = true, proof.key
	st.changed()
	lines, err := m.save(&st, now)
	if err != nil && !isKept(err) {
		fail(http.StatusInternalServerError, fmt.Errorf("%w: save the bound session: %w", ErrDeviceBinding, err))
		return
	}
	id, err := m.sealDevice(kindDeviceID, deviceIDName, deviceRecord(st.id, &st.devKey), now, now+maxCookieAge)
	if err != nil {
		fail(http.StatusInternalServerError, err)
		return
	}
	m.answerDevice(w, r, &st, id, lines, now)
}

// serveRefresh issues a new device cookie to the holder of the key.
func (m *Manager) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if !devicePost(w, r) {
		return
	}
	now := m.nowUnix()
	id, ok := singleHeader(r, "Sec-Secure-Session-Id")
	if !ok || len(id) > maxDeviceIDLen {
		m.hook(r, fmt.Errorf("%w: refresh without one valid Sec-Secure-Session-Id", ErrDeviceBinding))
		deviceError(w, http.StatusBadRequest)
		return
	}
	var st state
	m.report(r, m.loadCookies(r.Context(), &st, r.Header["Cookie"], true))
	if st.faultPending() {
		// A passing fault (a key this instance lacks, a revocation store
		// that is down): the session may load on the next try, so the
		// browser keeps its DBSC session and retries, rather than being
		// told there is nothing left to refresh.
		deviceError(w, http.StatusServiceUnavailable)
		return
	}
	rec, _, err := m.openDevice(kindDeviceID, deviceIDName, id, 80, now)
	var key [64]byte
	repair := false
	if err == nil {
		copy(key[:], rec[16:])
		switch {
		case st.fromCookie && st.bound && st.devKey == key:
		case st.fromCookie && !st.bound && string(rec[:16]) == string(st.id[:]):
			// Bound at registration, then overwritten by a concurrent
			// save that did not know: the proof binds it again.
			repair = true
		default:
			err = fmt.Errorf("%w: no session bound to this key (logged out, or another session)", ErrDeviceBinding)
		}
	}
	if err != nil {
		// The browser's DBSC session has nothing left to refresh.
		m.hook(r, err)
		writeDeviceJSON(w, http.StatusOK, deviceEnd{SessionIdentifier: id})
		return
	}
	text, ok := singleHeader(r, "Secure-Session-Response")
	if ok {
		var proof deviceProof
		proof, err = verifyProof(text, &key)
		if err == nil {
			err = m.checkChallenge(proof.jti, challengeRefresh, st.id, now)
		}
		if err != nil {
			m.hook(r, err)
			ok = false
		}
	}
	if !ok {
		c, err := m.challenge(challengeRefresh, st.id, now)
		if err != nil {
			m.hook(r, err)
			deviceError(w, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Secure-Session-Challenge", `"`+c+`";id="`+id+`"`)
		deviceError(w, http.StatusForbidden)
		return
	}
	var lines []string
	if repair {
		st.bound, st.devKey = true, key
		st.changed()
		if lines, err = m.save(&st, now); err != nil && !isKept(err) {
			m.hook(r, fmt.Errorf("%w: save the bound session: %w", ErrDeviceBinding, err))
			deviceError(w, http.StatusInternalServerError)
			return
		}
	}
	m.answerDevice(w, r, &st, id, lines, now)
}

// answerDevice writes the session instructions with the session's lines
// and a new device cookie.
func (m *Manager) answerDevice(w http.ResponseWriter, r *http.Request, st *state, id string, lines []string, now int64) {
	dc, err := m.deviceCookie(st.id, &st.devKey, now, now+m.dev.ttl)
	if err != nil {
		m.hook(r, err)
		deviceError(w, http.StatusInternalServerError)
		return
	}
	origin := m.dev.origin
	if origin == "" {
		origin = "https://" + r.Host
	}
	h := w.Header()
	for _, l := range append(lines, dc) {
		h.Add("Set-Cookie", l)
	}
	writeDeviceJSON(w, http.StatusOK, deviceInstructions{
		SessionIdentifier: id,
		RefreshURL:        m.dev.refreshPath,
		Scope:             deviceScope{Origin: origin, ScopeSpecification: []struct{}{}},
		Credentials:       []deviceCredential{{Type: "cookie", Name: m.dev.name, Attributes: m.dev.attrs}},
	})
}

// devicePost answers anything but a POST with 405, and reports whether r
// is a POST.
func devicePost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	deviceError(w, http.StatusMethodNotAllowed)
	return false
}

// singleHeader returns the value of the one header called name, and false
// if r has none or several, or an empty one.
func singleHeader(r *http.Request, name string) (string, bool) {
	v := r.Header.Values(name)
	if len(v) != 1 || strings.TrimSpace(v[0]) == "" {
		return "", false
	}
	return strings.TrimSpace(v[0]), true
}

func deviceError(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, http.StatusText(status))
}

func writeDeviceJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // plain structs of strings: never fails
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
