package upload

import (
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/config"
)

// parse loads doc as qualitymon.yaml (config.Load decodes and checks the
// uploads: section) and returns the section.
func parse(doc string) (Config, error) {
	cfg, err := config.Load([]byte(doc), nil)
	if err != nil {
		return Config{}, err
	}
	return Config(cfg.Uploads), nil
}

const hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" // sha256("password")

func TestParseConfig(t *testing.T) {
	c, err := parse(`
uploads:
  max_bytes: 1000
  tokens:
    - bureau: 青岛市统计局
      token_sha256: ` + strings.ToUpper(hash) + `
      regions: ["370200"]
      indicators: [food_sampling_pass_rate]
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBytes != 1000 || c.ArchiveDir != DefaultArchiveDir || c.AuditLog != DefaultAuditLog || len(c.Tokens) != 1 || c.Tokens[0].Regions[0] != "370200" {
		t.Fatalf("%+v", c)
	}
	if HashToken("password") != hash {
		t.Fatal("HashToken differs from sha256sum")
	}
	// No section: defaults, no tokens.
	c, err = parse("listen: x:1\n")
	if err != nil || c.MaxBytes != DefaultMaxBytes || len(c.Tokens) != 0 {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"uploads:\n  max_byte: 10\n", `line 2: uploads: unknown field "max_byte"`},
		{"uploads:\n  tokens:\n    - bureau: x\n      token: abc\n", `line 4: uploads.tokens[0]: unknown field "token"`},
		{"uploads:\n  tokens:\n    - bureau: x\n      token_sha256: secret\n      regions: [\"370200\"]\n", `uploads.tokens[0].token_sha256: the value (6 characters, not shown: it may be a token) is not 64 hex digits`},
		{"uploads:\n  tokens:\n    - token_sha256: " + hash + "\n      regions: [\"370200\"]\n", "uploads.tokens[0].bureau: missing"},
		{"uploads:\n  tokens:\n    - bureau: x\n      token_sha256: " + hash + "\n", "uploads.tokens[0].regions: missing"},
		{"uploads:\n  tokens:\n    - {bureau: a, token_sha256: " + hash + ", regions: [\"370200\"]}\n    - {bureau: b, token_sha256: " + hash + ", regions: [\"370200\"]}\n", "uploads.tokens[1].token_sha256: the same token as uploads.tokens[0]"},
		{"uploads:\n  max_bytes: -1\n", "uploads.max_bytes: -1 must be positive"},
		{"uploads: [1]\n", "uploads: want a mapping"},
	} {
		_, err := parse(tc.doc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestNewHandlerChecksScopes(t *testing.T) {
	v := validator(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		tok  Token
		want string
	}{
		{Token{Bureau: "x", TokenSHA256: hash, Regions: []string{"火星"}}, `uploads.tokens[0].regions: unknown region "火星"`},
		{Token{Bureau: "x", TokenSHA256: hash, Regions: []string{"青岛"}, Indicators: []string{"gdp"}}, `uploads.tokens[0].indicators: unknown indicator "gdp"`},
	} {
		cfg := testConfig(dir, 100)
		cfg.Tokens = []Token{tc.tok}
		_, err := NewHandler(cfg, v, &memSink{}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
