package alerttest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestEndToEnd runs the whole alert path with real parts: InfluxDB 1.8,
// `qualitymon serve`, Prometheus with the repository's rules (for: cut to a
// second, keep_firing_for to none), Alertmanager with the repository's
// routing (receivers pointed at a test webhook). It imports figures that
// miss two targets, waits for the alerts at the receivers routing chose, then
// imports corrected figures and waits for the resolved notifications.
func TestEndToEnd(t *testing.T) {
	if testing.Short() && !testenv.Required() {
		t.Skip("end-to-end test skipped with -short")
	}
	testenv.PrometheusBinary(t)
	tool(t, "prometheus-alertmanager", "alertmanager")
	root := testenv.RepoRoot(t)
	dir := t.TempDir()
	influx := testenv.StartInflux(t)

	qm := testenv.BuildQualitymon(t, dir)
	qmAddr := testenv.FreeAddr(t)
	cfg := filepath.Join(dir, "qualitymon.yaml")
	writeFile(t, cfg, fmt.Sprintf(`influx: {url: %q, token: "", org: %q, bucket: %q}
listen: %s
evaluation: {schedule: "@every 2s"}
spool_dir: %s
# The 2020 targets below settled in 2021: a ten-year notify window keeps
# their alerts (and resolutions) within it.
alerting:
  settled_notify_window: 3650d
  runbook_base_url: https://runbooks.test/qualitymon
  grafana_url: https://grafana.test
`, influx.URL, influx.Org, influx.Bucket, qmAddr, filepath.Join(dir, "spool")))
	serve := testenv.StartProcess(t, dir, "qualitymon-serve", influx.Env(), qm, "serve", "--config", cfg)
	testenv.WaitHTTP(t, serve, "http://"+qmAddr+"/metrics", 30*time.Second)

	hook := newWebhook(t)
	am, amURL := startAlertmanager(t, dir, alertmanagerConfig(t, root, hook.base()))

	rules, err := os.ReadFile(filepath.Join(root, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	short, _ := shortenDurations(rules, "1s")
	writeFile(t, filepath.Join(dir, "qualitymon.rules.yml"), string(short))
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Target: qmAddr, Alertmanager: strings.TrimPrefix(amURL, "http://"),
		RuleFiles: []string{filepath.Join(dir, "qualitymon.rules.yml")}})

	diag := func() string {
		var b strings.Builder
		b.WriteString("\n--- Prometheus /api/v1/alerts ---\n")
		b.WriteString(httpGet(prom.URL + "/api/v1/alerts"))
		for _, q := range []string{`up{job="qualitymon"}`, `qualitymon_target_status_code{target="food-sampling-pass-rate",region=~"370000|460000"}`} {
			fmt.Fprintf(&b, "\n--- Prometheus %s ---\n%s", q, httpGet(prom.URL+"/api/v1/query?query="+url.QueryEscape(q)))
		}
		b.WriteString("\n--- Alertmanager /api/v2/alerts ---\n")
		b.WriteString(httpGet(amURL + "/api/v2/alerts"))
		for _, p := range []*testenv.Process{serve, prom.Process, am} {
			b.WriteString("\n" + p.Tail(20))
		}
		return b.String()
	}

	// 2020 figures: Shandong's food sampling pass rate 90 against ">= 96 by
	// 2020" (no lead agency named); Hainan's 90 against "held at >= 97 every
	// year to 2020" (lead agency 省食品药品监管局). Evaluated now (after 2020):
	// missed, and the hold broken.
	importCSV(t, qm, cfg, dir, "missed.csv", influx.Env(), `indicator,region,period,value
food_sampling_pass_rate,370000,2020,90
food_sampling_pass_rate,460000,2020,90
`)
	shandong := func(status string) func(webhookAlert) bool {
		return func(a webhookAlert) bool {
			return a.Status == status && a.Labels["alertname"] == "TargetMissed" &&
				a.Labels["plan"] == "shandong-2018" && a.Labels["target"] == "food-sampling-pass-rate" && a.Labels["region"] == "370000"
		}
	}
	hainan := func(status string) func(webhookAlert) bool {
		return func(a webhookAlert) bool {
			return a.Status == status && a.Labels["alertname"] == "HoldTargetBreached" &&
				a.Labels["plan"] == "hainan-2018" && a.Labels["target"] == "food-sampling-pass-rate" && a.Labels["region"] == "460000"
		}
	}
	const wait = 60 * time.Second
	_, a := hook.wait(t, wait, "firing TargetMissed for shandong-2018/food-sampling-pass-rate", "/default", shandong("firing"), diag)
	wantLabels(t, a, map[string]string{"plan": "shandong-2018", "target": "food-sampling-pass-rate", "region": "370000",
		"severity": "critical", "category": "target", "lead_agency": "", "indicator": "food_sampling_pass_rate",
		"name_zh": "食品安全抽检合格率", "region_name": "山东省", "unit": "percent"})
	if a.Annotations["runbook_url"] != "https://runbooks.test/qualitymon#targetmissed" ||
		a.Annotations["dashboard_url"] != "https://grafana.test/d/qualitymon-indicator/?var-indicator=food_sampling_pass_rate&var-region=370000&var-target=food-sampling-pass-rate" {
		t.Errorf("links from the config: runbook_url %q dashboard_url %q", a.Annotations["runbook_url"], a.Annotations["dashboard_url"])
	}
	wantText(t, a.Annotations["description"], "山东省「食品安全抽检合格率」未达到目标:实际 90%,目标 ≥96%,差距 6%,期限 2020 年底。牵头单位:未明确。",
		"missed the target for Food safety sampling pass rate: actual 90%, target ≥ 96%, gap 6%, deadline end of 2020.")

	_, a = hook.wait(t, wait, "firing HoldTargetBreached for hainan-2018/food-sampling-pass-rate", "/hainan-food-drug", hainan("firing"), diag)
	wantLabels(t, a, map[string]string{"plan": "hainan-2018", "target": "food-sampling-pass-rate", "region": "460000",
		"severity": "critical", "category": "target", "lead_agency": "省食品药品监管局", "region_name": "海南省"})
	wantText(t, a.Annotations["description"], "海南省「食品安全抽检合格率」应每年稳定在 ≥97%(至 2020 年底),但已有年份未达到:最大差距 7%,最近实际 90%。牵头单位:省食品药品监管局。")

	// Revised figures meet both targets.
	importCSV(t, qm, cfg, dir, "corrected.csv", influx.Env(), `indicator,region,period,value
food_sampling_pass_rate,370000,2020,97
food_sampling_pass_rate,460000,2020,97
`)
	hook.wait(t, wait, "resolved TargetMissed for shandong-2018/food-sampling-pass-rate", "/default", shandong("resolved"), diag)
	hook.wait(t, wait, "resolved HoldTargetBreached for hainan-2018/food-sampling-pass-rate", "/hainan-food-drug", hainan("resolved"), diag)

	// Routing: the Shandong alert reached no agency, the Hainan one no one else.
	byPath := map[string]int{}
	for _, n := range hook.all() {
		byPath[n.Path+" "+n.Msg.GroupLabels["alertname"]+" "+n.Msg.Status]++
		for _, a := range n.Msg.Alerts {
			if shandong(a.Status)(a) && n.Path != "/default" || hainan(a.Status)(a) && n.Path != "/hainan-food-drug" {
				t.Errorf("%s %s for %s delivered to %s", a.Status, a.Labels["alertname"], a.Labels["plan"], n.Path)
			}
		}
	}
	t.Logf("notifications by receiver, alert and status: %v", byPath)

	// Every rule evaluated and every annotation rendered against the real
	// series (the no-data alerts fired for every other target meanwhile).
	log, _ := os.ReadFile(prom.Log)
	for _, bad := range []string{"Expanding alert template failed", "Evaluating rule failed"} {
		if strings.Contains(string(log), bad) {
			t.Errorf("Prometheus logged %q\n%s", bad, prom.Tail(30))
		}
	}
}

func importCSV(t *testing.T, qm, cfg, dir, name string, env []string, csv string) {
	t.Helper()
	path := filepath.Join(dir, name)
	writeFile(t, path, csv)
	cmd := exec.Command(qm, "import", "--config", cfg, path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qualitymon import %s: %v\n%s", name, err, out)
	}
	t.Logf("qualitymon import %s: %s", name, strings.TrimSpace(string(out)))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// httpGet is the body at u (at most 16 KiB) for a diagnostic, JSON
// indented, or why there is none.
func httpGet(u string) string {
	_, b := testenv.Get(u)
	b = b[:min(len(b), 16<<10)]
	var v any
	if json.Unmarshal([]byte(b), &v) == nil {
		if pretty, err := json.MarshalIndent(v, "", " "); err == nil && len(pretty) < 16<<10 {
			return string(pretty)
		}
	}
	return b
}

// wantLabels checks labels; an empty value means the label is absent.
func wantLabels(t *testing.T, a webhookAlert, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := a.Labels[k]; got != v {
			t.Errorf("%s: label %s = %q, want %q (labels %v)", a.Labels["alertname"], k, got, v, a.Labels)
		}
	}
}

func wantText(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("annotation lacks %q:\n%s", p, text)
		}
	}
}
