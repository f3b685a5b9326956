package testenv

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prometheus is a running Prometheus with its data in a temporary
// directory.
type Prometheus struct {
	*Process
	URL string
}

// PrometheusConfig is what a Prometheus of [StartPrometheus] scrapes,
// evaluates and where it sends alerts.
type PrometheusConfig struct {
	// Target (host:port) is scraped as job "qualitymon" every second.
	Target string
	// RuleFiles are evaluated every second.
	RuleFiles []string
	// Alertmanager (host:port), when set, is sent the alerts, resent every
	// second.
	Alertmanager string
}

// PrometheusBinary finds Debian's prometheus: $QUALITYMON_PROMETHEUS, then
// $PATH, then /usr/bin/prometheus ([Missing] when there is none).
func PrometheusBinary(tb testing.TB) string {
	tb.Helper()
	return Tool(tb, "apt-get install prometheus, or set QUALITYMON_PROMETHEUS",
		os.Getenv("QUALITYMON_PROMETHEUS"), "prometheus", "/usr/bin/prometheus")
}

// StartPrometheus runs Prometheus with cfg until the test ends and waits
// until it is ready.
func StartPrometheus(tb testing.TB, cfg PrometheusConfig) *Prometheus {
	tb.Helper()
	bin := PrometheusBinary(tb)
	dir := tb.TempDir()
	conf := map[string]any{
		"global": map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"scrape_configs": []any{map[string]any{
			"job_name": "qualitymon", "static_configs": []any{map[string]any{"targets": []string{cfg.Target}}},
		}},
		"rule_files": cfg.RuleFiles,
	}
	args := []string{"--log.level=warn"}
	if cfg.Alertmanager != "" {
		conf["alerting"] = map[string]any{"alertmanagers": []any{map[string]any{"static_configs": []any{map[string]any{"targets": []string{cfg.Alertmanager}}}}}}
		args = append(args, "--rules.alert.resend-delay=1s")
	}
	b, _ := json.Marshal(conf) // JSON is YAML
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	addr := FreeAddr(tb)
	p := StartProcess(tb, dir, "prometheus", nil, bin, append([]string{"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr}, args...)...)
	srv := &Prometheus{Process: p, URL: "http://" + addr}
	WaitFor(tb, p, 60*time.Second, "prometheus /-/ready", func() (bool, string) {
		code, body := Get(srv.URL + "/-/ready")
		return code == 200, fmt.Sprint(code, " ", body)
	})
	return srv
}

// Value runs an instant query and returns the first sample's value (-1
// when there is none) and what Prometheus answered.
func (p *Prometheus) Value(q string) (float64, string) {
	code, body := Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(q))
	if code != 200 {
		return -1, body
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Data.Result) == 0 {
		return -1, strings.TrimSpace(body)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, _ := strconv.ParseFloat(s, 64)
	return v, s
}
