package reporting

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Bureau is one upload token's holder, resolved: who, in which role, for
// which regions and indicators.
type Bureau struct {
	Name string `json:"bureau"`
	// Role is config.RoleReporter or config.RoleReviewer.
	Role string `json:"role"`
	// Review is true when the bureau's uploads wait for a reviewer.
	Review  bool   `json:"review"`
	Contact string `json:"contact,omitempty"`
	// Scope holds the regions (codes) and, when limited, the indicators.
	Scope *ingest.Scope `json:"-"`
	// Regions lists the scope's region codes, sorted.
	Regions []string `json:"regions"`
	// Indicators lists the scope's indicators, sorted (nil: every one).
	Indicators []string `json:"indicators,omitempty"`

	hash [sha256.Size]byte
}

// IsReviewer reports whether the bureau reviews uploads.
func (b *Bureau) IsReviewer() bool { return b.Role == config.RoleReviewer }

// Covers reports whether every region lies in the bureau's regions.
func (b *Bureau) Covers(regions []string) bool {
	for _, r := range regions {
		if !b.Scope.Regions[r] {
			return false
		}
	}
	return true
}

// Directory is every configured token, resolved against the tables: the
// one lookup of a token's bureau and scope. The upload API authenticates
// with it (upload.Handler, and check config resolves the tokens through
// it), Sinks chooses a bureau's sink from the Bureau it returns, the web
// workspace signs bureaus in with it, and completeness, the overdue metric
// and review take the bureaus that report and review from it.
type Directory struct {
	tokens []*Bureau
}

// NewDirectory resolves the uploads: tokens (as config.Load decoded them)
// against the catalogue and region table.
func NewDirectory(tokens []config.UploadToken, cat *catalog.Catalog, regs *region.Table) (*Directory, error) {
	d := &Directory{}
	var errs []error
	for i, t := range tokens {
		b := &Bureau{Name: t.Bureau, Role: t.Role, Review: t.Held(), Contact: t.Contact}
		if b.Role == "" {
			b.Role = config.RoleReporter
		}
		h, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(t.TokenSHA256)))
		if err != nil || len(h) != sha256.Size {
			errs = append(errs, fmt.Errorf("uploads.tokens[%d].token_sha256: not a SHA-256 in hex", i))
			continue
		}
		copy(b.hash[:], h)
		b.Scope, err = ingest.NewScope(t.Bureau, t.Regions, t.Indicators, cat, regs, fmt.Sprintf("uploads.tokens[%d]", i))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.Regions, b.Indicators = b.Scope.RegionCodes(), b.Scope.IndicatorIDs()
		d.tokens = append(d.tokens, b)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

// Authenticate returns the bureau of a token (as typed: the secret, not its
// hash). Every configured hash is compared in constant time.
func (d *Directory) Authenticate(token string) (*Bureau, bool) {
	return d.ByHash(sha256.Sum256([]byte(strings.TrimSpace(token))))
}

// ByHash returns the bureau of a token's SHA-256 (a session keeps the hash,
// never the token). A token removed from the config is found no more.
func (d *Directory) ByHash(sum [sha256.Size]byte) (*Bureau, bool) {
	var found *Bureau
	for _, b := range d.tokens {
		if subtle.ConstantTimeCompare(sum[:], b.hash[:]) == 1 {
			found = b
		}
	}
	return found, found != nil
}

// ByHashHex is ByHash of a hash in hex (as token_sha256 holds it).
func (d *Directory) ByHashHex(h string) (*Bureau, bool) {
	b, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(h)))
	if err != nil || len(b) != sha256.Size {
		return nil, false
	}
	var sum [sha256.Size]byte
	copy(sum[:], b)
	return d.ByHash(sum)
}

// Reporters returns one Bureau per reporting bureau name (role reporter),
// in config order; several tokens of one bureau (a rotation) are merged:
// the union of their regions, and of their indicators unless one token
// allows every indicator.
func (d *Directory) Reporters() []*Bureau { return d.merged(config.RoleReporter) }

// Reviewers returns the reviewing bureaus, merged as Reporters.
func (d *Directory) Reviewers() []*Bureau { return d.merged(config.RoleReviewer) }

// Reporter returns the reporting bureau of the name, merged as Reporters.
func (d *Directory) Reporter(name string) (*Bureau, bool) {
	for _, b := range d.Reporters() {
		if b.Name == name {
			return b, true
		}
	}
	return nil, false
}

func (d *Directory) merged(role string) []*Bureau {
	var out []*Bureau
	idx := map[string]*Bureau{}
	for _, t := range d.tokens {
		if t.Role != role {
			continue
		}
		m, ok := idx[t.Name]
		if !ok {
			m = &Bureau{Name: t.Name, Role: t.Role, Review: t.Review, Contact: t.Contact,
				Scope: &ingest.Scope{Who: t.Name, Regions: map[string]bool{}}}
			if t.Scope.Indicators != nil {
				m.Scope.Indicators = map[string]bool{}
			}
			idx[t.Name] = m
			out = append(out, m)
		}
		m.Review = m.Review || t.Review
		if m.Contact == "" {
			m.Contact = t.Contact
		}
		for r := range t.Scope.Regions {
			m.Scope.Regions[r] = true
		}
		if t.Scope.Indicators == nil {
			m.Scope.Indicators = nil
		} else if m.Scope.Indicators != nil {
			for i := range t.Scope.Indicators {
				m.Scope.Indicators[i] = true
			}
		}
	}
	for _, m := range out {
		m.Regions = sortedKeys(m.Scope.Regions)
		if m.Scope.Indicators != nil {
			m.Indicators = sortedKeys(m.Scope.Indicators)
		}
		m.Scope.RegionList = strings.Join(m.Regions, ", ")
	}
	return out
}

// sortedKeys lists a set's members in order; empty, never nil (JSON "[]").
func sortedKeys[K cmp.Ordered](m map[K]bool) []K {
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []K{}
	}
	return out
}
