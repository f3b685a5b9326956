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
