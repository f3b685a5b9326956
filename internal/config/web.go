package config

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Web is the web: section: the scorecard pages serve shows (质量目标看板,
// internal/web). Without users the pages are open to whoever reaches the
// listener; with users they ask for HTTP basic authentication.
//
//	web:
//	  auth:
//	    users:
//	      - name: zhijianchu
//	        password_sha256: 5e884898…   # printf %s PASSWORD | sha256sum
type Web struct {
	Auth WebAuth `yaml:"auth"`
}

// WebAuth lists who may read the pages.
type WebAuth struct {
	Users []WebUser `yaml:"users"`
}

// WebUser is one reader; only the SHA-256 of the password is kept.
type WebUser struct {
	Name           string `yaml:"name"`
	PasswordSHA256 string `yaml:"password_sha256"`
}

func (w *Web) validate() []error {
	var errs []error
	seen := map[string]bool{}
	for i, u := range w.Auth.Users {
		key := fmt.Sprintf("web.auth.users[%d]", i)
		switch {
		case u.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", key))
		case strings.Contains(u.Name, ":"):
			errs = append(errs, fmt.Errorf("%s.name: %q must not contain a colon (HTTP basic authentication)", key, u.Name))
		case seen[u.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is listed twice", key, u.Name))
		}
		seen[u.Name] = true
		if b, err := hex.DecodeString(u.PasswordSHA256); err != nil || len(b) != 32 {
			errs = append(errs, fmt.Errorf("%s.password_sha256: want 64 hex digits, the SHA-256 of the password (printf %%s PASSWORD | sha256sum)", key))
		}
	}
	return errs
}
