package upload

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/reporting"
)

// Config is the uploads: section of qualitymon.yaml, decoded strictly and
// checked by config.Load (see config.Uploads for the keys); Check resolves
// its tokens' regions and indicators.
type Config config.Uploads

// Token is one bureau's credential. Only the SHA-256 of the token is kept.
type Token = config.UploadToken

// Defaults.
const (
	DefaultMaxBytes   = config.DefaultUploadMaxBytes
	DefaultArchiveDir = config.DefaultUploadArchiveDir
	DefaultAuditLog   = config.DefaultUploadAuditLog
)

// ParseConfig returns the uploads: section of a loaded config, checked again.
//
// Deprecated: config.Load decodes and checks the section; use
// upload.Config(cfg.Uploads).
func ParseConfig(c *config.Uploads) (Config, error) { return Config(*c), c.Validate() }

// Check resolves every token's regions and indicators against the tables
// (reporting.NewDirectory, as the handler does): what serve would refuse,
// check config refuses too.
func (c Config) Check(v *ingest.Validator) error {
	_, err := reporting.NewDirectory(c.Tokens, v.Catalog, v.Regions)
	return err
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
