package upload

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// Config is the uploads: section of qualitymon.yaml.
//
//	uploads:
//	  max_bytes: 10485760                 # larger bodies get 413
//	  archive_dir: var/uploads            # originals kept as <date>/<sha256>.<ext>
//	  audit_log: var/uploads/audit.jsonl  # one JSON line per upload
//	  tokens:
//	    - bureau: 青岛市统计局
//	      token_sha256: 5e884898…           # printf %s TOKEN | sha256sum
//	      regions: ["370200"]               # codes or names
//	      indicators: []                    # optional: only these indicators
type Config struct {
	MaxBytes   int64   `yaml:"max_bytes"`
	ArchiveDir string  `yaml:"archive_dir"`
	AuditLog   string  `yaml:"audit_log"`
	Tokens     []Token `yaml:"tokens"`
}

// Token is one bureau's credential. Only the SHA-256 of the token is kept.
type Token struct {
	Bureau      string   `yaml:"bureau"`
	TokenSHA256 string   `yaml:"token_sha256"`
	Regions     []string `yaml:"regions"`
	Indicators  []string `yaml:"indicators"`
}

// Defaults.
const (
	DefaultMaxBytes   = 10 << 20
	DefaultArchiveDir = "var/uploads"
	DefaultAuditLog   = "var/uploads/audit.jsonl"
)

// ParseConfig decodes the uploads: section strictly (unknown keys fail),
// applies defaults and checks every field. A missing section (zero node)
// gives the defaults and no tokens: every upload is then refused with 401.
// Regions and indicators are checked against the tables by Check (and
// NewHandler).
func ParseConfig(n *yaml.Node) (Config, error) {
	c := Config{}
	if n != nil && n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		if err := strict(n); err != nil {
			return c, err
		}
		if err := n.Decode(&c); err != nil {
			return c, fmt.Errorf("uploads: %w", err)
		}
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.ArchiveDir == "" {
		c.ArchiveDir = DefaultArchiveDir
	}
	if c.AuditLog == "" {
		c.AuditLog = DefaultAuditLog
	}
	return c, c.validate()
}

var (
	topKeys   = []string{"max_bytes", "archive_dir", "audit_log", "tokens"}
	tokenKeys = []string{"bureau", "token_sha256", "regions", "indicators"}
)

// strict rejects unknown keys, naming the line (yaml.Node.Decode has no
// KnownFields of its own).
func strict(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: uploads: want a mapping", n.Line)
	}
	if err := knownKeys(n, "uploads", topKeys); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "tokens" {
			continue
		}
		toks := n.Content[i+1]
		if toks.Kind != yaml.SequenceNode {
			continue // Decode reports the type error
		}
		for j, t := range toks.Content {
			if t.Kind == yaml.MappingNode {
				if err := knownKeys(t, fmt.Sprintf("uploads.tokens[%d]", j), tokenKeys); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func knownKeys(n *yaml.Node, path string, allowed []string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return fmt.Errorf("line %d: %s: unknown field %q (want %s)", k.Line, path, k.Value, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("uploads.max_bytes: %d must be positive", c.MaxBytes))
	}
	seen := map[string]int{}
	for i, t := range c.Tokens {
		at := fmt.Sprintf("uploads.tokens[%d]", i)
		if strings.TrimSpace(t.Bureau) == "" {
			errs = append(errs, fmt.Errorf("%s.bureau: missing (who uploads with this token)", at))
		}
		h := strings.ToLower(strings.TrimSpace(t.TokenSHA256))
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("%s.token_sha256: %q is not 64 hex digits (store the hash, not the token: printf %%s TOKEN | sha256sum, or qualitymon token hash)", at, t.TokenSHA256))
		} else if j, dup := seen[h]; dup {
			errs = append(errs, fmt.Errorf("%s.token_sha256: the same token as uploads.tokens[%d]", at, j))
		} else {
			seen[h] = i
		}
		if len(t.Regions) == 0 {
			errs = append(errs, fmt.Errorf("%s.regions: missing (the regions %s may report for)", at, t.Bureau))
		}
	}
	return errors.Join(errs...)
}

// Check resolves every token's regions and indicators against the tables:
// what serve would refuse, check config refuses too.
func (c Config) Check(v *ingest.Validator) error {
	_, err := c.resolve(v)
	return err
}

// resolve turns the configured tokens into scopes.
func (c Config) resolve(v *ingest.Validator) ([]token, error) {
	var errs []error
	var out []token
	for i, t := range c.Tokens {
		tok := token{bureau: t.Bureau, scope: &ingest.Scope{Who: t.Bureau, Regions: map[string]bool{}}}
		b, _ := hex.DecodeString(strings.ToLower(strings.TrimSpace(t.TokenSHA256)))
		copy(tok.hash[:], b)
		var names []string
		for _, r := range t.Regions {
			reg, ok := v.Regions.Resolve(r)
			if !ok {
				errs = append(errs, fmt.Errorf("uploads.tokens[%d].regions: unknown region %q", i, r))
				continue
			}
			tok.scope.Regions[reg.Code] = true
			names = append(names, reg.Code+" "+reg.Name)
		}
		tok.scope.RegionList = strings.Join(names, ", ")
		if len(t.Indicators) > 0 {
			tok.scope.Indicators = map[string]bool{}
			for _, id := range t.Indicators {
				ind, ok := v.Catalog.Resolve(id)
				if !ok {
					errs = append(errs, fmt.Errorf("uploads.tokens[%d].indicators: unknown indicator %q", i, id))
					continue
				}
				tok.scope.Indicators[ind.ID] = true
			}
		}
		out = append(out, tok)
	}
	return out, errors.Join(errs...)
}

// HashToken returns the SHA-256 of a token in hex, as token_sha256 holds it
// (the same as printf %s TOKEN | sha256sum).
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewToken returns a random token (32 bytes, URL-safe base64) and its hash.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}
