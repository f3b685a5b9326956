package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// qualitymon completeness on the real InfluxDB: the Qingdao bureau's
// 2022 food sampling figure is overdue (due 2023-03-31), the 2023 one
// reported; JSON, table and CSV; an unknown bureau is an error.
func TestCompleteness(t *testing.T) {
	env, st := influxEnv(t)
	cfg := write(t, "qualitymon.yaml", fmt.Sprintf(`uploads:
  review_dir: %s
  tokens:
    - bureau: 青岛市统计局
      token_sha256: %s
      regions: ["370200"]
`, filepath.Join(t.TempDir(), "review"), upload.HashToken("t")))
	p, _ := period.Parse("2023")
	if _, err := st.Upsert(context.Background(), []observation.Observation{{Indicator: "food_sampling_pass_rate", Region: "370200", Period: p, Value: 98.6, Source: "统计公报"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := run(t, env, "-c", cfg, "completeness", "--bureau", "青岛市统计局", "--region", "青岛", "--plan", "qingdao-2023", "--format", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var out struct {
		Bureaus []struct {
			Bureau  string `json:"bureau"`
			Summary struct {
				Expected, Received, Overdue int
			} `json:"summary"`
			Cells []struct {
				Indicator, Region, Period, State string
				Value                            *float64
			} `json:"cells"`
		} `json:"bureaus"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Bureaus) != 1 || out.Bureaus[0].Bureau != "青岛市统计局" {
		t.Fatalf("%s", r.stdout)
	}
	states := map[string]string{}
	for _, c := range out.Bureaus[0].Cells {
		if c.Indicator == "food_sampling_pass_rate" {
			states[c.Period] = c.State
		}
	}
	if states["2022"] != "overdue" || states["2023"] != "reported" {
		t.Errorf("food sampling states %v", states)
	}
	if s := out.Bureaus[0].Summary; s.Received != 1 || s.Expected != s.Received+s.Overdue {
		t.Errorf("summary %+v", s)
	}
	r = run(t, env, "-c", cfg, "completeness", "--region", "370200", "--plan", "qingdao-2023", "--lang", "en")
	if r.code != 0 || !strings.Contains(r.stdout, "BUREAU") || !strings.Contains(r.stdout, "overdue") || !strings.Contains(r.stdout, "青岛市统计局: expected") {
		t.Errorf("table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "-c", cfg, "completeness", "--plan", "qingdao-2023", "--format", "csv")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "\uFEFF报送单位,指标,地区,时期") {
		t.Errorf("csv: %d %q", r.code, r.stdout[:min(80, len(r.stdout))])
	}
	if r = run(t, env, "-c", cfg, "completeness", "--bureau", "火星统计局"); r.code == 0 || !strings.Contains(r.stderr, "no reporting bureau") {
		t.Errorf("unknown bureau: %d %s", r.code, r.stderr)
	}
}
