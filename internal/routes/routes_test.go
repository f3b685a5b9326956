package routes

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/targets"
)

const (
	receiversPath    = "../../dashboards/alertmanager/receivers.yml"
	alertmanagerPath = "../../dashboards/alertmanager/alertmanager.yml"
)

func load(t *testing.T) (*plan.Set, *Receivers) {
	t.Helper()
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(receiversPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return set, r
}

// TestCommittedFileIsGenerated fails when alertmanager.yml is not what the
// plans and receivers.yml give, e.g. after a plan or a lead agency was added.
func TestCommittedFileIsGenerated(t *testing.T) {
	set, r := load(t)
	got, err := Generate(set, r)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(alertmanagerPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		gl, cl := strings.Split(string(got), "\n"), strings.Split(string(committed), "\n")
		line := 0
		for line < len(gl) && line < len(cl) && gl[line] == cl[line] {
			line++
		}
		t.Fatalf("dashboards/alertmanager/alertmanager.yml is stale (first difference at line %d); regenerate it:\n"+
			"  go run ./cmd/qualitymon generate routes --receivers dashboards/alertmanager/receivers.yml -o dashboards/alertmanager/alertmanager.yml", line+1)
	}
}

func TestGenerateErrors(t *testing.T) {
	set, _ := load(t)
	tests := []struct{ name, receivers, want string }{
		{"lead agency without receiver", `webhook_url: "http://relay/{receiver}"
default: default
ops: ops
plans:
  hainan-2018: {lead_agencies: {省水务厅: hainan-water}}
reporting_bureaus: []
`, "plan hainan-2018: lead agency 省农业厅 (target agri-product-pass-rate) has no receiver: add it under plans.hainan-2018.lead_agencies"},
		{"region without bureau", `webhook_url: "http://relay/{receiver}"
default: default
ops: ops
`, "plan jiangsu-2018: region 320000 江苏省 has no reporting bureau: add it to reporting_bureaus"},
		{"misspelt plan", `webhook_url: "http://relay/{receiver}"
default: default
ops: ops
plans:
  hainan2018: {lead_agencies: {}}
`, "plans.hainan2018: no such plan"},
		{"misspelt agency", `webhook_url: "http://relay/{receiver}"
default: default
ops: ops
plans:
  jiangsu-2018: {lead_agencies: {省质检局: js-q}}
`, "plans.jiangsu-2018.lead_agencies: 省质检局 is no lead agency of the plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.receivers))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Generate(set, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, receivers, want string }{
		{"unknown key", "webhook: x\n", "field webhook not found"},
		{"no placeholder", "webhook_url: http://relay/\ndefault: d\nops: o\n", `webhook_url: "http://relay/" must contain {receiver}`},
		{"bad name", "webhook_url: \"http://r/{receiver}\"\ndefault: Default Receiver\nops: o\n", `default: receiver "Default Receiver" must be lower-case`},
		{"region twice", "webhook_url: \"http://r/{receiver}\"\ndefault: d\nops: o\nreporting_bureaus:\n  - {bureau: A, receiver: a, regions: [\"370000\"]}\n  - {bureau: B, receiver: b, regions: [\"370000\"]}\n",
			"reporting_bureaus[1] (B): region 370000 is already reported by A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.receivers))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// ReportOverdue carries no plan: it is routed to the bureau by name, else
// by region, before any plan's routes.
func TestReportOverdueRoute(t *testing.T) {
	set, r := load(t)
	out, err := Generate(set, r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	i := strings.Index(s, `- matchers: ['alertname="ReportOverdue"']`)
	if i < 0 || i > strings.Index(s, `- matchers: ['plan=`) {
		t.Fatal("no ReportOverdue route before the plans' routes")
	}
	for _, want := range []string{"- matchers: ['bureau=\"青岛市统计局\"']\n          receiver: qingdao-statistics", "- matchers: ['region=~\"370200\"']\n          receiver: qingdao-statistics"} {
		if !strings.Contains(s[i:], want) {
			t.Errorf("ReportOverdue route lacks %q", want)
		}
	}
}
