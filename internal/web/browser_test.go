package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// Chromium is Debian's chromium; playwright-core drives it (no browser
// download is possible here). scripts/test.sh installs both.
const Chromium = "/usr/bin/chromium"

// TestBrowser runs e2e/pages.mjs in headless Chromium against qualitymon
// serve with the SAMPLE dataset (and one revision) on the real InfluxDB:
// every page without a console error or a request off the machine, charts,
// links, filters, the date pickers, exports and the report printed to an A4
// PDF. Screenshots, the PDF and the page timings are kept in e2e/out
// (git-ignored). Under CI=true a missing or unstartable browser fails.
func TestBrowser(t *testing.T) {
	b := browserSetup(t)
	revision := filepath.Join(b.dir, "revision.csv")
	// Gansu's fourteen prefectures report their good-air days for 2018; for
	// 2019 甘南藏族自治州 (623000) has not: the coverage table must name it.
	rows := "indicator,region,period,value,source\nfood_sampling_pass_rate,370000,2019,97.9,山东省市场监管局(修订)\n"
	for i, code := range []string{"620100", "620200", "620300", "620400", "620500", "620600", "620700", "620800", "620900", "621000", "621100", "621200", "622900", "623000"} {
		for _, y := range []int{2018, 2019} {
			if y == 2019 && code == "623000" {
				continue
			}
			rows += fmt.Sprintf("good_air_quality_days_share,%s,%d,%d,甘肃省生态环境厅\n", code, y, 80+i%10)
		}
	}
	os.WriteFile(revision, []byte(rows), 0o644)
	for _, f := range []string{filepath.Join(b.root, "sample", "observations.csv"), revision} {
		b.qualitymon(t, "import", f)
	}
	base, p := b.serve(t)

	os.RemoveAll(b.out)
	b.run(t, "pages.mjs", base, p)
	shots, _ := filepath.Glob(filepath.Join(b.out, "*.png"))
	if len(shots) < 10 {
		t.Errorf("%d screenshots in %s, want every page", len(shots), b.out)
	}
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return fmt.Sprintf("%.200s", s)
}

// browser is what every browser test needs: node, Chromium and
// playwright-core, the e2e directory and its out directory for screenshots,
// a qualitymon binary in a directory of its own, and env, which gives
// qualitymon a fresh bucket of the real InfluxDB.
type browser struct {
	node, root, e2e, out, dir, qm string
	env                           []string
}

// browserSetup finds node, Chromium and playwright-core (failing under
// CI=true when missing), builds qualitymon and makes a fresh bucket.
func browserSetup(t *testing.T) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	b := &browser{node: testenv.Tool(t, "apt-get install nodejs npm", "node")}
	if _, err := os.Stat(Chromium); err != nil {
		testenv.Missing(t, Chromium+" not found (apt-get install chromium; scripts/test.sh does)")
	}
	b.root = testenv.RepoRoot(t)
	b.e2e = filepath.Join(b.root, "internal", "web", "e2e")
	b.out = filepath.Join(b.e2e, "out")
	if _, err := os.Stat(filepath.Join(b.e2e, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "playwright-core not installed (cd internal/web/e2e && npm ci; scripts/test.sh does)")
	}
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	b.dir = t.TempDir()
	b.qm = testenv.BuildQualitymon(t, b.dir)
	b.env = []string{"QUALITYMON_INFLUX_URL=" + srv.URL, "QUALITYMON_INFLUX_BUCKET=" + bucket, "QUALITYMON_INFLUX_ORG=" + srv.Org, "QUALITYMON_INFLUX_TOKEN=" + srv.Token}
	return b
}

// qualitymon runs qualitymon with args, failing the test when it fails.
func (b *browser) qualitymon(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(b.qm, args...)
	cmd.Dir, cmd.Env = b.dir, append(os.Environ(), b.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qualitymon %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// serve starts qualitymon serve with args on a free address and waits until
// it is ready; it returns the base URL and the process.
func (b *browser) serve(t *testing.T, args ...string) (string, *testenv.Process) {
	t.Helper()
	addr := testenv.FreeAddr(t)
	p := testenv.StartProcess(t, b.dir, "qualitymon-serve", b.env, b.qm, append(append([]string{"serve"}, args...), "--listen", addr)...)
	testenv.WaitHTTP(t, p, "http://"+addr+"/readyz", 60*time.Second)
	return "http://" + addr, p
}

// run runs the e2e script against base (served by p) in Chromium, with env
// added to its environment, and logs its output. Exit code 3 means Chromium
// could not start (testenv.Missing); any other failure fails the test with
// the server's log, and the script must report no failure.
func (b *browser) run(t *testing.T, script, base string, p *testenv.Process, env ...string) {
	t.Helper()
	cmd := exec.Command(b.node, script)
	cmd.Dir = b.e2e
	cmd.Env = append(append(os.Environ(), "BASE_URL="+base, "OUT_DIR="+b.out, "CHROMIUM="+Chromium), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		testenv.Missing(t, "Chromium could not start: "+firstLine(string(out), "BROWSER-START-FAILED"))
	case err != nil:
		t.Fatalf("browser test failed (%v); qualitymon's log:\n%s", err, p.Tail(40))
	}
	if !strings.Contains(string(out), "PASS: 0 failure(s)") {
		t.Error("the browser test did not report success")
	}
}

// TestBrowserBureau runs e2e/bureau.mjs in headless Chromium against
// qualitymon serve with the SAMPLE data and three upload tokens (青岛, 烟台
// with review: required, 山东省统计局 reviewing): sign in, the grid, the
// template round trip, a check with cell errors, submit, a scope refusal, a
// held upload approved and then in the scorecard, a return with a comment,
// sign out, a forged POST refused, wrong tokens slowed down. Screenshots in
// e2e/out (b*.png). Under CI=true a missing or unstartable browser fails.
func TestBrowserBureau(t *testing.T) {
	b := browserSetup(t)
	dir := b.dir
	b.qualitymon(t, "import", filepath.Join(b.root, "sample", "observations.csv"))
	tokens := map[string]string{"QD_TOKEN": "qd-" + fmt.Sprint(time.Now().UnixNano()), "YT_TOKEN": "yt-token-e2e", "REVIEW_TOKEN": "sd-review-e2e"}
	cfg := fmt.Sprintf(`spool_dir: %[1]s/spool
uploads:
  archive_dir: %[1]s/uploads
  audit_log: %[1]s/uploads/audit.jsonl
  review_dir: %[1]s/review
  tokens:
    - bureau: 青岛市统计局
      token_sha256: %[2]s
      regions: ["370200"]
      contact: 综合科 0532-00000000
    - bureau: 烟台市统计局
      token_sha256: %[3]s
      regions: ["370600"]
      review: required
    - bureau: 山东省统计局
      token_sha256: %[4]s
      regions: ["370000", "370200", "370600"]
      role: reviewer
`, dir, upload.HashToken(tokens["QD_TOKEN"]), upload.HashToken(tokens["YT_TOKEN"]), upload.HashToken(tokens["REVIEW_TOKEN"]))
	cfgPath := filepath.Join(dir, "qualitymon.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, p := b.serve(t, "-c", cfgPath)

	os.MkdirAll(b.out, 0o755)
	olds, _ := filepath.Glob(filepath.Join(b.out, "b*.png"))
	for _, f := range olds {
		os.Remove(f)
	}
	var env []string
	for k, v := range tokens {
		env = append(env, k+"="+v)
	}
	b.run(t, "bureau.mjs", base, p, env...)
	audit, _ := os.ReadFile(filepath.Join(dir, "review", "audit.jsonl"))
	for _, want := range []string{`"action":"hold"`, `"action":"approve"`, `"action":"return"`, `"by":"山东省统计局"`, `"remote_addr":"127.0.0.1`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("review audit log lacks %s:\n%s", want, audit)
		}
	}
}

// TestBrowserChanges runs e2e/changes.mjs in headless Chromium at 1440 and
// 390 px against qualitymon serve with the SAMPLE data (imported) and a
// revision with a note (备注) uploaded by a bureau: 变化 linked from the
// navigation, the revision with its old and new values, difference, source
// and note, pages of the new figures, the date form, no sideways scrolling
// at 390 px. Screenshots in e2e/out (c*.png). Under CI=true a missing or
// unstartable browser fails.
func TestBrowserChanges(t *testing.T) {
	b := browserSetup(t)
	b.qualitymon(t, "import", filepath.Join(b.root, "sample", "observations.csv"))
	const token = "sd-changes-e2e-token"
	cfg := fmt.Sprintf("spool_dir: %[1]s/spool\nuploads:\n  archive_dir: %[1]s/uploads\n  audit_log: %[1]s/uploads/audit.jsonl\n  review_dir: %[1]s/review\n"+
		"  tokens:\n    - bureau: 山东省统计局\n      token_sha256: %[2]s\n      regions: [\"370000\"]\n", b.dir, upload.HashToken(token))
	cfgPath := filepath.Join(b.dir, "qualitymon.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, p := b.serve(t, "-c", cfgPath)
	// The revision is uploaded by the bureau: the receipt names it.
	req, _ := http.NewRequest("POST", base+upload.Path+"?filename=revision.csv",
		strings.NewReader("indicator,region,period,value,source,note\nfood_sampling_pass_rate,370000,2019,97.9,山东省市场监管局(修订),按年鉴核定数修订\n"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", upload.TypeCSV)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"revised": 1`) {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	// The spool writes it to InfluxDB in the background: wait until 变化 lists it.
	testenv.WaitFor(t, p, 30*time.Second, "the revision on /changes", func() (bool, string) {
		code, page := testenv.Get(base + "/changes")
		return code == 200 && strings.Contains(page, "按年鉴核定数修订"), fmt.Sprint(code)
	})
	os.MkdirAll(b.out, 0o755)
	olds, _ := filepath.Glob(filepath.Join(b.out, "c*.png"))
	for _, f := range olds {
		os.Remove(f)
	}
	b.run(t, "changes.mjs", base, p)
}
