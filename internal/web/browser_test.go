package web

import (
	"errors"
	"fmt"
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
	node, root, e2e, dir, qm, env := browserSetup(t)
	revision := filepath.Join(dir, "revision.csv")
	os.WriteFile(revision, []byte("indicator,region,period,value,source\nfood_sampling_pass_rate,370000,2019,97.9,山东省市场监管局(修订)\n"), 0o644)
	for _, f := range []string{filepath.Join(root, "sample", "observations.csv"), revision} {
		cmd := exec.Command(qm, "import", f)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("qualitymon import %s: %v\n%s", f, err, out)
		}
	}
	addr := testenv.FreeAddr(t)
	p := testenv.StartProcess(t, dir, "qualitymon-serve", env, qm, "serve", "--listen", addr)
	testenv.WaitHTTP(t, p, "http://"+addr+"/readyz", 60*time.Second)

	out := filepath.Join(e2e, "out")
	os.RemoveAll(out)
	cmd := exec.Command(node, "pages.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "BASE_URL=http://"+addr, "OUT_DIR="+out, "CHROMIUM="+Chromium)
	b, err := cmd.CombinedOutput()
	t.Logf("node pages.mjs:\n%s", b)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		testenv.Missing(t, "Chromium could not start: "+firstLine(string(b), "BROWSER-START-FAILED"))
	case err != nil:
		t.Fatalf("browser test failed (%v); qualitymon's log:\n%s", err, p.Tail(30))
	}
	shots, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(shots) < 10 {
		t.Errorf("%d screenshots in %s, want every page", len(shots), out)
	}
	if !strings.Contains(string(b), "PASS: 0 failure(s)") {
		t.Error("the browser test did not report success")
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

// browserSetup is what every browser test needs: node, Chromium and
// playwright-core (failing under CI=true when missing), a qualitymon binary
// and a fresh bucket of the real InfluxDB, given to qualitymon through env.
func browserSetup(t *testing.T) (node, root, e2e, dir, qm string, env []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	node = testenv.Tool(t, "apt-get install nodejs npm", "node")
	if _, err := os.Stat(Chromium); err != nil {
		testenv.Missing(t, Chromium+" not found (apt-get install chromium; scripts/test.sh does)")
	}
	root = testenv.RepoRoot(t)
	e2e = filepath.Join(root, "internal", "web", "e2e")
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "playwright-core not installed (cd internal/web/e2e && npm ci; scripts/test.sh does)")
	}
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	dir = t.TempDir()
	qm = testenv.BuildQualitymon(t, dir)
	env = []string{"QUALITYMON_INFLUX_URL=" + srv.URL, "QUALITYMON_INFLUX_BUCKET=" + bucket, "QUALITYMON_INFLUX_ORG=" + srv.Org, "QUALITYMON_INFLUX_TOKEN=" + srv.Token}
	return node, root, e2e, dir, qm, env
}

// TestBrowserBureau runs e2e/bureau.mjs in headless Chromium against
// qualitymon serve with the SAMPLE data and three upload tokens (青岛, 烟台
// with review: required, 山东省统计局 reviewing): sign in, the grid, the
// template round trip, a check with cell errors, submit, a scope refusal, a
// held upload approved and then in the scorecard, a return with a comment,
// sign out, a forged POST refused, wrong tokens slowed down. Screenshots in
// e2e/out (b*.png). Under CI=true a missing or unstartable browser fails.
func TestBrowserBureau(t *testing.T) {
	node, root, e2e, dir, qm, env := browserSetup(t)
	cmd := exec.Command(qm, "import", filepath.Join(root, "sample", "observations.csv"))
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qualitymon import: %v\n%s", err, out)
	}
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
	addr := testenv.FreeAddr(t)
	p := testenv.StartProcess(t, dir, "qualitymon-serve", env, qm, "serve", "-c", cfgPath, "--listen", addr)
	testenv.WaitHTTP(t, p, "http://"+addr+"/readyz", 60*time.Second)

	out := filepath.Join(e2e, "out")
	os.MkdirAll(out, 0o755)
	olds, _ := filepath.Glob(filepath.Join(out, "b*.png"))
	for _, f := range olds {
		os.Remove(f)
	}
	run := exec.Command(node, "bureau.mjs")
	run.Dir = e2e
	run.Env = append(os.Environ(), "BASE_URL=http://"+addr, "OUT_DIR="+out, "CHROMIUM="+Chromium)
	for k, v := range tokens {
		run.Env = append(run.Env, k+"="+v)
	}
	b, err := run.CombinedOutput()
	t.Logf("node bureau.mjs:\n%s", b)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		testenv.Missing(t, "Chromium could not start: "+firstLine(string(b), "BROWSER-START-FAILED"))
	case err != nil:
		t.Fatalf("browser test failed (%v); qualitymon's log:\n%s", err, p.Tail(40))
	}
	if !strings.Contains(string(b), "PASS: 0 failure(s)") {
		t.Error("the browser test did not report success")
	}
	audit, _ := os.ReadFile(filepath.Join(dir, "review", "audit.jsonl"))
	for _, want := range []string{`"action":"hold"`, `"action":"approve"`, `"action":"return"`, `"by":"山东省统计局"`, `"remote_addr":"127.0.0.1`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("review audit log lacks %s:\n%s", want, audit)
		}
	}
}
