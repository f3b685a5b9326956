package alerttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/routes"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestAmtoolCheckConfig(t *testing.T) {
	amtool := tool(t, "amtool")
	root := testenv.RepoRoot(t)
	t.Log(run(t, root, amtool, "check-config", alertmanagerFile))
}

// routeReceivers asks amtool which receivers an alert with labels reaches.
func routeReceivers(t *testing.T, amtool, root string, labels map[string]string) []string {
	t.Helper()
	args := []string{"config", "routes", "test", "--config.file=" + filepath.Join(root, alertmanagerFile)}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k+"="+labels[k])
	}
	cmd := exec.Command(amtool, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("amtool %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	out := strings.TrimSpace(stdout.String())
	if out == "" {
		t.Fatalf("amtool %s printed no receiver\n%s", strings.Join(args, " "), stderr.String())
	}
	return strings.Split(out, ",")
}

func withLabels(l map[string]string, kv ...string) map[string]string {
	for i := 0; i < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return l
}

func TestRoutes(t *testing.T) {
	amtool := tool(t, "amtool")
	root := testenv.RepoRoot(t)
	target := func(alert, plan, lead string) map[string]string {
		l := map[string]string{"alertname": alert, "category": "target", "severity": "critical", "plan": plan, "target": "t", "region": "460000"}
		if lead != "" {
			l["lead_agency"] = lead
		}
		return l
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"qualitymon down", map[string]string{"alertname": "QualitymonDown", "category": "ops", "severity": "critical", "job": "qualitymon"}, []string{"ops"}},
		{"collector failing", map[string]string{"alertname": "CollectorFailing", "category": "ops", "severity": "warning", "collector": "aqi"}, []string{"ops"}},
		{"no lead agency named", target("TargetMissed", "shandong-2018", ""), []string{"default"}},
		{"no lead agency in a plan with agencies", target("TargetAtRisk", "hainan-2018", ""), []string{"default"}},
		{"agency not in the config", target("TargetAtRisk", "hainan-2018", "省某某厅"), []string{"default"}},
		{"agency of another province", target("TargetMissed", "jiangsu-2018", "省食品药品监管局"), []string{"default"}},
		{"one lead agency", target("HoldTargetBreached", "hainan-2018", "省食品药品监管局"), []string{"hainan-food-drug"}},
		{"same agency name, other province", target("TargetMissed", "gansu-2018", "省食品药品监管局"), []string{"gansu-food-drug"}},
		{"a longer name is another agency", target("TargetMissed", "hainan-2018", "省质监局稽查总队"), []string{"default"}},
		{"two lead agencies", target("TargetOffTrack", "hainan-2018", "省质监局、省工业和信息化厅"), []string{"hainan-quality-supervision", "hainan-industry-it"}},
		{"three lead agencies", target("TargetOffTrack", "hainan-2018", "省住房城乡建设厅、省水务厅、省交通运输厅"), []string{"hainan-housing-construction", "hainan-water-affairs", "hainan-transport"}},
		{"three lead agencies, Gansu", target("TargetAtRisk", "gansu-2018", "省发展改革委、省质监局、省总工会"), []string{"gansu-development-reform", "gansu-quality-supervision", "gansu-trade-unions"}},
		{"stale data to the reporting bureau", withLabels(target("IndicatorDataStale", "gansu-2018", "省质监局"), "recipient", "reporting_bureau", "region", "620000"), []string{"gansu-statistics"}},
		{"no data for a city to the city's bureau", withLabels(target("TargetNoData", "shandong-2018", ""), "recipient", "reporting_bureau", "region", "370200"), []string{"qingdao-statistics"}},
		{"no data for another city to the province's bureau", withLabels(target("TargetNoData", "shandong-2018", ""), "recipient", "reporting_bureau", "region", "370700"), []string{"shandong-statistics"}},
		{"no data, region without a bureau: the lead agency", withLabels(target("TargetNoData", "hainan-2018", "省水务厅"), "recipient", "reporting_bureau", "region", "469000"), []string{"hainan-water-affairs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := routeReceivers(t, amtool, root, tc.labels)
			sort.Strings(got)
			sort.Strings(tc.want)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("receivers %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEveryTargetRouted routes, for every target of every plan and each of
// its regions, a status alert (lead_agency as qualitymon_target_info carries
// it: the agencies joined with "、") and a data alert
// (recipient="reporting_bureau") through amtool: the status alert reaches
// exactly the receivers receivers.yml names for the target's lead agencies
// (default when none), the data alert the bureau reporting the region.
func TestEveryTargetRouted(t *testing.T) {
	amtool := tool(t, "amtool")
	root := testenv.RepoRoot(t)
	set, err := plan.LoadDir(os.DirFS(root), "targets")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, receiversFile))
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := routes.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	bureauOf := map[string]string{}
	for _, b := range rcv.ReportingBureaus {
		for _, r := range b.Regions {
			bureauOf[r] = b.Receiver
		}
	}
	cache := map[string][]string{}
	route := func(labels map[string]string) []string {
		key := fmt.Sprint(labels)
		if got, ok := cache[key]; ok {
			return got
		}
		got := routeReceivers(t, amtool, root, labels)
		sort.Strings(got)
		cache[key] = got
		return got
	}
	targets, alerts := 0, 0
	for _, p := range set.Plans {
		for _, tg := range p.Targets {
			targets++
			var want []string
			for _, a := range tg.LeadAgencies {
				want = append(want, rcv.Plans[p.Key].LeadAgencies[a])
			}
			if len(want) == 0 {
				want = []string{rcv.Default}
			}
			sort.Strings(want)
			for _, region := range tg.Units {
				labels := map[string]string{"alertname": "TargetMissed", "category": "target", "severity": "critical",
					"plan": p.Key, "region": region, "lead_agency": strings.Join(tg.LeadAgencies, "、")}
				if got := route(labels); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s/%s (%s) lead %q: receivers %v, want %v", p.Key, tg.ID, region, labels["lead_agency"], got, want)
				}
				labels["alertname"], labels["severity"], labels["recipient"] = "IndicatorDataStale", "warning", "reporting_bureau"
				if got := route(labels); len(got) != 1 || got[0] != bureauOf[region] {
					t.Errorf("%s/%s (%s) stale data: receivers %v, want the reporting bureau's [%s]", p.Key, tg.ID, region, got, bureauOf[region])
				}
				alerts += 2
			}
		}
	}
	if targets < 100 {
		t.Fatalf("only %d targets in targets/", targets)
	}
	t.Logf("%d targets, %d alerts routed (%d distinct label sets through amtool)", targets, alerts, len(cache))
}

// amConfig is what TestReceivers reads from alertmanager.yml.
type amConfig struct {
	Route     amRoute `yaml:"route"`
	Receivers []struct {
		Name           string `yaml:"name"`
		WebhookConfigs []struct {
			URL          string `yaml:"url"`
			SendResolved *bool  `yaml:"send_resolved"`
		} `yaml:"webhook_configs"`
	} `yaml:"receivers"`
}

type amRoute struct {
	Receiver string    `yaml:"receiver"`
	Routes   []amRoute `yaml:"routes"`
}

func (r amRoute) receivers(into map[string]bool) {
	if r.Receiver != "" {
		into[r.Receiver] = true
	}
	for _, c := range r.Routes {
		c.receivers(into)
	}
}

// TestReceivers: every receiver is a webhook to the relay under its own name,
// sends resolved notifications, and is used by a route.
func TestReceivers(t *testing.T) {
	root := testenv.RepoRoot(t)
	var c amConfig
	testenv.ReadYAML(t, filepath.Join(root, alertmanagerFile), &c)
	used := map[string]bool{}
	c.Route.receivers(used)
	if len(c.Receivers) < 3 {
		t.Fatalf("%d receivers", len(c.Receivers))
	}
	for _, r := range c.Receivers {
		if len(r.WebhookConfigs) != 1 {
			t.Errorf("receiver %s: %d webhook_configs, want 1", r.Name, len(r.WebhookConfigs))
			continue
		}
		w := r.WebhookConfigs[0]
		if w.URL != relayBase+r.Name {
			t.Errorf("receiver %s: url %s, want %s", r.Name, w.URL, relayBase+r.Name)
		}
		if w.SendResolved == nil || !*w.SendResolved {
			t.Errorf("receiver %s: send_resolved must be true so agencies hear when a target recovers", r.Name)
		}
		if !used[r.Name] {
			t.Errorf("receiver %s: no route uses it", r.Name)
		}
	}
}

// amAlert is an alert in Alertmanager's v2 API.
type amAlert struct {
	Labels    map[string]string `json:"labels"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// TestAlertmanagerRoutesAndInhibits posts alerts to the real Alertmanager
// running alertmanager.yml (receivers pointed at a test webhook) and checks
// what it routes, delivers and inhibits.
func TestAlertmanagerRoutesAndInhibits(t *testing.T) {
	root := testenv.RepoRoot(t)
	hook := newWebhook(t)
	dir := t.TempDir()
	_, url := startAlertmanager(t, dir, alertmanagerConfig(t, root, hook.base()))

	target := func(alert, tgt string) map[string]string {
		return map[string]string{"alertname": alert, "category": "target", "severity": "warning",
			"plan": "hainan-2018", "target": tgt, "indicator": "food_sampling_pass_rate", "region": "460000",
			"lead_agency": "省食品药品监管局"}
	}
	ops := func(alert string) map[string]string {
		return map[string]string{"alertname": alert, "category": "ops", "severity": "warning", "job": "qualitymon", "instance": "qm:9737"}
	}
	posted := []map[string]string{
		target("HoldTargetBreached", "food-sampling-pass-rate"),
		target("TargetAtRisk", "food-sampling-pass-rate"), // inhibited by the breach
		target("TargetAtRisk", "drug-sampling-pass-rate"), // another target: delivered
		ops("QualitymonStoreDown"),
		ops("SpoolBacklogGrowing"), // inhibited by the store being down
	}
	// startsAt now: an alert older than group_wait is notified at once, before
	// Alertmanager's inhibitor has seen the alert that inhibits it.
	var body []map[string]any
	for _, l := range posted {
		body = append(body, map[string]any{"labels": l, "annotations": map[string]string{"summary": l["alertname"]},
			"startsAt": time.Now().UTC().Format(time.RFC3339Nano)})
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}

	key := func(l map[string]string) string { return l["alertname"] + "/" + l["target"] }
	want := map[string]struct {
		state    string
		receiver string
	}{
		"HoldTargetBreached/food-sampling-pass-rate": {"active", "hainan-food-drug"},
		"TargetAtRisk/food-sampling-pass-rate":       {"suppressed", "hainan-food-drug"},
		"TargetAtRisk/drug-sampling-pass-rate":       {"active", "hainan-food-drug"},
		"QualitymonStoreDown/":                       {"active", "ops"},
		"SpoolBacklogGrowing/":                       {"suppressed", "ops"},
	}
	var got []amAlert
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = nil
		resp, err := http.Get(url + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The inhibitor learns of alerts asynchronously: wait for the states
		// wanted, and report what there is after the deadline.
		settled := len(got) == len(want)
		for _, a := range got {
			if a.Status.State != want[key(a.Labels)].state {
				settled = false
			}
		}
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Fatalf("Alertmanager holds %d alerts, want %d: %+v", len(got), len(want), got)
	}
	for _, a := range got {
		w := want[key(a.Labels)]
		if a.Status.State != w.state {
			t.Errorf("%s: state %s, want %s", key(a.Labels), a.Status.State, w.state)
		}
		if w.state == "suppressed" && len(a.Status.InhibitedBy) == 0 {
			t.Errorf("%s: suppressed but not by an inhibition", key(a.Labels))
		}
		if len(a.Receivers) != 1 || a.Receivers[0].Name != w.receiver {
			t.Errorf("%s: receivers %+v, want %s", key(a.Labels), a.Receivers, w.receiver)
		}
	}

	// Delivered: the breach and the other target's risk to the agency, the
	// store to ops; never an inhibited alert.
	isAlert := func(alert, tgt string) func(webhookAlert) bool {
		return func(a webhookAlert) bool { return a.Labels["alertname"] == alert && a.Labels["target"] == tgt }
	}
	hook.wait(t, 20*time.Second, "HoldTargetBreached", "/hainan-food-drug", isAlert("HoldTargetBreached", "food-sampling-pass-rate"), nil)
	hook.wait(t, 20*time.Second, "TargetAtRisk", "/hainan-food-drug", isAlert("TargetAtRisk", "drug-sampling-pass-rate"), nil)
	hook.wait(t, 20*time.Second, "QualitymonStoreDown", "/ops", isAlert("QualitymonStoreDown", ""), nil)
	for _, n := range hook.all() {
		for _, a := range n.Msg.Alerts {
			if isAlert("TargetAtRisk", "food-sampling-pass-rate")(a) || a.Labels["alertname"] == "SpoolBacklogGrowing" {
				t.Errorf("inhibited alert %s delivered to %s", key(a.Labels), n.Path)
			}
		}
	}
}

// TestReceiverExamples uncomments the e-mail and 企业微信 (wechat_configs)
// receiver examples at the end of alertmanager.yml and checks the result with
// amtool, so the examples an operator copies are valid.
func TestReceiverExamples(t *testing.T) {
	amtool := tool(t, "amtool")
	root := testenv.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, alertmanagerFile))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start, end := strings.Index(text, "# BEGIN EXAMPLES\n"), strings.Index(text, "# END EXAMPLES")
	if start < 0 || end < start {
		t.Fatal("alertmanager.yml has no # BEGIN EXAMPLES … # END EXAMPLES block")
	}
	var uncommented []string
	for _, l := range strings.Split(text[start+len("# BEGIN EXAMPLES\n"):end], "\n") {
		uncommented = append(uncommented, strings.TrimPrefix(l, "#"))
	}
	block := strings.Join(uncommented, "\n")
	for _, want := range []string{"email_configs:", "wechat_configs:", "corp_id:", "smarthost:"} {
		if !strings.Contains(block, want) {
			t.Errorf("examples lack %s", want)
		}
	}
	path := filepath.Join(t.TempDir(), "alertmanager.yml")
	writeFile(t, path, text[:start]+block+"\n")
	t.Log(run(t, root, amtool, "check-config", path))
}
