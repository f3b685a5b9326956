package access

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
)

func TestClient(t *testing.T) {
	p := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, c := range []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "198.51.100.9", "192.0.2.1"}, // untrusted: X-Forwarded-For ignored
		{"10.0.0.1:5000", "198.51.100.9", "198.51.100.9"},
		{"10.0.0.1:5000", "203.0.113.7, 198.51.100.9", "198.51.100.9"},   // the client's own claim is left of what the proxy saw
		{"10.0.0.1:5000", "198.51.100.9, 10.0.0.2", "198.51.100.9"},      // through two trusted proxies
		{"10.0.0.1:5000", "", "10.0.0.1"},                                // from the proxy itself
		{"10.0.0.1:5000", "198.51.100.9, not-an-address", "10.0.0.1"},    // garbage: the proxy stands
		{"[::1]:5000", "2001:db8::5", "2001:db8::5"},                     // IPv6
		{"[::ffff:10.0.0.1]:5000", "198.51.100.9", "198.51.100.9"},       // IPv4 in IPv6
		{"192.0.2.1:5000", "10.0.0.1", "192.0.2.1"},                      // an untrusted client naming a proxy
		{"10.0.0.1:5000", "198.51.100.9,198.51.100.10", "198.51.100.10"}, // no spaces
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := p.Client(r); got != c.want {
			t.Errorf("from %s with X-Forwarded-For %q: client %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(func() time.Time { return now })
	for i := 1; i <= PairFree; i++ {
		if d := th.Fail("alice", "a1"); d != 0 {
			t.Fatalf("failure %d: lockout %v", i, d)
		}
	}
	if d := th.Fail("alice", "a1"); d != 2*time.Second {
		t.Fatalf("failure %d: lockout %v, want 2s", PairFree+1, d)
	}
	if th.Wait("alice", "a1") != 2*time.Second || th.Wait("bob", "a1") != 0 || th.Wait("alice", "a2") != 0 {
		t.Fatal("the lockout is not per account and address")
	}
	now = now.Add(2 * time.Second)
	if d := th.Fail("alice", "a1"); d != 4*time.Second {
		t.Fatalf("next failure: %v, want 4s (doubling)", d)
	}
	th.OK("alice", "a1")
	if th.Wait("alice", "a1") != 0 {
		t.Fatal("a sign-in did not clear the account's failures")
	}
	// The address: 4 failures so far; AddrFree are free.
	for i := 5; i <= AddrFree; i++ {
		if d := th.Fail(fmt.Sprintf("user%d", i), "a1"); d != 0 {
			t.Fatalf("address failure %d: %v", i, d)
		}
	}
	if d := th.Fail("user-last", "a1"); d != 2*time.Second {
		t.Fatalf("address failure %d: %v, want 2s", AddrFree+1, d)
	}
	if th.Wait("bob", "a1") != 2*time.Second || th.Wait("bob", "a2") != 0 {
		t.Fatal("the address lockout is not for every account of that address only")
	}
	th.OK("bob", "a1") // a success does not clear the address
	if th.Wait("carol", "a1") == 0 {
		t.Fatal("signing in reset the address's failures")
	}
	if d := lockout(100, PairFree); d != MaxLock {
		t.Errorf("lockout(100) = %v, want the cap %v", d, MaxLock)
	}
}

func TestUsers(t *testing.T) {
	h, err := HashPassword("s3cret pass")
	if err != nil || !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("HashPassword: %q %v", h, err)
	}
	h2, _ := HashPassword("s3cret pass")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: not salted")
	}
	u, err := NewUsers([]config.WebUser{{Name: "zhijianchu", PasswordBcrypt: h}}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, pass string
		want       bool
	}{{"zhijianchu", "s3cret pass", true}, {"zhijianchu", "s3cret pass", true}, {"zhijianchu", "s3cret", false},
		{"zhijianchu", "s3cret pass ", false}, {"nobody", "s3cret pass", false}, {"", "", false}} {
		if got := u.Check(c.name, c.pass); got != c.want {
			t.Errorf("Check(%q, %q) = %v, want %v", c.name, c.pass, got, c.want)
		}
	}
	if _, err := NewUsers([]config.WebUser{{Name: "x", PasswordBcrypt: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}}, time.Now); err == nil {
		t.Fatal("a SHA-256 accepted as a bcrypt hash")
	}
}

// guarded is a real HTTP server behind a guard for web users alice and bob
// (trusted proxies as given); every route is protected.
func guarded(t *testing.T, proxies ...string) (*httptest.Server, map[string]string) {
	pw := map[string]string{"alice": "alice-pass", "bob": "bob-pass"}
	var users []config.WebUser
	for _, n := range []string{"alice", "bob"} {
		h, err := HashPassword(pw[n])
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, config.WebUser{Name: n, PasswordBcrypt: h})
	}
	g, err := New(config.Web{Auth: config.WebAuth{Users: users}, TrustedProxies: proxies}, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page\n")) })
	srv := httptest.NewServer(g.Wrap(func(*http.Request) Class { return Protected }, ok))
	t.Cleanup(srv.Close)
	return srv, pw
}

func try(t *testing.T, srv *httptest.Server, xff, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("401 without a basic challenge")
	}
	return resp.StatusCode
}

// Behind a trusted proxy (the test's connections come from 127.0.0.1): a
// locked-out account does not lock out another account, nor the same
// account from another client; an attacker trying many accounts locks out
// only their own forwarded address.
func TestLockoutBehindTrustedProxy(t *testing.T) {
	srv, pw := guarded(t, "127.0.0.1/32")
	const attacker, bureau = "198.51.100.66", "192.0.2.10"
	if c := try(t, srv, attacker, "", ""); c != 401 {
		t.Fatalf("no credentials: %d", c)
	}
	for i := 0; i <= PairFree; i++ {
		if c := try(t, srv, attacker, "alice", "guess"); c != 401 {
			t.Fatalf("wrong password %d: %d", i, c)
		}
	}
	if c := try(t, srv, attacker, "alice", pw["alice"]); c != 429 {
		t.Fatalf("alice from the attacker's address during the lockout: %d, want 429", c)
	}
	if c := try(t, srv, bureau, "alice", pw["alice"]); c != 200 {
		t.Fatalf("alice from her own address: %d, want 200", c)
	}
	if c := try(t, srv, attacker, "bob", pw["bob"]); c != 200 {
		t.Fatalf("bob from the attacker's address: %d, want 200 (only alice is locked there)", c)
	}
	// Many accounts from one forwarded address: that address is locked out.
	for i := PairFree + 2; i <= AddrFree+1; i++ { // 3 failures so far, AddrFree+1 in all
		try(t, srv, attacker, fmt.Sprintf("user%d", i), "guess")
	}
	if c := try(t, srv, attacker, "bob", pw["bob"]); c != 429 {
		t.Fatalf("bob from the attacker's address after %d failures there: %d, want 429", AddrFree+1, c)
	}
	if c := try(t, srv, bureau, "bob", pw["bob"]); c != 200 {
		t.Fatalf("bob from another address behind the same proxy: %d, want 200", c)
	}
}

// From an address that is not a trusted proxy, X-Forwarded-For is ignored:
// changing it buys no more guesses. Without a trusted proxy every client
// behind a proxy has one address, and still a locked account does not lock
// out the others.
func TestLockoutUntrustedForwardedFor(t *testing.T) {
	srv, pw := guarded(t, "10.0.0.0/8")
	for i := 0; i <= PairFree; i++ {
		try(t, srv, fmt.Sprintf("203.0.113.%d", i), "alice", "guess")
	}
	if c := try(t, srv, "203.0.113.200", "alice", pw["alice"]); c != 429 {
		t.Fatalf("a new X-Forwarded-For from an untrusted address escaped alice's lockout: %d", c)
	}
	if c := try(t, srv, "203.0.113.201", "bob", pw["bob"]); c != 200 {
		t.Fatalf("bob behind the same address: %d, want 200", c)
	}
	for i := PairFree + 2; i <= AddrFree+1; i++ { // 3 failures so far, AddrFree+1 in all
		try(t, srv, fmt.Sprintf("203.0.113.%d", i), fmt.Sprintf("user%d", i), "guess")
	}
	if c := try(t, srv, "203.0.113.202", "bob", pw["bob"]); c != 429 {
		t.Fatalf("after %d failures from one address with changing X-Forwarded-For: %d, want 429", AddrFree+1, c)
	}
}

// Concurrent checks share the cache safely (go test -race).
func TestUsersConcurrent(t *testing.T) {
	h, _ := HashPassword("pw")
	u, _ := NewUsers([]config.WebUser{{Name: "a", PasswordBcrypt: h}}, time.Now)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if u.Check("a", "pw") != true || u.Check("a", fmt.Sprint(i)) {
				t.Error("wrong answer")
			}
		}()
	}
	wg.Wait()
}
