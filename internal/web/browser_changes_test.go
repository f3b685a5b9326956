package web

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBrowserChanges runs e2e/changes.mjs in headless Chromium at 1440 and
// 390 px against qualitymon serve with the SAMPLE data and a revision with
// a note (备注), both imported just before: 变化 linked from the
// navigation, the revision with its old and new values, difference, source
// and note, pages of the new figures, the date form, no sideways scrolling
// at 390 px. Screenshots in e2e/out (c*.png). Under CI=true a missing or
// unstartable browser fails.
func TestBrowserChanges(t *testing.T) {
	b := browserSetup(t)
	revision := filepath.Join(b.dir, "revision.csv")
	os.WriteFile(revision, []byte("indicator,region,period,value,source,note\nfood_sampling_pass_rate,370000,2019,97.9,山东省市场监管局(修订),按年鉴核定数修订\n"), 0o644)
	for _, f := range []string{filepath.Join(b.root, "sample", "observations.csv"), revision} {
		b.qualitymon(t, "import", f)
	}
	base, p := b.serve(t)
	os.MkdirAll(b.out, 0o755)
	olds, _ := filepath.Glob(filepath.Join(b.out, "c*.png"))
	for _, f := range olds {
		os.Remove(f)
	}
	b.run(t, "changes.mjs", base, p)
}
