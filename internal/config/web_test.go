package config

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestWebSection(t *testing.T) {
	c, err := LoadFile("testdata/web/good.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	u := c.Web.Auth.Users
	if len(u) != 1 || u[0].Name != "zhijianchu" || bcrypt.CompareHashAndPassword([]byte(u[0].PasswordBcrypt), []byte("password")) != nil {
		t.Fatalf("web.auth.users = %+v", u)
	}
	if !c.Web.Auth.MetricsPublic {
		t.Error("web.auth.metrics_public not read")
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if got := c.Web.Proxies(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("trusted proxies = %v, want %v", got, want)
	}
}

// Every refused web: section, with the message an operator acts on. An
// unsalted SHA-256 (the old password_sha256) is refused with how to make a
// bcrypt hash.
func TestWebBadConfigs(t *testing.T) {
	want := map[string]string{
		"sha256.bad.yaml":  "line 5: web.auth.users[0].password_sha256: unsalted SHA-256 password hashes are refused (they are cracked in seconds): make a bcrypt hash with `qualitymon password hash`",
		"hash.bad.yaml":    "line 5: web.auth.users[0].password_bcrypt: not a bcrypt hash",
		"cost.bad.yaml":    "web.auth.users[0].password_bcrypt: bcrypt cost 4 is too cheap (at least 10",
		"missing.bad.yaml": "web.auth.users[0].password_bcrypt: required (make it with `qualitymon password hash`)",
		"proxy.bad.yaml":   `line 2: web.trusted_proxies[0]: "10.0.0.0/33" is not an address or CIDR`,
		"name.bad.yaml":    "web.auth.users[0].name: required",
		"twice.bad.yaml":   `web.auth.users[1].name: "a" is listed twice`,
		"unknown.bad.yaml": "field user not found",
	}
	files, _ := filepath.Glob("testdata/web/*.bad.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		_, err := LoadFile(f, nil)
		if w := want[filepath.Base(f)]; err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %v, want it to contain %q", f, err, w)
		}
		if err != nil && strings.Contains(err.Error(), "5e884898") {
			t.Errorf("%s: the error quotes the hash: %v", f, err)
		}
	}
}
