package exporter

import (
	"bytes"
	"io"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

func fp(v float64) *float64 { return &v }

func fixture(t *testing.T, detailed bool) (*Exporter, *prometheus.Registry) {
	cat, err := catalog.New(&catalog.Indicator{ID: "food_sampling_pass_rate", NameZh: "食品安全抽检合格率", NameEn: `Food "sampling"`, Unit: "percent", Min: fp(0), Max: fp(100), Better: "higher", Frequency: "yearly", Kind: "level"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e := New(reg, cat, nil)
	e.Detailed = detailed
	dl := 2020
	evals := []evaluate.Evaluation{
		{Plan: "shandong-2018", Target: "food", Indicator: "food_sampling_pass_rate", Region: "370000", RegionName: "山东省", NameZh: "食品安全抽检合格率",
			Unit: "percent", Comparator: ">=", Modality: "reach", LeadAgency: "省市场监管局、\"省农业农村厅\"", TargetValue: fp(96), Deadline: &dl,
			Actual: fp(95.5), Gap: fp(0.5), Status: evaluate.Missed, Stale: true,
			Basis: evaluate.Basis{Code: evaluate.BasisDeadlineFigure}, SettlesAt: time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
		{Plan: "gansu-2018", Target: "food", Indicator: "food_sampling_pass_rate", Region: "620000", Unit: "percent", Comparator: ">=",
			Modality: "hold", TargetValue: fp(94), Status: evaluate.NoData, Settled: true,
			Basis: evaluate.Basis{Code: evaluate.BasisNoFigure}, SettlesAt: time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
	}
	data := evaluate.NewData([]observation.Stored{{Observation: observation.Observation{Indicator: "food_sampling_pass_rate", Region: "370000", Period: period.OfYear(2020), Value: 95.5}}})
	e.Update(evals, data, time.Unix(1700000000, 0), time.Second)
	return e, reg
}

// plainPage is the text of e's page, inflated.
func plainPage(t *testing.T, e *Exporter) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.page.writePlain(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func parse(t *testing.T, r io.Reader) map[string]model.Vector {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	out := map[string]model.Vector{}
	for name, mf := range mfs {
		v, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: 0}, mf)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

func value(t *testing.T, fams map[string]model.Vector, name string, labels map[string]string) (float64, bool) {
	for _, s := range fams[name] {
		ok := true
		for k, v := range labels {
			if string(s.Metric[model.LabelName(k)]) != v {
				ok = false
			}
		}
		if ok {
			return float64(s.Value), true
		}
	}
	return 0, false
}

// The detailed metrics (metrics.detailed_targets): every per-target family,
// the compact ones included, so that the alert rules and dashboards work
// the same in both modes.
func TestExposition(t *testing.T) {
	e, reg := fixture(t, true)
	h := e.Handler(reg)
	for _, zip := range []bool{false, true} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if zip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body io.Reader = rec.Body
		if zip {
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatal("not gzipped")
			}
			body = bytes.NewReader(oneMember(t, rec.Body.Bytes()))
		}
		fams := parse(t, body)
		sd := map[string]string{"plan": "shandong-2018", "region": "370000", "target": "food"}
		checks := []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"qualitymon_target_value", sd, 96},
			{"qualitymon_target_actual", sd, 95.5},
			{"qualitymon_target_gap", sd, 0.5},
			{"qualitymon_target_stale", sd, 1},
			{"qualitymon_target_deadline_timestamp_seconds", sd, 1609459200},
			{"qualitymon_target_status", map[string]string{"plan": "shandong-2018", "status": "missed"}, 1},
			{"qualitymon_target_status", map[string]string{"plan": "shandong-2018", "status": "achieved"}, 0},
			{"qualitymon_target_status", map[string]string{"plan": "gansu-2018", "status": "no_data"}, 1},
			{"qualitymon_target_settled", sd, 0},
			{"qualitymon_target_settled", map[string]string{"plan": "gansu-2018"}, 1},
			{"qualitymon_target_settled_timestamp_seconds", sd, 1625011200},
			{"qualitymon_target_basis", map[string]string{"plan": "shandong-2018", "basis": "deadline_figure"}, 1},
			{"qualitymon_target_basis", map[string]string{"plan": "gansu-2018", "basis": "no_figure"}, 1},
			{"qualitymon_target_hold", map[string]string{"plan": "gansu-2018"}, 1},
			{"qualitymon_target_info", map[string]string{"plan": "shandong-2018", "lead_agency": "省市场监管局、\"省农业农村厅\"", "name_zh": "食品安全抽检合格率"}, 1},
			{"qualitymon_indicator_info", map[string]string{"name_en": `Food "sampling"`}, 1},
			{"qualitymon_indicator_last_observation_timestamp_seconds", map[string]string{"region": "370000"}, 1609459200},
			{"qualitymon_indicator_stale_after_seconds", map[string]string{"indicator": "food_sampling_pass_rate"}, (366 + 90 + 180) * 86400}, // interval, publication lag, grace
			{"qualitymon_evaluation_targets", nil, 2},
			{"qualitymon_evaluation_last_success_timestamp_seconds", nil, 1700000000},
		}
		checks = append(checks, compactChecks...)
		for _, c := range checks {
			got, ok := value(t, fams, c.name, c.labels)
			if !ok || got != c.want {
				t.Errorf("gzip=%v %s%v = %v (found %v), want %v", zip, c.name, c.labels, got, ok, c.want)
			}
		}
		if _, ok := value(t, fams, "qualitymon_target_actual", map[string]string{"plan": "gansu-2018"}); ok {
			t.Error("an actual is exported for a target without data")
		}
		if n := len(fams["qualitymon_target_status"]); n != 2*len(evaluate.Statuses) {
			t.Errorf("%d status series, want %d", n, 2*len(evaluate.Statuses))
		}
	}
}

// compactChecks are the series of both modes.
var compactChecks = []struct {
	name   string
	labels map[string]string
	want   float64
}{
	{"qualitymon_target_status_code", map[string]string{"plan": "shandong-2018", "region": "370000", "target": "food", "status": "missed", "basis": "deadline_figure",
		"stale": "true", "lead_agency": "省市场监管局、\"省农业农村厅\"", "name_zh": "食品安全抽检合格率", "region_name": "山东省", "deadline": "2020",
		"modality": "reach", "comparator": ">=", "unit": "percent", "indicator": "food_sampling_pass_rate", "actual": "95.5", "target_value": "96"}, 4},
	{"qualitymon_target_status_code", map[string]string{"plan": "gansu-2018", "status": "no_data", "basis": "no_figure", "stale": "false", "modality": "hold", "deadline": "", "actual": "", "target_value": "94"}, 5},
	{"qualitymon_target_gap", map[string]string{"plan": "shandong-2018", "region": "370000", "target": "food"}, 0.5},
	{"qualitymon_target_settled_timestamp_seconds", map[string]string{"plan": "gansu-2018", "region": "620000", "target": "food"}, 1625011200},
	{"qualitymon_targets", map[string]string{"plan": "shandong-2018", "region": "370000", "status": "missed"}, 1},
	{"qualitymon_targets", map[string]string{"plan": "shandong-2018", "region": "370000", "status": "achieved"}, 0},
	{"qualitymon_targets", map[string]string{"plan": "gansu-2018", "region": "620000", "status": "no_data"}, 1},
	{"qualitymon_indicator_stale_after_seconds", map[string]string{"indicator": "food_sampling_pass_rate"}, (366 + 90 + 180) * 86400},
}

// The default, compact metrics: per target and region at most three series
// (status code, gap, settled timestamp), the counts per plan, region and
// status, and none of the detailed families.
func TestCompact(t *testing.T) {
	e, reg := fixture(t, false)
	rec := httptest.NewRecorder()
	e.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	fams := parse(t, rec.Body)
	for _, c := range compactChecks {
		got, ok := value(t, fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	perTarget := map[string]int{}
	for name, v := range fams {
		for _, s := range v {
			if s.Metric["target"] != "" {
				perTarget[string(s.Metric["plan"])+"/"+string(s.Metric["target"])+"/"+string(s.Metric["region"])]++
			}
		}
		switch name {
		case "qualitymon_target_info", "qualitymon_target_status", "qualitymon_target_actual", "qualitymon_indicator_last_observation_timestamp_seconds":
			t.Errorf("%s exported in the compact mode", name)
		}
	}
	if len(perTarget) != 2 {
		t.Errorf("series of %d targets, want 2: %v", len(perTarget), perTarget)
	}
	for k, n := range perTarget {
		if n > 3 {
			t.Errorf("%s: %d series, want at most 3", k, n)
		}
	}
}

// UpdateChanged encodes again only the blocks holding the indices it is
// told changed: the page then equals a full Encode of the new evaluations
// (compact and detailed), and a block not named keeps its samples (the
// reuse is real, so the first check is not a full encode in disguise).
func TestUpdateChangedEncodesOnlyChangedBlocks(t *testing.T) {
	for _, detailed := range []bool{false, true} {
		e, _ := fixture(t, detailed)
		n := 3*blockSize + 17
		evals := make([]evaluate.Evaluation, n)
		for i := range evals {
			evals[i] = evaluate.Evaluation{Plan: "p-2021", Target: "t-" + strconv.Itoa(i), Indicator: "food_sampling_pass_rate", Region: "370000",
				Unit: "percent", Comparator: ">=", Modality: "reach", TargetValue: fp(90), Actual: fp(80), Gap: fp(10), Status: evaluate.OffTrack,
				Basis: evaluate.Basis{Code: evaluate.BasisProjection}, SettlesAt: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}
		}
		e.Update(evals, nil, time.Unix(1700000000, 0), time.Second)
		next := slices.Clone(evals)
		changed := []int{5, 2*blockSize + 3, n - 1}
		for _, i := range changed {
			next[i].Actual, next[i].Gap, next[i].Status = fp(95), fp(-5), evaluate.Achieved
		}
		e.UpdateChanged(next, changed, nil, time.Unix(1700000060, 0), time.Second)
		got := plainPage(t, e)
		if want := Encode(next, nil, e.cat, e.grace, detailed); !bytes.Equal(got, want) {
			t.Fatalf("detailed=%v: the page after UpdateChanged differs from a full encode (%d and %d bytes)", detailed, len(got), len(want))
		}
		if !bytes.Contains(got, []byte(`target="t-5",target_value="90",unit="percent"} 0`)) {
			t.Fatalf("detailed=%v: t-5 not shown achieved (0)", detailed)
		}
		later := slices.Clone(next)
		later[blockSize+1].Status = evaluate.Missed
		e.UpdateChanged(later, []int{}, nil, time.Unix(1700000120, 0), time.Second)
		if got := plainPage(t, e); !bytes.Contains(got, []byte(`target="t-`+strconv.Itoa(blockSize+1)+`",target_value="90",unit="percent"} 3`)) {
			t.Fatalf("detailed=%v: a block not named changed was encoded again", detailed)
		}
	}
}
