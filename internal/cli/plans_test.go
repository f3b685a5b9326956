package cli

import (
	"encoding/json"
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
