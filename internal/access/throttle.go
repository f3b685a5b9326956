package access

import (
	"math"
	"sync"
	"time"
)

// Throttle slows down guessing passwords and tokens. Failures are counted
// twice: per account tried and client address, and per client address. The
// first PairFree failures of an account from an address cost nothing, then
// every failure locks that account out for that address for twice as long as
// the one before (2 s, 4 s, 8 s … up to MaxLock); other accounts from the
// same address, and the same account from other addresses, are not affected.
// An address that fails AddrFree times, whatever the accounts, is locked out
// the same way for every account: one client trying many accounts is limited
// by its own address. A sign-in during a lockout is refused without looking
// at the password, and is not counted.
type Throttle struct {
	mu   sync.Mutex
	pair map[string]*attempts // account + "\x00" + address
	addr map[string]*attempts
	now  func() time.Time
}

type attempts struct {
	failures int
	until    time.Time
	last     time.Time
}

// Throttle settings.
const (
	PairFree = 2
	AddrFree = 10
	MaxLock  = 15 * time.Minute
	// forget is how long failures are remembered after the last one.
	forget = 24 * time.Hour
	// remembered bounds each table.
	remembered = 100000
)

// NewThrottle makes a throttle on the clock now.
func NewThrottle(now func() time.Time) *Throttle {
	return &Throttle{pair: map[string]*attempts{}, addr: map[string]*attempts{}, now: now}
}

func pairKey(account, addr string) string { return account + "\x00" + addr }

// Wait is how long account must still wait before it may be tried again
// from addr (0: it may).
func (t *Throttle) Wait(account, addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(waitOf(t.pair[pairKey(account, addr)], now), waitOf(t.addr[addr], now))
}

func waitOf(a *attempts, now time.Time) time.Duration {
	if a == nil {
		return 0
	}
	return max(a.until.Sub(now), 0)
}

// lockout is the lockout after n failures of which free cost nothing.
func lockout(n, free int) time.Duration {
	if n <= free {
		return 0
	}
	exp := n - free // 1, 2, 3 …
	if exp > 20 {
		return MaxLock
	}
	return min(time.Duration(math.Pow(2, float64(exp)))*time.Second, MaxLock)
}

// Fail records a failed sign-in of account from addr and returns the
// lockout it earned (the longer of the account's and the address's).
func (t *Throttle) Fail(account, addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	d1 := record(t.pair, pairKey(account, addr), PairFree, now)
	d2 := record(t.addr, addr, AddrFree, now)
	return max(d1, d2)
}

func record(m map[string]*attempts, key string, free int, now time.Time) time.Duration {
	a := m[key]
	if a == nil || now.Sub(a.last) > forget {
		if len(m) >= remembered {
			forgetOld(m, now)
		}
		a = &attempts{}
		m[key] = a
	}
	a.failures++
	a.last = now
	d := lockout(a.failures, free)
	a.until = now.Add(d)
	return d
}

// OK forgets the failures of account from addr after a successful sign-in.
// The address's count stays: signing in to one's own account must not buy
// more guesses at others.
func (t *Throttle) OK(account, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pair, pairKey(account, addr))
}

func forgetOld(m map[string]*attempts, now time.Time) {
	for k, a := range m {
		if now.Sub(a.last) > forget || now.After(a.until) {
			delete(m, k)
		}
	}
}
