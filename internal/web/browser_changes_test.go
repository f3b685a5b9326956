package web

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

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
