package cli

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// statusAt runs `status --format json --at at` and indexes the evaluations
// by plan/target/region.
func statusAt(t *testing.T, env map[string]string, args ...string) map[string]map[string]any {
	t.Helper()
	r := run(t, env, append([]string{"status", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("status %v: exit %d %s", args, r.code, r.stderr)
	}
	var evals []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &evals); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, e := range evals {
		out[e["plan"].(string)+"/"+e["target"].(string)+"/"+e["region"].(string)] = e
	}
	return out
}

// Every situation of issue 7 ("Why"), with the figures imported into the
// real InfluxDB and judged by `qualitymon status`: testdata/verdicts holds the
// dataset (one block per situation) and the golden JSON of the whole scorecard.
func TestVerdictsThroughInfluxDB(t *testing.T) {
	env, _ := influxEnv(t)
	if r := run(t, env, "import", "testdata/verdicts/observations.csv"); r.code != 0 {
		t.Fatalf("import: %d %s%s", r.code, r.stdout, r.stderr)
	}
	byAt := map[string]map[string]map[string]any{}
	for _, at := range []string{"2018-06-30", "2020-03-31", "2022-12-31"} {
		byAt[at] = statusAt(t, env, "--at", at)
	}
	cases := []struct {
		situation, at, key, status, basis string
		settled                           bool
		check                             func(t *testing.T, e map[string]any)
	}{
		{"a per-year quota missed in 2019", "2022-12-31", "shandong-2018/qms-certified-enterprises-yearly/370000", "missed", "quota_years", true,
			func(t *testing.T, e map[string]any) { wantYearState(t, e, 1, "not_met") }},
		{"a quota whose last plan year was never reported", "2022-12-31", "gansu-2018/sme-quality-training-yearly/620000", "missed", "quota_years", true,
			func(t *testing.T, e map[string]any) { wantYearState(t, e, 2, "not_reported") }},
		{"a count with no printed deadline", "2022-12-31", "shandong-2018/qms-upgraded-enterprises/370000", "missed", "sum_at_deadline", true,
			func(t *testing.T, e map[string]any) {
				if e["deadline"] != 2020.0 || e["deadline_from_horizon"] != true {
					t.Errorf("deadline %v from horizon %v", e["deadline"], e["deadline_from_horizon"])
				}
			}},
		{"only figures from after the deadline", "2022-12-31", "shandong-2018/food-safety-satisfaction/370000", "no_data", "no_plan_period_figure", true,
			func(t *testing.T, e map[string]any) {
				if e["projected"] != nil || e["actual"] != nil {
					t.Errorf("projected %v, actual %v from later figures", e["projected"], e["actual"])
				}
				if l, _ := e["later_figures"].([]any); len(l) != 2 {
					t.Errorf("later figures %v", e["later_figures"])
				}
			}},
		{"one pre-plan figure below a hold level", "2018-06-30", "gansu-2018/manufacturing-product-spot-check-pass-rate/620000", "at_risk", "pre_plan_figure", false,
			func(t *testing.T, e map[string]any) { wantNum(t, e, "actual", 91.5); wantNum(t, e, "gap", 0.5) }},
		{"the same, once settled", "2022-12-31", "gansu-2018/manufacturing-product-spot-check-pass-rate/620000", "no_data", "no_plan_period_figure", true, nil},
		{"a 14-city average with a city missing in 2020 and a province figure", "2022-12-31", "gansu-2018/good-air-quality-days-share/620000", "missed", "last_before_deadline", true,
			func(t *testing.T, e map[string]any) {
				wantNum(t, e, "actual", 81.25) // 2019: (78 + 78.5 + … + 84.5) / 14
				cov, _ := e["coverage"].([]any)
				if len(cov) != 3 {
					t.Fatalf("coverage %v", e["coverage"])
				}
				// 2019: every city reported; the mean is computed from them when read (nothing derived is stored).
				want := []string{"reported true 0", "computed true 14", "computed false 13"}
				for i, c := range cov {
					m := c.(map[string]any)
					if got := strings.Join([]string{m["source"].(string), jsonStr(m["used"]), jsonStr(m["reported"])}, " "); got != want[i] {
						t.Errorf("coverage %d: %s, want %s", i, got, want[i])
					}
				}
				if b := e["basis"].(map[string]any); !strings.Contains(b["zh"].(string), "2020年报送地区不全") {
					t.Errorf("basis does not say 2020 was left out: %v", b["zh"])
				}
			}},
		{"a pre-plan figure that meets a reach target", "2018-06-30", "shandong-2018/drug-sampling-pass-rate/370000", "on_track", "pre_plan_figure", false, nil},
		{"achieved in 2020, judged in 2022", "2022-12-31", "shandong-2018/food-sampling-pass-rate/370000", "achieved", "deadline_figure", true,
			func(t *testing.T, e map[string]any) {
				if e["stale"] != false {
					t.Error("a settled target is stale")
				}
				if e["last_observation"] != "2020-12-31" {
					t.Errorf("last_observation %v, want 2020-12-31", e["last_observation"])
				}
			}},
		{"one figure, no trend", "2020-03-31", "jiangsu-2018/manufacturing-quality-competitiveness-index/320000", "at_risk", "one_figure", false, nil},
		{"twice the 2017 count", "2022-12-31", "gansu-2018/gi-protected-products-doubling/620000", "achieved", "deadline_figure", true,
			func(t *testing.T, e map[string]any) {
				wantNum(t, e, "target_value", 110)
				wantNum(t, e, "baseline", 55)
			}},
		{"a hold broken in 2019", "2022-12-31", "hainan-2018/food-sampling-pass-rate/460000", "missed", "hold_breach", true,
			func(t *testing.T, e map[string]any) {
				if b := e["basis"].(map[string]any); !strings.Contains(b["zh"].(string), "2019年低于") {
					t.Errorf("basis does not name 2019: %v", b["zh"])
				}
			}},
		{"national spot checks judged on their own statistic", "2020-03-31", "jiangsu-2018/national-spot-check-pass-rate/320000", "on_track", "hold_years", false, nil},
		{"provincial spot checks judged on theirs", "2020-03-31", "shandong-2018/industrial-product-spot-check-pass-rate/370000", "at_risk", "one_figure", false, nil},
	}
	for _, c := range cases {
		t.Run(c.situation, func(t *testing.T) {
			e, ok := byAt[c.at][c.key]
			if !ok {
				t.Fatalf("%s not evaluated at %s", c.key, c.at)
			}
			basis, _ := e["basis"].(map[string]any)
			if e["status"] != c.status || basis["code"] != c.basis {
				t.Errorf("%s at %s: %v (%v: %v), want %s (%s)", c.key, c.at, e["status"], basis["code"], basis["en"], c.status, c.basis)
			}
			if e["settled"] != c.settled {
				t.Errorf("settled = %v, want %v", e["settled"], c.settled)
			}
			for _, k := range []string{"clause", "quote", "wording", "name_zh", "lead_agencies", "responsible_agencies"} {
				if _, ok := e[k]; !ok {
					t.Errorf("lacks %q", k)
				}
			}
			if c.check != nil {
				c.check(t, e)
			}
		})
	}
	// Untracked commitments are listed by `targets`, never judged.
	if _, ok := byAt["2022-12-31"]["shandong-2018/single-champions-per-industry/370000"]; ok {
		t.Error("the untracked 单项冠军 commitment was judged")
	}
	r := run(t, env, "status", "--format", "json", "--at", "2022-12-31")
	golden.Check(t, "testdata/verdicts/status-2022-12-31.json", r.stdout, *update)
	// The table shows the basis and settled columns.
	r = run(t, env, "status", "--plan", "gansu-2018", "--at", "2022-12-31", "--lang", "en")
	if !strings.Contains(r.stdout, "BASIS") || !strings.Contains(r.stdout, "no_reference_figure") && !strings.Contains(r.stdout, "settled") {
		t.Errorf("table without basis or settled:\n%s", r.stdout)
	}
}

// --known-at reproduces the scorecard as it was known: a revision reported
// between two moments changes the answer for the later moment only.
func TestStatusKnownAt(t *testing.T) {
	env, _ := influxEnv(t)
	beforeAll := time.Now().UTC().Add(-2 * time.Second).Format(time.RFC3339)
	first := write(t, "first.csv", "indicator,region,period,value\nindustrial_product_spot_check_pass_rate,370000,2019,95.0\n")
	if r := run(t, env, "import", first); r.code != 0 {
		t.Fatal(r.stderr)
	}
	time.Sleep(1100 * time.Millisecond) // reported_at has one-second resolution
	between := time.Now().UTC().Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond)
	revised := write(t, "revised.csv", "indicator,region,period,value\nindustrial_product_spot_check_pass_rate,370000,2019,96.6\n")
	if r := run(t, env, "import", revised); r.code != 0 || !strings.Contains(r.stdout, "1 revised") {
		t.Fatalf("revision: %s%s", r.stdout, r.stderr)
	}
	const key = "shandong-2018/industrial-product-spot-check-pass-rate/370000"
	for _, c := range []struct {
		args   []string
		status string
		actual any
	}{
		{[]string{"--at", "2020-03-31"}, "on_track", 96.6},
		{[]string{"--at", "2020-03-31", "--known-at", between}, "at_risk", 95.0},
		{[]string{"--at", "2020-03-31", "--known-at", beforeAll}, "no_data", nil},
	} {
		e := statusAt(t, env, c.args...)[key]
		if e["status"] != c.status || e["actual"] != c.actual {
			t.Errorf("%v: %v %v, want %s %v", c.args, e["status"], e["actual"], c.status, c.actual)
		}
	}
	for _, cmd := range []string{"status", "report"} {
		args := []string{cmd, "--known-at", "yesterday"}
		if cmd == "report" {
			args = append(args, "--plan", "shandong-2018")
		}
		if r := run(t, env, args...); r.code != 1 || !strings.Contains(r.stderr, "--known-at") {
			t.Errorf("%s: bad --known-at: %d %s", cmd, r.code, r.stderr)
		}
	}
}

func wantYearState(t *testing.T, e map[string]any, i int, state string) {
	t.Helper()
	ys, _ := e["years"].([]any)
	if len(ys) <= i || ys[i].(map[string]any)["state"] != state {
		t.Errorf("years[%d] = %v, want state %s", i, ys, state)
	}
}

func wantNum(t *testing.T, e map[string]any, k string, v float64) {
	t.Helper()
	if e[k] != v {
		t.Errorf("%s = %v, want %v", k, e[k], v)
	}
}

func jsonStr(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
