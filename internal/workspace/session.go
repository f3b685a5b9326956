package workspace

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Cookie names.
const (
	sessionCookie = "qm_bureau"
	signinCookie  = "qm_signin" // the CSRF token of the sign-in form
)

// Session lifetimes.
const (
	SessionIdle = 2 * time.Hour  // without a request
	SessionMax  = 12 * time.Hour // from sign-in
)

type session struct {
	id      string
	hash    [32]byte
	csrf    string
	created time.Time
	seen    time.Time
	// checked names the file of the last successful 校验 (on disk:
	// checkedDir), so that 提交 needs no second choice of the file.
	checked string
	// notice is shown once on the next /bureau page (after a redirect).
	notice string
}

// sessions is the server-side session table, keyed by id and indexed by
// token hash.
type sessions struct {
	mu     sync.Mutex
	byID   map[string]*session
	byHash map[[32]byte]map[string]bool
	now    func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, byHash: map[[32]byte]map[string]bool{}, now: now}
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(hash [32]byte) *session {
	now := s.now()
	ss := &session{id: randomID(), hash: hash, csrf: randomID(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	s.byID[ss.id] = ss
	if s.byHash[hash] == nil {
		s.byHash[hash] = map[string]bool{}
	}
	s.byHash[hash][ss.id] = true
	return ss
}

// get returns the live session of id whose token is still valid, else nil
// (and forgets an expired or orphaned one).
func (s *sessions) get(id string, valid func([32]byte) bool) *session {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) || !valid(ss.hash) {
		s.dropLocked(ss)
		return nil
	}
	ss.seen = now
	return ss
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) > SessionIdle || now.Sub(ss.created) > SessionMax
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.byID[id]; ss != nil {
		s.dropLocked(ss)
	}
}

// prune ends the sessions of tokens no longer valid.
func (s *sessions) prune(valid func([32]byte) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ids := range s.byHash {
		if !valid(h) {
			for id := range ids {
				s.dropLocked(s.byID[id])
			}
		}
	}
}

func (s *sessions) dropLocked(ss *session) {
	if ss == nil {
		return
	}
	delete(s.byID, ss.id)
	if m := s.byHash[ss.hash]; m != nil {
		delete(m, ss.id)
		if len(m) == 0 {
			delete(s.byHash, ss.hash)
		}
	}
}

func (s *sessions) expireLocked(now time.Time) {
	for _, ss := range s.byID {
		if s.expired(ss, now) {
			s.dropLocked(ss)
		}
	}
}

// update runs f on the session under the lock.
func (s *sessions) update(ss *session, f func(*session)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(ss)
}

// secure says whether the client reached us over TLS (directly or through a
// proxy that says so), for the cookies' Secure attribute.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// sameOrigin refuses a cross-site POST: an Origin (or, without it, a
// Referer) naming another host, or Sec-Fetch-Site: cross-site. The CSRF
// token is checked besides.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true // not a browser; the CSRF token still has to match
	}
	if from == "null" {
		return false
	}
	u, err := url.Parse(from)
	return err == nil && u.Host == r.Host
}

func tokenEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
