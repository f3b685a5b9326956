// Package config loads all of qualitymon.yaml, uploads: and collectors:
// included, strictly (yaml.v3 KnownFields: unknown keys fail) into typed
// sections, applies defaults and the QUALITYMON_INFLUX_* environment
// overrides, and validates every field with a message that names the file,
// the line where it can and the key path. What the text alone cannot tell
// (upload tokens' regions and indicators, collector types and options) is
// checked against the tables and collector factories by the one config check
// that check config and serve share (internal/cli, loadChecked).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // the zone database, for machines without /usr/share/zoneinfo

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/yamlfile"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Influx locates the InfluxDB bucket.
type Influx struct {
	URL    string `yaml:"url"`
	Token  Secret `yaml:"token"`
	Org    string `yaml:"org"`
	Bucket string `yaml:"bucket"`
}

// Secret is a string never printed: it formats as "<redacted>".
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// MarshalYAML hides the value when a config is printed.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Evaluation schedules re-evaluation.
type Evaluation struct {
	Schedule string `yaml:"schedule"`
	// Grace per reporting frequency (yearly, quarterly, monthly, daily) added
	// to the reporting interval before data counts as stale.
	Grace map[string]Duration `yaml:"grace"`
	// FullRead is how often a scheduled evaluation reads every figure from
	// InfluxDB (nil: DefaultFullRead); the evaluations between re-read only
	// the indicators written since the previous read. 0: every evaluation
	// reads everything.
	FullRead *Duration `yaml:"full_read"`
}

// Duration reads "90d", "36h", "15m".
type Duration time.Duration

// UnmarshalYAML accepts Go durations and a days suffix.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	v, err := catalog.ParseDuration(s)
	if err != nil || v < 0 {
		return durationError(n, fmt.Sprintf("invalid duration %q (want e.g. 90d, 36h)", s))
	}
	*d = Duration(v)
	return nil
}

// durationError is a *yaml.TypeError, so that decoding goes on and reports
// every problem of the file at once.
func durationError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}

// Alerting is what qualitymon tells the alert rules through
// qualitymon_alerting_info and qualitymon_alerting_settled_notify_window_seconds.
type Alerting struct {
	// RunbookBaseURL is the runbook page; each alert's runbook_url is it
	// plus "#" and the alert's name in lower case.
	RunbookBaseURL string `yaml:"runbook_base_url"`
	// GrafanaURL is Grafana's external URL: the base of dashboard_url.
	GrafanaURL string `yaml:"grafana_url"`
	// SettledNotifyWindow is how long after a target settles as missed its
	// alert still fires (and so notifies once); after it, nothing.
	SettledNotifyWindow Duration `yaml:"settled_notify_window"`
}

// Metrics chooses the per-target series of /metrics (internal/exporter).
type Metrics struct {
	// DetailedTargets adds every per-target family of METRICS.md (about 18
	// series per target) to the compact three (status code, gap, settled
	// timestamp): for a few thousand targets, not for a national
	// deployment's 300,000.
	DetailedTargets bool `yaml:"detailed_targets"`
}

// Config is qualitymon.yaml.
type Config struct {
	Influx     Influx     `yaml:"influx"`
	Listen     string     `yaml:"listen"`
	TargetsDir string     `yaml:"targets_dir"`
	Evaluation Evaluation `yaml:"evaluation"`
	SpoolDir   string     `yaml:"spool_dir"`
	Alerting   Alerting   `yaml:"alerting"`
	// Uploads configures statistics bureaus' uploads (internal/upload).
	Uploads Uploads `yaml:"uploads"`
	// Collectors are the scheduled collectors (package collectors); each
	// one's options are decoded by its type's factory.
	Collectors []Collector `yaml:"collectors"`
	// Web configures the scorecard pages (internal/web).
	Web Web `yaml:"web"`
	// Limits bound what one input file may cost, for uploads, the file
	// drop and import alike (zero fields: ingest.DefaultLimits).
	Limits ingest.Limits `yaml:"limits"`

	// Review decides whether reviewers' own uploads are held (review.go).
	Review Review `yaml:"review"`
	// Metrics chooses the per-target series of /metrics.
	Metrics Metrics `yaml:"metrics"`
	// Timezone is the IANA time zone whose calendar decides when a period
	// has begun, when a figure is due and what "today" and "this year" are
	// (default DefaultTimezone).
	Timezone string `yaml:"timezone"`
	// Location is Timezone, loaded.
	Location *time.Location `yaml:"-"`

	// DebugListen, when set, is the address where serve answers Go's
	// profiler (net/http/pprof, /debug/pprof/) without any access control:
	// for profiling under load only, on a loopback address.
	DebugListen string `yaml:"debug_listen"`

	// MemoryLimit is serve's soft memory limit in bytes (Go's
	// runtime/debug.SetMemoryLimit; -1, the default, for none): near it the collector runs more often and returns freed memory
	// to the system sooner. It bounds the garbage between collections, not
	// the live heap: a live heap near it makes serve slower, never refused.
	// GOMEMLIMIT, when set, wins.
	MemoryLimit int64 `yaml:"memory_limit"`
}

// Defaults.
const (
	DefaultListen   = "127.0.0.1:9737"
	DefaultSchedule = "@every 5m"
	// DefaultFullRead is evaluation.full_read's default.
	DefaultFullRead = Duration(time.Hour)
	DefaultBucket   = "qualitymon/autogen"
	DefaultSpoolDir = "var/spool"
	DefaultTimezone = "Asia/Shanghai"
	// DefaultMemoryLimit is memory_limit's default: none. A limit pays only
	// with a live heap well under it, and serve's at 300,000 targets still
	// reaches 1.1 GB while the completeness listing is built.
	DefaultMemoryLimit = -1

	DefaultRunbookBaseURL      = "https://github.com/qualitymon/qualitymon/blob/main/dashboards/alerts/README.md"
	DefaultGrafanaURL          = "http://127.0.0.1:3000"
	DefaultSettledNotifyWindow = Duration(12 * time.Hour)
)

// Env names of the InfluxDB overrides.
const (
	EnvURL    = "QUALITYMON_INFLUX_URL"
	EnvToken  = "QUALITYMON_INFLUX_TOKEN"
	EnvOrg    = "QUALITYMON_INFLUX_ORG"
	EnvBucket = "QUALITYMON_INFLUX_BUCKET"
)

// LoadFile reads a config file; an empty path means defaults plus environment.
func LoadFile(path string, getenv func(string) string) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
	}
	c, err := Load(data, getenv)
	if err != nil && path != "" {
		return nil, InFile(path, err)
	}
	return c, err
}

// Load parses, applies defaults and environment, and validates.
func Load(data []byte, getenv func(string) string) (*Config, error) {
	c := &Config{}
	var doc yaml.Node // where each key is, for messages
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yamlfile.Decode(data, c); err != nil {
			if yaml.Unmarshal(data, &doc) != nil {
				return nil, err // a syntax error: yaml names the line
			}
			return nil, decodeErrors(&doc, err)
		}
		yaml.Unmarshal(data, &doc)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if v := getenv(EnvURL); v != "" {
		c.Influx.URL = v
	}
	if v := getenv(EnvToken); v != "" {
		c.Influx.Token = Secret(v)
	}
	if v := getenv(EnvOrg); v != "" {
		c.Influx.Org = v
	}
	if v := getenv(EnvBucket); v != "" {
		c.Influx.Bucket = v
	}
	if c.Influx.URL == "" {
		c.Influx.URL = "http://127.0.0.1:8086"
	}
	if c.Influx.Org == "" {
		c.Influx.Org = "-"
	}
	if c.Influx.Bucket == "" {
		c.Influx.Bucket = DefaultBucket
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Evaluation.Schedule == "" {
		c.Evaluation.Schedule = DefaultSchedule
	}
	if c.Evaluation.FullRead == nil {
		fr := DefaultFullRead
		c.Evaluation.FullRead = &fr
	}
	if c.SpoolDir == "" {
		c.SpoolDir = DefaultSpoolDir
	}
	if c.Alerting.RunbookBaseURL == "" {
		c.Alerting.RunbookBaseURL = DefaultRunbookBaseURL
	}
	if c.Alerting.GrafanaURL == "" {
		c.Alerting.GrafanaURL = DefaultGrafanaURL
	}
	if c.Alerting.SettledNotifyWindow == 0 {
		c.Alerting.SettledNotifyWindow = DefaultSettledNotifyWindow
	}
	c.Review.applyTo(&c.Uploads)
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	c.Uploads.defaults()
	return c, c.validate(&doc)
}

// Parser validates cron specs: standard 5 fields and descriptors (@daily, @every 5m).
var Parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) validate(doc *yaml.Node) error {
	var errs []error
	if !strings.HasPrefix(c.Influx.URL, "http://") && !strings.HasPrefix(c.Influx.URL, "https://") {
		errs = append(errs, at(doc, "influx.url", fmt.Errorf("influx.url: %q must start with http:// or https://", store.RedactURL(c.Influx.URL))))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, at(doc, "listen", fmt.Errorf("listen: %q is not host:port", c.Listen)))
	}
	if _, err := Parser.Parse(c.Evaluation.Schedule); err != nil {
		errs = append(errs, at(doc, "evaluation.schedule", fmt.Errorf("evaluation.schedule: %q: %w", c.Evaluation.Schedule, err)))
	}
	for k := range c.Evaluation.Grace {
		switch k {
		case "yearly", "half-yearly", "quarterly", "monthly", "daily":
		default:
			errs = append(errs, at(doc, "evaluation.grace."+k, fmt.Errorf("evaluation.grace: unknown frequency %q (want yearly, half-yearly, quarterly, monthly or daily)", k)))
		}
	}
	for _, f := range [][2]string{{"alerting.runbook_base_url", c.Alerting.RunbookBaseURL}, {"alerting.grafana_url", c.Alerting.GrafanaURL}} {
		k, u := f[0], f[1]
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, "#?") {
			errs = append(errs, at(doc, k, fmt.Errorf("%s: %q must be an http:// or https:// URL without # or ?", k, u)))
		}
	}
	if c.MemoryLimit < -1 {
		errs = append(errs, at(doc, "memory_limit", fmt.Errorf("memory_limit: %d must be a number of bytes (or -1 for none)", c.MemoryLimit)))
	}
	errs = append(errs, c.Uploads.validate(doc)...)
	errs = append(errs, validateCollectors(c.Collectors, doc)...)
	errs = append(errs, c.Web.validate(doc)...)
	if loc, err := LoadZone(c.Timezone); err != nil {
		errs = append(errs, at(doc, "timezone", fmt.Errorf("timezone: %w", err)))
	} else {
		c.Location = loc
	}
	for _, l := range []struct {
		key string
		v   int64
	}{{"xlsx_unzipped_bytes", c.Limits.XLSXUnzipped}, {"sheet_xml_bytes", c.Limits.SheetXML}, {"rows", int64(c.Limits.Rows)},
		{"cells_per_row", int64(c.Limits.Cells)}, {"cell_bytes", int64(c.Limits.CellBytes)}, {"line_bytes", int64(c.Limits.LineBytes)},
		{"source_note_bytes", int64(c.Limits.TextBytes)}, {"styles_xml_bytes", c.Limits.StylesXML}, {"shared_strings", int64(c.Limits.SharedStrings)},
		{"shared_string_bytes", c.Limits.SharedStringBytes}, {"concurrent_parses", int64(c.Limits.Parses)}} {
		if l.v < 0 {
			errs = append(errs, at(doc, "limits."+l.key, fmt.Errorf("limits.%s: %d must be positive (or 0 for the default)", l.key, l.v)))
		}
	}
	return errors.Join(errs...)
}

// LoadZone loads an IANA time zone name such as Asia/Shanghai or UTC ("Local"
// is refused: it would change with the machine).
func LoadZone(name string) (*time.Location, error) {
	if name == "Local" || strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%q: name an IANA time zone such as %s or UTC", name, DefaultTimezone)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known IANA time zone (want e.g. %s or UTC)", name, DefaultTimezone)
	}
	return loc, nil
}
