package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestWebSection(t *testing.T) {
	c, err := LoadFile("testdata/web/good.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Web.Auth.Users; len(u) != 1 || u[0].Name != "zhijianchu" || len(u[0].PasswordSHA256) != 64 {
		t.Fatalf("web.auth.users = %+v", u)
	}
	want := map[string]string{
		"hash.bad.yaml":    "web.auth.users[0].password_sha256: want 64 hex digits",
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
	}
}
