//go:build linux

package dashcheck_test

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

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// prometheusBinary finds Debian's prometheus: $QUALITYMON_PROMETHEUS, then
// $PATH, then /usr/bin/prometheus.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	return testenv.Tool(t, "apt-get install prometheus, or set QUALITYMON_PROMETHEUS",
		os.Getenv("QUALITYMON_PROMETHEUS"), "prometheus", "/usr/bin/prometheus")
}

// prometheus is a running Prometheus with its data in a temporary directory.
type prometheus struct {
	*testenv.Process
	URL string
}

// startPrometheus scrapes target (host:port) as job "qualitymon" every
// second and evaluates ruleFiles every second.
func startPrometheus(t *testing.T, bin, target string, ruleFiles []string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"global": map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"scrape_configs": []any{map[string]any{
			"job_name": "qualitymon", "static_configs": []any{map[string]any{"targets": []string{target}}},
		}},
		"rule_files": ruleFiles,
	}
	b, _ := json.Marshal(cfg) // JSON is YAML
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	p := testenv.StartProcess(t, dir, "prometheus", nil, bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	srv := &prometheus{Process: p, URL: "http://" + addr}
	testenv.WaitFor(t, p, 60*time.Second, "prometheus /-/ready", func() (bool, string) {
		code, body := testenv.Get(srv.URL + "/-/ready")
		return code == 200, fmt.Sprint(code, " ", body)
	})
	return srv
}

// value runs an instant query and returns the first sample's value (-1
// when there is none).
func (p *prometheus) value(q string) (float64, string) {
	code, body := testenv.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(q))
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
