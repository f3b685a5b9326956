package access

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/qualitymon/qualitymon/internal/config"
)

// Users checks web.auth users' passwords against their bcrypt hashes. A
// bcrypt check costs tens of milliseconds by design; a password that passed
// is remembered for CacheFor (as an HMAC under a key made at start, never
// the password), so that a page and its requests do not pay it each time.
type Users struct {
	hashes map[string][]byte
	// dummy is checked for an unknown name, so that timing does not tell
	// known names from unknown ones.
	dummy []byte
	key   []byte
	now   func() time.Time

	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time // HMAC(name, password) → until
}

// CacheFor is how long a checked password is remembered.
const CacheFor = 5 * time.Minute

// maxCached bounds the remembered passwords.
const maxCached = 1024

// HashPassword makes the bcrypt hash web.auth.users[].password_bcrypt holds.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), config.MinBcryptCost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(h), nil
}

// NewUsers reads the users (validated by config.Load).
func NewUsers(users []config.WebUser, now func() time.Time) (*Users, error) {
	u := &Users{hashes: map[string][]byte{}, now: now, seen: map[[sha256.Size]byte]time.Time{}, key: make([]byte, 32)}
	if _, err := rand.Read(u.key); err != nil {
		return nil, fmt.Errorf("crypto/rand: %w", err)
	}
	for _, w := range users {
		if _, err := bcrypt.Cost([]byte(w.PasswordBcrypt)); err != nil {
			return nil, fmt.Errorf("web.auth user %q: password_bcrypt is not a bcrypt hash", w.Name)
		}
		u.hashes[w.Name] = []byte(w.PasswordBcrypt)
	}
	dummy, err := bcrypt.GenerateFromPassword(u.key, config.MinBcryptCost)
	if err != nil {
		return nil, err
	}
	u.dummy = dummy
	return u, nil
}

// Any says whether any user is configured (then protected routes ask).
func (u *Users) Any() bool { return u != nil && len(u.hashes) > 0 }

// Check says whether password is name's.
func (u *Users) Check(name, password string) bool {
	mac := hmac.New(sha256.New, u.key)
	mac.Write([]byte(name))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var k [sha256.Size]byte
	mac.Sum(k[:0])
	now := u.now()
	u.mu.Lock()
	until, ok := u.seen[k]
	u.mu.Unlock()
	if ok && now.Before(until) {
		return true
	}
	h, known := u.hashes[name]
	if !known {
		h = u.dummy
	}
	// CompareHashAndPassword compares in constant time.
	if bcrypt.CompareHashAndPassword(h, []byte(password)) != nil || !known {
		return false
	}
	u.mu.Lock()
	if len(u.seen) >= maxCached {
		clear(u.seen)
	}
	u.seen[k] = now.Add(CacheFor)
	u.mu.Unlock()
	return true
}
