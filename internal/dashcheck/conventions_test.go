package dashcheck_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDashboardConventions holds what the checker does not: the plan
// variable shows the plans' Chinese titles, a table's unit column reads
// %, 个, 万亩 instead of catalogue ids, and every row of a target table links
// to the Indicator dashboard and to qualitymon's target page.
func TestDashboardConventions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "dashboards", "grafana", "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	tables := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Inputs     []map[string]any `json:"__inputs"`
			Templating struct {
				List []struct {
					Name, Type, Regex string
					Query             json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Inputs) == 0 {
			t.Errorf("%s: no __inputs: Grafana's import screen cannot ask for the datasources", f)
		}
		for _, v := range d.Templating.List {
			if v.Name == "plan" && (!strings.Contains(string(v.Query), "qualitymon_plan_info") || !strings.Contains(v.Regex, "(?<text>") || !strings.Contains(v.Regex, "title=")) {
				t.Errorf("%s: variable plan must show the plans' Chinese titles (qualitymon_plan_info, regex with text from title)", f)
			}
		}
		text := string(b)
		if !strings.Contains(text, `"renameByName"`) || !strings.Contains(text, `"name_zh": "指标"`) {
			continue
		}
		tables++
		for _, want := range []string{`"10k_mu": {`, `"text": "万亩"`, `"percent": {`, `"text": "%"`, `"count": {`, `"text": "个"`,
			`"url": "/d/qualitymon-indicator/?var-indicator=${__data.fields.indicator}&var-region=${__data.fields.region}&var-target=${__data.fields.target}`,
			`"url": "${web_url}/plans/${__data.fields.plan}/targets/${__data.fields.target}?region=${__data.fields.region}"`,
			`"name": "web_url"`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: target table lacks %s", f, want)
			}
		}
	}
	if tables < 3 {
		t.Errorf("%d dashboards with target tables, want the overview, plan and comparison ones", tables)
	}
}
