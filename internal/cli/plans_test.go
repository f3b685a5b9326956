package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlansExtractAndDiff(t *testing.T) {
	text := "../planextract/testdata/national/national-2023.txt"
	r := run(t, nil, "plans", "extract", text, "--format", "json", "--horizon", "2025")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var drafts []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &drafts); err != nil || len(drafts) != 4 {
		t.Fatalf("%d drafts (%v):\n%s", len(drafts), err, r.stdout)
	}
	if drafts[0]["indicator"] != "manufacturing_quality_competitiveness_index" || drafts[0]["value"] != 86.0 || drafts[0]["region"] != "100000" {
		t.Errorf("first draft %v", drafts[0])
	}
	r = run(t, nil, "plans", "extract", text, "--plan", "national-2023")
	if r.code != 0 || !strings.Contains(r.stdout, "key: national-2023") || !strings.Contains(r.stdout, "value: 94") {
		t.Errorf("yaml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "plans", "diff", text, "../../targets/national-2023.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "0 missing, 0 contradicting") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// copyTargets makes a targets directory with the shipped catalogue and
// region table and the given plan files.
func copyTargets(t *testing.T, plans map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "catalogue"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../targets/catalogue/*.yaml")
	files = append(files, "../../targets/regions.yaml", "../../targets/regions-county.tsv")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dir, filepath.Base(f))
		if filepath.Base(filepath.Dir(f)) == "catalogue" {
			to = filepath.Join(dir, "catalogue", filepath.Base(f))
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range plans {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A draft straight from `plans extract` (TODO where it could not fill a
// field) and a plan with two contradictory targets are refused by `check
// targets`, naming the fields and both targets.
func TestDraftsCannotSlipThrough(t *testing.T) {
	r := run(t, nil, "plans", "extract", "../planextract/testdata/national/national-2023.txt", "--horizon", "2025")
	if r.code != 0 || !strings.Contains(r.stdout, "TODO") {
		t.Fatalf("extract: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	dir := copyTargets(t, map[string]string{"draft-2023.yaml": strings.Replace(r.stdout, "key: TODO", "key: draft-2023", 1)})
	r = run(t, nil, "check", "targets", "--targets-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, `plan.start: reads "TODO"`) {
		t.Errorf("a draft with TODO: exit %d\n%s", r.code, r.stderr)
	}
	dir = copyTargets(t, map[string]string{"test-2018.yaml": `plan: {key: test-2018, name_zh: 测试方案, issuer: 测试省, published: "2018", region: "620000", start: 2018, horizon: 2020, source: x.txt}
targets:
- {id: hold-92, indicator: food_sampling_pass_rate, region: "620000", comparator: ">=", value: 92, deadline: 2020, modality: hold, clause: "一(三)", quote: "食品安全抽检合格率稳定在92%以上"}
- {id: reach-94, indicator: food_sampling_pass_rate, region: "620000", comparator: ">=", value: 94, deadline: 2020, modality: reach, clause: "二(九)", quote: "到2020年,食品安全抽检合格率达到94%以上"}
`})
	r = run(t, nil, "check", "targets", "--targets-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, `target "reach-94" contradicts target "hold-92"`) {
		t.Errorf("contradictory targets: exit %d\n%s", r.code, r.stderr)
	}
}

// A reviewer who gave a milestone its year ("2023年,…" without 到) is not
// told that the text contradicts it.
func TestPlansDiffReadsMilestones(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "plan.txt")
	if err := os.WriteFile(text, []byte("甘肃省质量强省建设实施方案\n到2025年,质量强省建设取得显著成效。\n2023年,全省食品安全抽检合格率达到98%以上。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "test-2022.yaml")
	if err := os.WriteFile(file, []byte(`plan: {key: test-2022, name_zh: 测试方案, issuer: 测试省, published: "2022", region: "620000", start: 2022, horizon: 2025, source: plan.txt}
targets:
- {id: food-2023, indicator: food_sampling_pass_rate, region: "620000", comparator: ">=", value: 98, deadline: 2023, modality: reach, clause: "一", quote: "2023年,全省食品安全抽检合格率达到98%以上"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "plans", "diff", text, file)
	if r.code != 0 || !strings.Contains(r.stdout, "1 read from the text; 0 missing, 0 contradicting, 0 not found in the text") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A results-only report drafts nothing and says why, naming its sentences.
func TestPlansExtractResultsOnly(t *testing.T) {
	r := run(t, nil, "plans", "extract", "../planextract/testdata/unseen/kunming-2025-results.txt", "--format", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" || !strings.Contains(r.stderr, "warning: no target drafted") ||
		!strings.Contains(r.stderr, "昆明市新发布82项地方标准") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
