package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Uploads is the uploads: section: statistics bureaus' uploads (POST
// /api/v1/uploads). Each token's regions and indicators are resolved against
// the region table and catalogue by upload.Config.Check, which check config
// and serve both run.
//
//	uploads:
//	  max_bytes: 10485760                 # larger bodies get 413
//	  archive_dir: var/uploads            # originals kept in <date>/uploads-*.archive (qualitymon archive extract)
//	  audit_log: var/uploads/audit.jsonl  # one JSON line per upload
//	  review_dir: var/review              # uploads held for review, receipts, review audit log
//	  tokens:
//	    - bureau: 青岛市统计局
//	      token_sha256: 5e884898…           # printf %s TOKEN | sha256sum
//	      regions: ["370200"]               # codes or names
//	      indicators: []                    # optional: only these indicators
//	      role: reporter                    # reporter (default) | reviewer
//	      review: required                  # required: uploads wait for a reviewer (待审核); none (default; reviewers: review.hold_reviewers_own)
//	      contact: 王科长 0532-0000000        # optional: shown to reviewers and operators
type Uploads struct {
	MaxBytes   int64         `yaml:"max_bytes"`
	ArchiveDir string        `yaml:"archive_dir"`
	AuditLog   string        `yaml:"audit_log"`
	ReviewDir  string        `yaml:"review_dir"`
	Tokens     []UploadToken `yaml:"tokens"`
}

// UploadToken is one bureau's credential. Only the SHA-256 of the token is kept.
type UploadToken struct {
	Bureau      string   `yaml:"bureau"`
	TokenSHA256 string   `yaml:"token_sha256"`
	Regions     []string `yaml:"regions"`
	Indicators  []string `yaml:"indicators"`
	// Role is RoleReporter (default: reports figures) or RoleReviewer
	// (approves or returns held uploads for its regions; may also upload:
	// held for another reviewer unless review.hold_reviewers_own is false).
	Role string `yaml:"role"`
	// Review is ReviewRequired (uploads are held until a reviewer approves
	// them) or ReviewNone (default; for a reviewer's token, the default
	// follows review.hold_reviewers_own).
	Review string `yaml:"review"`
	// Contact is who to ask at the bureau (name, telephone, e-mail).
	Contact string `yaml:"contact"`
}

// Token roles and review modes.
const (
	RoleReporter   = "reporter"
	RoleReviewer   = "reviewer"
	ReviewRequired = "required"
	ReviewNone     = "none"
)

// IsReviewer reports whether the token reviews uploads.
func (t *UploadToken) IsReviewer() bool { return t.Role == RoleReviewer }

// Held reports whether the token's uploads wait for review.
func (t *UploadToken) Held() bool { return t.Review == ReviewRequired }

// MaxContact bounds uploads.tokens[].contact.
const MaxContact = 200

// Collector is one entry of the collectors: section. Options are decoded
// strictly by the type's factory (collectors.DecodeOptions), when
// collectors.Build builds it: check config and serve both do.
//
//	collectors:
//	  - name: stats-drop
//	    type: filedrop
//	    schedule: "*/5 * * * *"    # 5 cron fields, or @daily, @every 10m
//	    timeout: 2m                # per run; default 5m
//	    options: {dir: var/drop}   # decoded strictly by the type's factory
type Collector struct {
	Name     string    `yaml:"name"`
	Type     string    `yaml:"type"`
	Schedule string    `yaml:"schedule"`
	Timeout  Duration  `yaml:"timeout"`
	Options  yaml.Node `yaml:"options"`
}

// Section defaults.
const (
	DefaultUploadMaxBytes   = 10 << 20
	DefaultUploadArchiveDir = "var/uploads"
	DefaultUploadAuditLog   = "var/uploads/audit.jsonl"
	DefaultReviewDir        = "var/review"
	DefaultCollectorTimeout = 5 * time.Minute
)

func (u *Uploads) defaults() {
	if u.MaxBytes == 0 {
		u.MaxBytes = DefaultUploadMaxBytes
	}
	if u.ArchiveDir == "" {
		u.ArchiveDir = DefaultUploadArchiveDir
	}
	if u.AuditLog == "" {
		u.AuditLog = DefaultUploadAuditLog
	}
	if u.ReviewDir == "" {
		u.ReviewDir = DefaultReviewDir
	}
	for i := range u.Tokens {
		if u.Tokens[i].Role == "" {
			u.Tokens[i].Role = RoleReporter
		}
		if u.Tokens[i].Review == "" {
			u.Tokens[i].Review = ReviewNone
		}
	}
}

// Validate checks the section's own fields (not the regions and indicators
// the tokens name: upload.Config.Check resolves those). Errors name the key
// path, e.g. uploads.tokens[0].regions.
func (u *Uploads) Validate() error { return errors.Join(u.validate(nil)...) }

func (u *Uploads) validate(doc *yaml.Node) []error {
	var errs []error
	if u.MaxBytes < 0 {
		errs = append(errs, at(doc, "uploads.max_bytes", fmt.Errorf("uploads.max_bytes: %d must be positive", u.MaxBytes)))
	}
	seen := map[string]int{}
	for i, t := range u.Tokens {
		p := fmt.Sprintf("uploads.tokens[%d]", i)
		if strings.TrimSpace(t.Bureau) == "" {
			errs = append(errs, at(doc, p, fmt.Errorf("%s.bureau: missing (who uploads with this token)", p)))
		}
		h := strings.ToLower(strings.TrimSpace(t.TokenSHA256))
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			errs = append(errs, at(doc, p+".token_sha256", fmt.Errorf("%s.token_sha256: the value (%d characters, not shown: it may be a token) is not 64 hex digits (store the hash, not the token: printf %%s TOKEN | sha256sum, or qualitymon token hash)", p, len(t.TokenSHA256))))
		} else if j, dup := seen[h]; dup {
			errs = append(errs, at(doc, p+".token_sha256", fmt.Errorf("%s.token_sha256: the same token as uploads.tokens[%d]", p, j)))
		} else {
			seen[h] = i
		}
		if len(t.Regions) == 0 {
			errs = append(errs, at(doc, p, fmt.Errorf("%s.regions: missing (the regions %s may report for)", p, t.Bureau)))
		}
		switch t.Role {
		case "", RoleReporter, RoleReviewer:
		default:
			errs = append(errs, at(doc, p+".role", fmt.Errorf("%s.role: %q is not a role (want reporter or reviewer)", p, t.Role)))
		}
		switch t.Review {
		case "", ReviewNone, ReviewRequired:
		default:
			errs = append(errs, at(doc, p+".review", fmt.Errorf("%s.review: %q is not a review mode (want required or none)", p, t.Review)))
		}
		if n := utf8.RuneCountInString(t.Contact); n > MaxContact {
			errs = append(errs, at(doc, p+".contact", fmt.Errorf("%s.contact: %d characters, at most %d", p, n, MaxContact)))
		} else if strings.ContainsFunc(t.Contact, unicode.IsControl) {
			errs = append(errs, at(doc, p+".contact", fmt.Errorf("%s.contact: one line of text, without control characters", p)))
		}
	}
	return errs
}

var collectorName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// validateCollectors checks names (present, metric-label safe, unique) and
// schedules, and applies the default timeout. Types and options are checked
// by collectors.Build. Every error names the collector.
func validateCollectors(cs []Collector, doc *yaml.Node) []error {
	var errs []error
	seen := map[string]int{}
	for i := range cs {
		c := &cs[i]
		where := fmt.Sprintf("collectors[%d]", i)
		if c.Name != "" {
			where = fmt.Sprintf("collector %q", c.Name)
		}
		var bad []error
		if c.Name == "" {
			bad = append(bad, errors.New("name: required"))
		} else if !collectorName.MatchString(c.Name) {
			bad = append(bad, fmt.Errorf("name: %q must match %s (it becomes a metric label)", c.Name, collectorName))
		}
		if c.Schedule == "" {
			bad = append(bad, errors.New(`schedule: required (5 cron fields such as "0 6 * * *", or @daily, @every 10m)`))
		} else if _, err := Parser.Parse(c.Schedule); err != nil {
			bad = append(bad, fmt.Errorf("schedule: %q: %w", c.Schedule, err))
		}
		if c.Timeout == 0 {
			c.Timeout = Duration(DefaultCollectorTimeout)
		}
		line := 0
		if n := find(doc, fmt.Sprintf("collectors[%d]", i)); n != nil {
			line = n.Line
		}
		if first, dup := seen[c.Name]; dup && c.Name != "" && len(bad) == 0 {
			bad = append(bad, fmt.Errorf("line %d: name given twice (first on line %d)", line, first))
		} else if c.Name != "" && !dup {
			seen[c.Name] = line
		}
		for _, e := range bad {
			errs = append(errs, fmt.Errorf("%s: %w", where, e))
		}
	}
	return errs
}
