package alerttest

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// ruleFile is the part of a Prometheus rule file the checks here read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert         string            `yaml:"alert"`
	Record        string            `yaml:"record"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for"`
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

// unitTestFile is the part of a promtool unit test file read here.
type unitTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name      string `yaml:"name"`
		AlertRule []struct {
			EvalTime  string           `yaml:"eval_time"`
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func alerts(t *testing.T, path string) []rule {
	t.Helper()
	var f ruleFile
	testenv.ReadYAML(t, path, &f)
	var out []rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no alerting rules", path)
	}
	return out
}

func ruleTestFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, ruleTestsGlob))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no rule unit tests match %s", ruleTestsGlob)
	}
	return files
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := tool(t, "promtool")
	root := testenv.RepoRoot(t)
	out := run(t, root, promtool, "check", "rules", rulesFile)
	t.Log(out)
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := tool(t, "promtool")
	root := testenv.RepoRoot(t)
	for _, f := range ruleTestFiles(t, root) {
		rel, _ := filepath.Rel(root, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Log(run(t, root, promtool, "test", "rules", rel))
		})
	}
}

// TestEveryAlertTested requires, for every alert, a unit test where it fires
// and one where it does not; and no test of an alert that does not exist,
// which promtool would pass silently when it expects no alerts.
func TestEveryAlertTested(t *testing.T) {
	root := testenv.RepoRoot(t)
	rulesPath := filepath.Join(root, rulesFile)
	firing := map[string]int{}
	silent := map[string]int{}
	defined := map[string]bool{}
	for _, r := range alerts(t, rulesPath) {
		defined[r.Alert] = true
	}
	for _, f := range ruleTestFiles(t, root) {
		var u unitTestFile
		testenv.ReadYAML(t, f, &u)
		refersToRules := false
		for _, rf := range u.RuleFiles {
			if p := filepath.Join(filepath.Dir(f), rf); p == rulesPath {
				refersToRules = true
			}
		}
		if !refersToRules {
			t.Errorf("%s: rule_files %v does not name %s", f, u.RuleFiles, rulesFile)
		}
		for _, tc := range u.Tests {
			for _, a := range tc.AlertRule {
				if !defined[a.Alertname] {
					t.Errorf("%s: test %q at %s: no alert named %q in %s", f, tc.Name, a.EvalTime, a.Alertname, rulesFile)
				}
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname]++
				} else {
					silent[a.Alertname]++
				}
			}
		}
	}
	names := make([]string, 0, len(defined))
	for n := range defined {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if firing[n] == 0 {
			t.Errorf("alert %s has no unit test where it fires", n)
		}
		if silent[n] == 0 {
			t.Errorf("alert %s has no unit test where it does not fire", n)
		}
	}
}

// TestAlertConventions checks what routing and people rely on: a severity
// and a category Alertmanager routes on, a summary and a description, and
// target alerts that carry the lead agency and wait before firing.
func TestAlertConventions(t *testing.T) {
	root := testenv.RepoRoot(t)
	runbooks := runbookAnchors(t, root)
	seen := map[string]bool{}
	for _, r := range alerts(t, filepath.Join(root, rulesFile)) {
		if seen[r.Alert] {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		seen[r.Alert] = true
		switch r.Labels["severity"] {
		case "critical", "warning":
		default:
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, r.Labels["severity"])
		}
		switch r.Labels["category"] {
		case "ops":
		case "target":
			if !strings.Contains(r.Expr, "qualitymon_target_status_code") {
				t.Errorf("%s: a target alert must read qualitymon_target_status_code, whose labels carry lead_agency", r.Alert)
			}
			if r.KeepFiringFor == "" {
				t.Errorf("%s: a target alert needs keep_firing_for so a lost scrape does not resolve it", r.Alert)
			}
		case "reporting": // to the bureau that owes the figures
			if r.Labels["recipient"] != "reporting_bureau" || !strings.Contains(r.Expr, "qualitymon_report_overdue") {
				t.Errorf("%s: a reporting alert carries recipient=reporting_bureau and the bureau of qualitymon_report_overdue", r.Alert)
			}
		default:
			t.Errorf("%s: category %q, want target, ops or reporting", r.Alert, r.Labels["category"])
		}
		if r.For == "" {
			t.Errorf("%s: no for:", r.Alert)
		}
		for _, m := range metricName.FindAllString(r.Expr, -1) {
			if strings.HasPrefix(m, "qualitymon_target_") && !compactSeries[m] || m == "qualitymon_indicator_last_observation_timestamp_seconds" {
				t.Errorf("%s: expr reads %s, which only the detailed metrics have (metrics.detailed_targets)", r.Alert, m)
			}
		}
		for _, a := range []string{"summary", "description", "runbook_url", "dashboard_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		// The runbook: the configured base URL (qualitymon_alerting_info)
		// plus an anchor that README.md has.
		anchor := "#" + strings.ToLower(r.Alert)
		if rb := r.Annotations["runbook_url"]; !strings.Contains(rb, `label "runbook_base_url"`) || !strings.HasSuffix(rb, anchor) {
			t.Errorf("%s: runbook_url %q, want the configured base URL and %s", r.Alert, rb, anchor)
		}
		if !runbooks[anchor] {
			t.Errorf("%s: %s has no heading \"### %s\" for the runbook_url anchor", r.Alert, readmeFile, r.Alert)
		}
		if d := r.Annotations["dashboard_url"]; !strings.Contains(d, `label "grafana_url"`) || !strings.Contains(d, "/d/qualitymon-") {
			t.Errorf("%s: dashboard_url %q, want a qualitymon dashboard under the configured Grafana URL", r.Alert, d)
		}
		// Lifecycle: nothing for settled targets, but the one notice that a
		// target settled as missed (within the configured window).
		switch r.Alert {
		case "TargetMissed", "HoldTargetBreached":
			for _, m := range []string{"time() - qualitymon_target_settled_timestamp_seconds", "qualitymon_alerting_settled_notify_window_seconds"} {
				if !strings.Contains(r.Expr, m) {
					t.Errorf("%s: expr lacks %s: it would fire for targets settled long ago", r.Alert, m)
				}
			}
		case "IndicatorDataStale", "TargetNoData":
			if !unlessSettled.MatchString(r.Expr) {
				t.Errorf("%s: expr must end with \"unless … qualitymon_target_settled_timestamp_seconds < time()\": no data alert for settled targets", r.Alert)
			}
			if r.Labels["recipient"] != "reporting_bureau" {
				t.Errorf("%s: recipient %q, want reporting_bureau (routed to the bureau that reports the figure)", r.Alert, r.Labels["recipient"])
			}
		}
	}
}

// unlessSettled is how a data alert's expr ends: never a settled target.
var unlessSettled = regexp.MustCompile(`unless on \(plan, target, indicator, region\)\s+qualitymon_target_settled_timestamp_seconds < time\(\)\s*$`)

// compactSeries are the per-target series qualitymon serves in both metrics
// modes (internal/exporter): the only ones an alert expression may read, so
// that every alert fires the same with metrics.detailed_targets off or on.
var compactSeries = map[string]bool{"qualitymon_target_status_code": true, "qualitymon_target_gap": true, "qualitymon_target_settled_timestamp_seconds": true}

// metricName finds the qualitymon metric names of an expression.
var metricName = regexp.MustCompile(`qualitymon_(?:target|indicator)_[a-z_]+`)

// runbookAnchors are the anchors GitHub makes of README.md's "### Name" headings.
func runbookAnchors(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, readmeFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(l, "### "); ok {
			out["#"+strings.ToLower(strings.TrimSpace(h))] = true
		}
	}
	return out
}

// durationKey matches the for: and keep_firing_for: lines of a rule file.
var durationKey = regexp.MustCompile(`(?m)^(\s+)(for|keep_firing_for):[ \t]*\S+[ \t]*$`)

// shortenDurations rewrites every for: to forDur and every keep_firing_for:
// to 0s, leaving the rules otherwise identical, for the end-to-end test. It
// returns how many for: lines it rewrote.
func shortenDurations(rules []byte, forDur string) ([]byte, int) {
	n := 0
	out := durationKey.ReplaceAllFunc(rules, func(m []byte) []byte {
		sub := durationKey.FindSubmatch(m)
		if string(sub[2]) == "for" {
			n++
			return []byte(string(sub[1]) + "for: " + forDur)
		}
		return []byte(string(sub[1]) + "keep_firing_for: 0s")
	})
	return out, n
}

func TestShortenDurations(t *testing.T) {
	root := testenv.RepoRoot(t)
	orig, err := os.ReadFile(filepath.Join(root, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	short, n := shortenDurations(orig, "1s")
	want := alerts(t, filepath.Join(root, rulesFile))
	if n != len(want) {
		t.Fatalf("rewrote %d for: lines, want one per alert (%d)", n, len(want))
	}
	path := filepath.Join(t.TempDir(), "short.rules.yml")
	if err := os.WriteFile(path, short, 0o644); err != nil {
		t.Fatal(err)
	}
	got := alerts(t, path)
	for i, r := range got {
		w := want[i]
		if r.For != "1s" || (w.KeepFiringFor != "" && r.KeepFiringFor != "0s") {
			t.Errorf("%s: for %q keep_firing_for %q after rewriting", r.Alert, r.For, r.KeepFiringFor)
		}
		if r.Alert != w.Alert || r.Expr != w.Expr || !maps.Equal(r.Labels, w.Labels) || !maps.Equal(r.Annotations, w.Annotations) {
			t.Errorf("%s: rewriting changed more than durations", w.Alert)
		}
	}
	run(t, root, tool(t, "promtool"), "check", "rules", path)
}
