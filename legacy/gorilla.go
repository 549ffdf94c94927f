package legacy

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cookiesession/cookiesession"
)

// GorillaKeys is one key pair of a gorilla/sessions CookieStore, as passed
// to sessions.NewCookieStore(hashKey, blockKey, ...).
type GorillaKeys struct {
	// Hash is the HMAC-SHA256 key. Required.
	Hash []byte
	// Block is the AES key: 16, 24 or 32 bytes. Default: nil, the store
	// did not encrypt.
	Block []byte
}

// GorillaConfig describes the gorilla/sessions CookieStore being migrated
// from, with securecookie's defaults (HMAC-SHA256, AES, gob).
type GorillaConfig struct {
	// Cookie is the session name the application passed to store.Get.
	// Default: "session".
	Cookie string
	// Keys are the store's key pairs, in the order given to
	// NewCookieStore. gorilla's format names no key, so a value is checked
	// against each pair in turn, as gorilla does, and the first whose MAC
	// matches decrypts it. At least one.
	Keys []GorillaKeys
	// MaxAge is the oldest timestamp accepted: the store's MaxAge.
	// Default: 30 days, as NewCookieStore. There is no unlimited setting.
	MaxAge time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Gorilla reads the cookie of a gorilla/sessions CookieStore, in the format
// of gorilla/securecookie:
//
//	value = base64url(date "|" inner "|" mac), padded
//	inner = base64url(gob(session.Values)), padded; with a block key,
//	        base64url(iv || AES-CTR(gob(session.Values)))
//	mac   = HMAC-SHA256(hash key, name "|" date "|" inner), 32 bytes
//	date  = seconds since 1970, in decimal
//
// The MAC is checked first, then the date against MaxAge; only then is the
// inner value decrypted and gob-decoded, within MaxValueLen. Types the
// application stored in its sessions must be registered with gob.Register,
// as the application did.
//
// encoding/gob is not hardened against adversarial input (its
// documentation says so), which is why only authenticated bytes reach it.
// Decode guards the one map it owns, session.Values, against a forged
// element count; a map inside a type the application registered is made
// by gob, with the count the stream gives, so only those who hold a hash
// key can make gob run out of memory with one.
type Gorilla struct {
	cookie string
	keys   []gorillaKey
	maxAge time.Duration
	now    func() time.Time
}

type gorillaKey struct {
	hash  []byte
	block cipher.Block // nil: not encrypted
}

// NewGorilla checks c and returns its reader. It returns an error wrapping
// ErrNoKey when there is no key pair, a hash key is empty, or a block key
// is not an AES key.
func NewGorilla(c GorillaConfig) (*Gorilla, error) {
	if len(c.Keys) == 0 {
		return nil, fmt.Errorf("%w: GorillaConfig.Keys is empty", ErrNoKey)
	}
	if c.MaxAge < 0 {
		return nil, fmt.Errorf("legacy: GorillaConfig.MaxAge %v is negative", c.MaxAge)
	}
	g := &Gorilla{
		cookie: cmp.Or(c.Cookie, "session"),
		maxAge: cmp.Or(c.MaxAge, 30*24*time.Hour),
		now:    clock(c.Now),
	}
	for i, k := range c.Keys {
		if len(k.Hash) == 0 {
			return nil, fmt.Errorf("%w: GorillaConfig.Keys[%d].Hash is empty", ErrNoKey, i)
		}
		key := gorillaKey{hash: bytes.Clone(k.Hash)}
		if k.Block != nil {
			b, err := aes.NewCipher(k.Block)
			if err != nil {
				return nil, fmt.Errorf("%w: GorillaConfig.Keys[%d].Block: %w", ErrNoKey, i, err)
			}
			key.block = b
		}
		g.keys = append(g.keys, key)
	}
	return g, nil
}

// Cookie returns the name of the cookie g reads.
func (g *Gorilla) Cookie() string { return g.cookie }

// Load is a cookiesession Migration.Load: it copies r's gorilla
// session.Values into s, and ends s when the gorilla session would have
// ended ([Gorilla.Expires]). It returns nil, having set nothing, if r has
// no gorilla cookie.
func (g *Gorilla) Load(r *http.Request, s *cookiesession.Session) error {
	c, err := r.Cookie(g.cookie)
	if err != nil {
		return nil // no gorilla cookie
	}
	values, err := g.Decode(c.Value)
	if err != nil {
		return err
	}
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	return keepExpiry(s, g.Expires(c.Value), g.now())
}

// Expires returns when the session of a value that Decode accepted ends:
// MaxAge after its timestamp, as securecookie checks it.
func (g *Gorilla) Expires(value string) time.Time {
	b, _ := base64.URLEncoding.DecodeString(value)
	date, _, _ := bytes.Cut(b, []byte("|"))
	ts, _ := strconv.ParseInt(string(date), 10, 64)
	return time.Unix(ts, 0).Add(g.maxAge)
}

// Decode checks the value of g's cookie and returns its session.Values. A
// cookiesession session has string keys only, so a value under any other
// key fails with ErrPayload rather than being left behind.
func (g *Gorilla) Decode(value string) (map[string]any, error) {
	if len(value) > MaxValueLen {
		return nil, fmt.Errorf("gorilla session: %w: %d bytes", ErrTooLarge, len(value))
	}
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("gorilla session: %w: not base64", ErrMalformed)
	}
	// date "|" inner "|" mac; the MAC is binary, and may hold a '|'.
	date, rest, ok := bytes.Cut(b, []byte("|"))
	if !ok {
		return nil, fmt.Errorf("gorilla session: %w: no date", ErrMalformed)
	}
	inner, mac, ok := bytes.Cut(rest, []byte("|"))
	if !ok {
		return nil, fmt.Errorf("gorilla session: %w: no MAC", ErrMalformed)
	}
	signed := b[:len(b)-len(mac)-1] // date "|" inner
	key, ok := g.match(signed, mac)
	if !ok {
		return nil, fmt.Errorf("gorilla session: %w", ErrSignature)
	}

	// Authentic from here on.
	ts, err := strconv.ParseInt(string(date), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("gorilla session: %w: bad timestamp", ErrPayload)
	}
	// securecookie: expired if the date is before now - MaxAge, in seconds.
	if oldest := g.now().Unix() - int64(g.maxAge/time.Second); ts < oldest {
		return nil, fmt.Errorf("gorilla session: %w: signed %ds ago, more than %v", ErrExpired, g.now().Unix()-ts, g.maxAge)
	}
	plain := make([]byte, base64.URLEncoding.DecodedLen(len(inner)))
	n, err := base64.URLEncoding.Decode(plain, inner)
	if err != nil {
		return nil, fmt.Errorf("gorilla session: %w: inner value not base64", ErrPayload)
	}
	plain = plain[:n]
	if key.block != nil {
		bs := key.block.BlockSize()
		if len(plain) <= bs {
			return nil, fmt.Errorf("gorilla session: %w: too short to decrypt", ErrPayload)
		}
		iv, ct := plain[:bs], plain[bs:]
		cipher.NewCTR(key.block, iv).XORKeyStream(ct, ct)
		plain = ct
	}
	// Not nil: gob would make a nil map with room for as many entries as
	// the stream claims, and a forged count of 2^36 takes more memory than
	// the machine has. Into this map, it adds entries one by one, and runs
	// out of input at once.
	values := map[any]any{}
	if err := gob.NewDecoder(bytes.NewReader(plain)).Decode(&values); err != nil {
		return nil, fmt.Errorf("gorilla session: %w: gob: %w", ErrPayload, err)
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("gorilla session: %w: a key of type %T, not string", ErrPayload, k)
		}
		out[key] = v
	}
	return out, nil
}

// match returns the key pair whose MAC of name "|" signed is mac. Each
// pair is tried in turn: gorilla's format does not say which one made it.
func (g *Gorilla) match(signed, mac []byte) (gorillaKey, bool) {
	if len(mac) != sha256.Size {
		return gorillaKey{}, false
	}
	for _, k := range g.keys {
		h := hmac.New(sha256.New, k.hash)
		h.Write([]byte(g.cookie))
		h.Write([]byte("|"))
		h.Write(signed)
		if hmac.Equal(h.Sum(nil), mac) {
			return k, true
		}
	}
	return gorillaKey{}, false
}
