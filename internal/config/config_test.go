package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"schedule.bad.yaml":     `evaluation.schedule: "every five minutes"`,
		"unknown-key.bad.yaml":  "field buckett not found",
		"url.bad.yaml":          `influx.url: "127.0.0.1:8086" must start with http://`,
		"listen.bad.yaml":       `listen: "9737" is not host:port`,
		"grace.bad.yaml":        `evaluation.grace: unknown frequency "weekly"`,
		"duration.bad.yaml":     `invalid duration "soon"`,
		"runbook-url.bad.yaml":  `alerting.runbook_base_url: "wiki/runbooks#alerts" must be an http:// or https:// URL without # or ?`,
		"limits.bad.yaml":       `line 2: limits.cell_bytes: -5 must be positive (or 0 for the default)`,
		"limits-key.bad.yaml":   `field cells not found in type ingest.Limits`,
		"timezone.bad.yaml":     `line 1: timezone: "Beijing" is not a known IANA time zone (want e.g. Asia/Shanghai or UTC)`,
		"memory-limit.bad.yaml": `line 1: memory_limit: -2 must be a number of bytes (or -1 for none)`,
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		_, err := LoadFile(f, nil)
		w := want[filepath.Base(f)]
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %v, want it to contain %q", f, err, w)
		}
		if err != nil && !strings.HasPrefix(err.Error(), f+": ") {
			t.Errorf("%s: error %q does not name the file", f, err)
		}
	}
}

func TestEnvOverridesAndSecret(t *testing.T) {
	env := map[string]string{EnvURL: "http://10.0.0.1:8086", EnvToken: "from-env", EnvBucket: "b/rp"}
	c, err := LoadFile("testdata/good.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Influx.URL != "http://10.0.0.1:8086" || c.Influx.Bucket != "b/rp" || c.Influx.Org != "quality" || string(c.Influx.Token) != "from-env" {
		t.Fatalf("overrides not applied: %+v", c.Influx)
	}
	if time.Duration(c.Evaluation.Grace["yearly"]) != 120*24*time.Hour {
		t.Fatalf("grace = %v", c.Evaluation.Grace["yearly"])
	}
	out, _ := yaml.Marshal(c)
	if strings.Contains(string(out), "from-env") || !strings.Contains(string(out), "<redacted>") {
		t.Fatalf("token printed: %s", out)
	}
	if s := c.Influx.Token.String(); s != "<redacted>" {
		t.Fatalf("String() = %q", s)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Evaluation.Schedule != DefaultSchedule || c.Influx.Bucket != DefaultBucket || c.Influx.Org != "-" {
		t.Fatalf("defaults: %+v", c)
	}
	if *c.Evaluation.FullRead != DefaultFullRead {
		t.Fatalf("evaluation.full_read default: %v", *c.Evaluation.FullRead)
	}
	for doc, want := range map[string]time.Duration{"evaluation: {full_read: 0}\n": 0, "evaluation: {full_read: 10m}\n": 10 * time.Minute} {
		if c, err := Load([]byte(doc), nil); err != nil || time.Duration(*c.Evaluation.FullRead) != want {
			t.Fatalf("%q: %v %v, want %v", doc, c, err, want)
		}
	}
	if c.MemoryLimit != DefaultMemoryLimit {
		t.Fatalf("memory_limit default: %d", c.MemoryLimit)
	}
	for doc, want := range map[string]int64{"memory_limit: -1\n": -1, "memory_limit: 2147483648\n": 2 << 30} {
		if c, err := Load([]byte(doc), nil); err != nil || c.MemoryLimit != want {
			t.Fatalf("%q: %v %v, want %d", doc, c, err, want)
		}
	}
	if c.Timezone != "Asia/Shanghai" || c.Location == nil || c.Location.String() != "Asia/Shanghai" {
		t.Fatalf("timezone default: %q %v", c.Timezone, c.Location)
	}
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC).In(c.Location)
	if at.Hour() != 9 || at.Day() != 7 {
		t.Fatalf("01:00Z in %v is %v, want 09:00 (the zone database is embedded)", c.Location, at)
	}
	c, err = Load([]byte("timezone: UTC\n"), nil)
	if err != nil || c.Location != time.UTC {
		t.Fatalf("timezone: UTC: %v %v", c.Location, err)
	}
	if _, err := Load([]byte("timezone: Local\n"), nil); err == nil || !strings.Contains(err.Error(), "name an IANA time zone") {
		t.Fatalf("timezone: Local: %v", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	// The example shipped at the repository root must stay valid.
	if _, err := os.Stat("../../qualitymon.yaml"); err != nil {
		t.Fatalf("qualitymon.yaml example missing: %v", err)
	}
	if _, err := LoadFile("../../qualitymon.yaml", nil); err != nil {
		t.Fatal(err)
	}
}
