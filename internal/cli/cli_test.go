package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return result{code, out.String(), errb.String()}
}

func TestTargetsJSON(t *testing.T) {
	r := run(t, nil, "targets", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	set := testenv.Plans(t)
	if len(got) != len(set.Targets("")) {
		t.Fatalf("%d targets, want every target of the plans (%d)", len(got), len(set.Targets("")))
	}
	untracked := 0
	for _, tg := range got {
		if tg["tracked"] == false {
			untracked++
			if tg["reason"] == "" || tg["quote"] == "" {
				t.Errorf("untracked %v without reason or quote", tg["id"])
			}
		}
	}
	if untracked == 0 {
		t.Error("no untracked commitment listed (Shandong 单项冠军)")
	}
	for _, k := range []string{"plan", "id", "indicator", "name_zh", "wording", "tracked", "region", "comparator", "value", "unit", "deadline", "modality", "lead_agencies", "quote"} {
		for _, tg := range got {
			if tg["tracked"] == false {
				continue
			}
			if _, ok := tg[k]; !ok {
				t.Fatalf("target %v/%v lacks %q", tg["plan"], tg["id"], k)
			}
		}
	}
	r = run(t, nil, "targets", "--plan", "nope-2018")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown plan "nope-2018"`) {
		t.Fatalf("unknown plan: %d %q", r.code, r.stderr)
	}
}

func TestCheckTargets(t *testing.T) {
	r := run(t, nil, "check", "targets")
	if r.code != 0 || !regexp.MustCompile(`ok: \d+ plans, \d+ targets \(\d+ tracked\)`).MatchString(r.stdout) || !strings.Contains(r.stdout, "(2 not trackable)") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "check", "targets", "--targets-dir", "testdata/badtargets")
	if r.code != 1 || !strings.Contains(r.stderr, `test-2018.yaml: target "t1": value: 985 is outside the valid range 0..100 percent`) {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

func TestToken(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"token", "hash"}, Env{Stdin: strings.NewReader("qingdao-secret\n"), Stdout: &out, Stderr: &errb})
	if code != 0 || strings.TrimSpace(out.String()) != upload.HashToken("qingdao-secret") || len(strings.TrimSpace(out.String())) != 64 {
		t.Fatalf("token hash: %d %q %q", code, out.String(), errb.String())
	}
	r := run(t, nil, "token", "new")
	if r.code != 0 || !strings.Contains(r.stdout, "token_sha256: ") {
		t.Fatalf("token new: %d %s", r.code, r.stdout)
	}
}

func TestCheckConfig(t *testing.T) {
	r := run(t, nil, "check", "config", "-c", "../../qualitymon.yaml")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r = run(t, nil, "check", "config", "-c", "../config/testdata/schedule.bad.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "evaluation.schedule") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// Secrets never appear: a password in the InfluxDB URL, a token pasted where its hash belongs.
	secret := write(t, "secret.yaml", "influx:\n  url: http://admin:hunter2pass@127.0.0.1:8086\n")
	r = run(t, nil, "check", "config", "-c", secret)
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "hunter2pass") || !strings.Contains(r.stdout, "http://admin:xxxxx@127.0.0.1:8086") {
		t.Fatalf("check config shows the password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	pasted := write(t, "pasted.yaml", "uploads:\n  tokens:\n    - {bureau: x, token_sha256: tok-IWZ8kq3Vd0, regions: [\"370200\"]}\n")
	r = run(t, nil, "check", "config", "-c", pasted)
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, "tok-IWZ8kq3Vd0") || !strings.Contains(r.stderr, "not shown") {
		t.Fatalf("check config echoes a pasted token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// What serve refuses, check config refuses: a token for a region that does not exist.
	bad := write(t, "token-region.yaml", fmt.Sprintf("uploads:\n  tokens:\n    - {bureau: 某市统计局, token_sha256: %s, regions: [\"379900\"]}\n", upload.HashToken("x")))
	r = run(t, nil, "check", "config", "-c", bad)
	if r.code != 1 || !strings.Contains(r.stderr, `uploads.tokens[0].regions: unknown region "379900"`) {
		t.Fatalf("check config with an unknown token region: exit %d: %s", r.code, r.stderr)
	}
}

func influxEnv(t *testing.T) (map[string]string, *store.Store) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	env := map[string]string{"QUALITYMON_INFLUX_URL": srv.URL, "QUALITYMON_INFLUX_BUCKET": bucket, "QUALITYMON_INFLUX_ORG": srv.Org}
	st := storetest.On(t, srv, bucket)
	return env, st
}

// evaluationCount is how many evaluations the shipped plans give: one per
// tracked target and region (internal/plan pins the figure per plan).
func evaluationCount(t *testing.T) int {
	t.Helper()
	set := testenv.Plans(t)
	n := 0
	for _, tg := range set.Tracked("") {
		n += len(tg.Units)
	}
	return n
}

func count(t *testing.T, st *store.Store) int {
	rows, err := st.Values(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func write(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportAndStatus(t *testing.T) {
	env, st := influxEnv(t)
	bad := write(t, "bad.csv", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\nfood_sampling_pass_rate,370000,2020,985\n")
	r := run(t, env, "import", bad)
	if r.code != 1 || !strings.Contains(r.stderr, bad+":3:value: 985 is outside the valid range") {
		t.Fatalf("bad import: exit %d\n%s", r.code, r.stderr)
	}
	if n := count(t, st); n != 0 {
		t.Fatalf("a rejected file wrote %d observations", n)
	}
	sample, err := os.ReadFile("../../sample/observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(string(sample), "\n") - 1 // minus the header
	r = run(t, env, "import", "../../sample/observations.csv")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("%d rows accepted (%d new", rows, rows)) {
		t.Fatalf("sample import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "import", "../../sample/observations.csv")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("(0 new, 0 revised, %d unchanged)", rows)) {
		t.Fatalf("re-import: %s%s", r.stdout, r.stderr)
	}
	r = run(t, env, "status", "--format", "json")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	var evals []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &evals); err != nil {
		t.Fatal(err)
	}
	if want := evaluationCount(t); len(evals) != want {
		t.Fatalf("%d evaluations, want %d (every tracked target × region)", len(evals), want)
	}
	for _, k := range []string{"plan", "target", "indicator", "region", "actual", "period", "target_value", "gap", "status", "stale"} {
		if _, ok := evals[0][k]; !ok {
			t.Fatalf("evaluation lacks %q: %v", k, evals[0])
		}
	}
	// A revision changes the judgement: Shandong's food sampling pass rate.
	fix := write(t, "fix.csv", "指标,地区,时期,数值\n食品安全抽检合格率,山东省,2020,90.5\n")
	if r := run(t, env, "import", fix); r.code != 0 || !strings.Contains(r.stdout, "1 revised") && !strings.Contains(r.stdout, "1 new") {
		t.Fatalf("fix: %s%s", r.stdout, r.stderr)
	}
	r = run(t, env, "status", "--plan", "shandong-2018", "--format", "json")
	evals = nil
	json.Unmarshal([]byte(r.stdout), &evals)
	found := false
	for _, e := range evals {
		if e["target"] == "food-sampling-pass-rate" {
			found = true
			if e["status"] != "missed" || e["actual"].(float64) != 90.5 || e["gap"].(float64) != 5.5 {
				t.Fatalf("after revision: %v", e)
			}
		}
	}
	if !found {
		t.Fatal("shandong food-sampling-pass-rate not evaluated")
	}
	r = run(t, env, "status", "--plan", "shandong-2018", "--at", "2019-12-31")
	if r.code != 0 || !strings.Contains(r.stdout, "截至 2019-12-31 共") {
		t.Fatalf("status --at: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "status", "--plan", "shandong-2018", "--format", "csv", "--lang", "en")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "\uFEFFPLAN,TARGET,REGION,STATUS,") || !strings.Contains(r.stdout, ",missed,90.5,") {
		t.Fatalf("status --format csv: %d %.300q %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "status", "--at", "31/12/2019")
	if r.code != 1 || !strings.Contains(r.stderr, "neither a date (2021-03-31) nor an RFC 3339 timestamp") {
		t.Fatalf("bad --at: %d %s", r.code, r.stderr)
	}
}

// waitFor polls cond up to a bound; it is not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, nil, 30*time.Second, what, func() (bool, string) { return cond(), "" })
}

func TestServe(t *testing.T) {
	env, st := influxEnv(t)
	if r := run(t, env, "import", "../../sample/observations.csv"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	addr := testenv.FreeAddr(t)
	dir := t.TempDir()
	cfg := write(t, "qualitymon.yaml", serveConfig(dir, fmt.Sprintf(`listen: %s
evaluation: {schedule: "@every 1s"}
metrics: {detailed_targets: true}
collectors:
  - name: drop
    type: filedrop
    schedule: "@every 1s"
    options: {dir: %s/drop, min_age: 0s}
`, addr, dir), "qingdao-secret"))
	// A GBK-encoded file in the 国家统计局 export layout, dropped before serve starts.
	if err := os.MkdirAll(filepath.Join(dir, "drop"), 0o755); err != nil {
		t.Fatal(err)
	}
	nbs := testenv.GBK(t, "数据库：年度数据\n指标：食品安全抽检合格率(%)\n时间：最近2年\n地区,2020年,2019年\n甘肃省,94.6,93.8\n注：样例数据\n数据来源：测试\n")
	if err := os.WriteFile(filepath.Join(dir, "drop", "gansu.csv"), nbs, 0o644); err != nil {
		t.Fatal(err)
	}
	stop := serveMain(t, env, cfg)
	base := "http://" + addr
	waitFor(t, "readyz", func() bool { c, _ := testenv.Get(base + "/readyz"); return c == 200 })
	if c, _ := testenv.Get(base + "/healthz"); c != 200 {
		t.Fatalf("healthz %d", c)
	}
	const series = `qualitymon_target_status{indicator="food_sampling_pass_rate",plan="shandong-2018",region="370000",status="missed",target="food-sampling-pass-rate"}`
	var metrics string
	waitFor(t, "first evaluation", func() bool {
		_, metrics = testenv.Get(base + "/metrics")
		return strings.Contains(metrics, "qualitymon_target_info{")
	})
	for _, want := range []string{
		`qualitymon_target_info{comparator=">=",indicator="food_sampling_pass_rate",lead_agency=`,
		`qualitymon_target_value{indicator="food_sampling_pass_rate",plan="shandong-2018",region="370000",target="food-sampling-pass-rate"} 96`,
		`qualitymon_target_deadline_timestamp_seconds{indicator="food_sampling_pass_rate",plan="shandong-2018",region="370000",target="food-sampling-pass-rate"} 1.6094592e+09`,
		`qualitymon_indicator_last_observation_timestamp_seconds{indicator="food_sampling_pass_rate",region="370000"}`,
		`qualitymon_indicator_stale_after_seconds{indicator="food_sampling_pass_rate"} 5.49504e+07`,
		fmt.Sprintf("qualitymon_evaluation_targets %d\n", evaluationCount(t)),
		"\nqualitymon_store_up 1\n",
		`qualitymon_build_info{goversion="go`,
		`qualitymon_evaluation_runs_total{result="success"} `,
		`qualitymon_alerting_info{grafana_url="http://127.0.0.1:3000",runbook_base_url="https://github.com/qualitymon/qualitymon/blob/main/dashboards/alerts/README.md"} 1`,
		"\nqualitymon_alerting_settled_notify_window_seconds 43200\n",
		`qualitymon_plan_info{name_zh="关于开展质量提升行动的实施方案",plan="shandong-2018",region="370000",region_name="山东省",title="山东省《关于开展质量提升行动的实施方案》"} 1`,
		"\nqualitymon_evaluation_next_run_timestamp_seconds 1.",
		`qualitymon_target_last_observation_timestamp_seconds{indicator="food_sampling_pass_rate",plan="shandong-2018",region="370000",target="food-sampling-pass-rate"} 1.6094592e+09`,
		`qualitymon_target_status_code{actual=`, // the compact series too
		`qualitymon_targets{plan="shandong-2018",region="370000",status="achieved"} `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Import a figure that misses the target; the scheduled re-evaluation shows it.
	beforeFix := time.Now().UTC().Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond) // reported_at has one-second resolution
	fix := write(t, "fix.csv", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,90\n")
	if r := run(t, env, "import", fix); r.code != 0 {
		t.Fatal(r.stderr)
	}
	waitFor(t, "missed status on /metrics", func() bool { _, m := testenv.Get(base + "/metrics"); return strings.Contains(m, series+" 1") })
	// The file drop collector ran on its schedule: the file is done and its figure judged.
	const gs = `qualitymon_target_actual{indicator="food_sampling_pass_rate",plan="gansu-2018",region="620000",target="food-sampling-pass-rate"} 94.6`
	waitFor(t, "dropped file's figure on /metrics", func() bool { _, m := testenv.Get(base + "/metrics"); return strings.Contains(m, gs+"\n") })
	// The runner moves the file and counts the samples once the spool accepted them.
	waitFor(t, "dropped file moved to done/", func() bool {
		_, err := os.Stat(filepath.Join(dir, "drop", "done", "gansu.csv"))
		return err == nil
	})
	waitFor(t, "collector sample count", func() bool {
		_, m := testenv.Get(base + "/metrics")
		return strings.Contains(m, `qualitymon_collector_samples_total{collector="drop"} 2`+"\n")
	})
	// A city bureau uploads through the server: accepted, spooled, stored, re-evaluated.
	up := write(t, "qingdao.csv", "指标,地区,时期,数值\n食品安全抽检合格率,青岛市,2025,97.0\n")
	r := run(t, env, "upload", "--server", base, "--token", "qingdao-secret", up)
	if r.code != 0 || !strings.Contains(r.stdout, "accepted") {
		t.Fatalf("upload: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	const qd = `qualitymon_target_actual{indicator="food_sampling_pass_rate",plan="qingdao-2023",region="370200",target="food-sampling-pass-rate"} 97`
	waitFor(t, "uploaded figure on /metrics", func() bool { _, m := testenv.Get(base + "/metrics"); return strings.Contains(m, qd+"\n") })
	// The same bureau may not report for its province.
	out := write(t, "shandong.csv", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,99\n")
	r = run(t, env, "upload", "--server", base, "--token", "qingdao-secret", out)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "370000") {
		t.Fatalf("out-of-scope upload: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The JSON API reproduces the scorecard as known before the fix (?known_at=).
	code, body := testenv.Get(base + "/api/v1/status?plan=shandong-2018&known_at=" + beforeFix)
	if code != 200 || !strings.Contains(body, `"known_at":`) {
		t.Fatalf("/api/v1/status?known_at: %d %.300s", code, body)
	}
	var vintage struct {
		Evaluations []map[string]any `json:"evaluations"`
	}
	json.Unmarshal([]byte(body), &vintage)
	for _, e := range vintage.Evaluations {
		if e["target"] == "food-sampling-pass-rate" && e["actual"] == 90.0 {
			t.Errorf("known_at before the fix shows the fixed figure: %v", e)
		}
	}
	if code, body := testenv.Get(base + "/api/v1/status?known_at=last-week"); code != 400 || !strings.Contains(body, "known_at") {
		t.Errorf("bad known_at: %d %s", code, body)
	}
	code, body = testenv.Get(base + "/api/v1/status?plan=qingdao-2023")
	if code != 200 || !strings.Contains(body, `"plan":"qingdao-2023"`) || strings.Contains(body, `"plan":"shandong-2018"`) {
		t.Fatalf("/api/v1/status: %d %.300s", code, body)
	}
	// Evaluation history lands in InfluxDB.
	rows, err := st.Query(context.Background(), fmt.Sprintf(`from(bucket: %q) |> range(start: -1h) |> filter(fn: (r) => r._measurement == "evaluation" and r._field == "status_code") |> count()`, st.Bucket()))
	if err != nil || len(rows) == 0 {
		t.Fatalf("no evaluation history: %v %v", rows, err)
	}
	stop()
}

// serveConfig is the config of a serve under test whose files live in dir:
// head (listen, evaluation, collectors …), then its spool and its uploads
// with one bureau, 青岛市统计局, reporting for 370200 with token.
func serveConfig(dir, head, token string) string {
	return head + fmt.Sprintf(`spool_dir: %[1]s/spool
uploads:
  archive_dir: %[1]s/uploads
  audit_log: %[1]s/uploads/audit.jsonl
  review_dir: %[1]s/review
  tokens:
    - {bureau: 青岛市统计局, token_sha256: %[2]s, regions: ["370200"]}
`, dir, upload.HashToken(token))
}

// serveMain runs `qualitymon serve -c cfg` in the background. stop (also
// run when the test ends) cancels it and fails the test unless it exits
// cleanly within 30 s.
func serveMain(t *testing.T, env map[string]string, cfg string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Main([]string{"serve", "-c", cfg}, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Ctx: ctx})
		done <- result{code, out.String(), errb.String()}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case r := <-done:
				if r.code != 0 {
					t.Errorf("serve exited %d: %s", r.code, r.stderr)
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
