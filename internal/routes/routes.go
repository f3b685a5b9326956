// Package routes generates the Alertmanager configuration
// (dashboards/alertmanager/alertmanager.yml) from the plans and a receivers
// map: per plan, data alerts (recipient="reporting_bureau") go to the bureau
// that reports the region's figures, the other target alerts to each lead
// agency (牵头单位) of the target, and anything else to the default receiver.
// `qualitymon generate routes --receivers FILE` prints it; a test fails when
// the committed file differs from what the plans and receivers.yml give.
package routes

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// Receivers is the receivers map (dashboards/alertmanager/receivers.yml).
type Receivers struct {
	// WebhookURL is every receiver's webhook; "{receiver}" is replaced by
	// the receiver's name.
	WebhookURL string `yaml:"webhook_url"`
	// Default receives target alerts no agency or bureau is known for; Ops
	// the operations alerts.
	Default string `yaml:"default"`
	Ops     string `yaml:"ops"`
	// Plans maps a plan key to its lead agencies' receivers (agency name as
	// the plans write it → receiver).
	Plans map[string]struct {
		LeadAgencies map[string]string `yaml:"lead_agencies"`
	} `yaml:"plans"`
	// ReportingBureaus receive the stale-data and no-data alerts of the
	// regions they report for.
	ReportingBureaus []Bureau `yaml:"reporting_bureaus"`
}

// Bureau is a statistics bureau and the regions (GB/T 2260 codes) it reports.
type Bureau struct {
	Bureau   string   `yaml:"bureau"`
	Receiver string   `yaml:"receiver"`
	Regions  []string `yaml:"regions"`
}

// receiverName is what Alertmanager and the relay's URL paths accept here.
var receiverName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse reads a receivers map strictly (unknown keys are errors).
func Parse(data []byte) (*Receivers, error) {
	var r Receivers
	if err := yamlfile.Decode(data, &r); err != nil {
		return nil, err
	}
	var errs []string
	if !strings.Contains(r.WebhookURL, "{receiver}") {
		errs = append(errs, fmt.Sprintf("webhook_url: %q must contain {receiver}", r.WebhookURL))
	}
	check := func(where, name string) {
		if !receiverName.MatchString(name) {
			errs = append(errs, fmt.Sprintf("%s: receiver %q must be lower-case letters, digits and '-'", where, name))
		}
	}
	check("default", r.Default)
	check("ops", r.Ops)
	for _, key := range sortedKeys(r.Plans) {
		for _, a := range sortedKeys(r.Plans[key].LeadAgencies) {
			check(fmt.Sprintf("plans.%s.lead_agencies.%s", key, a), r.Plans[key].LeadAgencies[a])
		}
	}
	seen := map[string]string{}
	for i, b := range r.ReportingBureaus {
		check(fmt.Sprintf("reporting_bureaus[%d] (%s)", i, b.Bureau), b.Receiver)
		if b.Bureau == "" || len(b.Regions) == 0 {
			errs = append(errs, fmt.Sprintf("reporting_bureaus[%d]: bureau and regions are required", i))
		}
		for _, code := range b.Regions {
			if prev, ok := seen[code]; ok {
				errs = append(errs, fmt.Sprintf("reporting_bureaus[%d] (%s): region %s is already reported by %s", i, b.Bureau, code, prev))
			}
			seen[code] = b.Bureau
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return &r, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// planRoutes is what the tree needs of one plan.
type planRoutes struct {
	key, name, region string
	agencies          []agencyRoute // in order of first appearance in the plan
	bureaus           []bureauRoute // in the receivers map's order
}

type agencyRoute struct{ agency, receiver string }

type bureauRoute struct {
	bureau, receiver string
	regions          []string
}

// receiver is one receiver of the generated file, with who it serves.
type receiver struct{ name, serves string }

// Generate returns the Alertmanager configuration for the plans of set. It
// fails when a lead agency has no receiver, when a region targeted by a
// plan has no reporting bureau, or when the map names a plan or an agency
// the plans do not have (a misspelling would silently route to default).
func Generate(set *plan.Set, r *Receivers) ([]byte, error) {
	var errs []string
	bureauOf := map[string]int{} // region → index in ReportingBureaus
	for i, b := range r.ReportingBureaus {
		for _, code := range b.Regions {
			if _, ok := set.Regions.Get(code); !ok {
				errs = append(errs, fmt.Sprintf("reporting_bureaus: %s: unknown region %q", b.Bureau, code))
			}
			bureauOf[code] = i
		}
	}
	var plans []planRoutes
	receivers := []receiver{{r.Default, "target alerts without a known lead agency or reporting bureau (the plan owner)"}, {r.Ops, "operations alerts (the people running qualitymon)"}}
	have := map[string]bool{r.Default: true, r.Ops: true}
	addReceiver := func(name, serves string) {
		if !have[name] {
			have[name] = true
			receivers = append(receivers, receiver{name, serves})
		}
	}
	for _, p := range set.Plans {
		pr := planRoutes{key: p.Key, name: p.NameZh, region: p.Region}
		regName := p.Region
		if reg, ok := set.Regions.Get(p.Region); ok {
			regName = reg.Name
		}
		agencyReceivers := r.Plans[p.Key].LeadAgencies
		seenAgency := map[string]bool{}
		regions := map[string]bool{}
		for _, t := range p.Targets {
			for _, a := range t.LeadAgencies {
				if seenAgency[a] {
					continue
				}
				seenAgency[a] = true
				rcv, ok := agencyReceivers[a]
				if !ok {
					errs = append(errs, fmt.Sprintf("plan %s: lead agency %s (target %s) has no receiver: add it under plans.%s.lead_agencies", p.Key, a, t.ID, p.Key))
					continue
				}
				pr.agencies = append(pr.agencies, agencyRoute{a, rcv})
				addReceiver(rcv, regName+a+" ("+p.Key+")")
			}
			for _, u := range t.Units {
				regions[u] = true
			}
		}
		for _, a := range sortedKeys(agencyReceivers) {
			if !seenAgency[a] {
				errs = append(errs, fmt.Sprintf("plans.%s.lead_agencies: %s is no lead agency of the plan", p.Key, a))
			}
		}
		byBureau := map[int][]string{}
		for _, code := range sortedKeys(regions) {
			i, ok := bureauOf[code]
			if !ok {
				name := code
				if reg, ok := set.Regions.Get(code); ok {
					name += " " + reg.Name
				}
				errs = append(errs, fmt.Sprintf("plan %s: region %s has no reporting bureau: add it to reporting_bureaus", p.Key, name))
				continue
			}
			byBureau[i] = append(byBureau[i], code)
		}
		for i, b := range r.ReportingBureaus {
			if codes := byBureau[i]; len(codes) > 0 {
				pr.bureaus = append(pr.bureaus, bureauRoute{b.Bureau, b.Receiver, codes})
				addReceiver(b.Receiver, b.Bureau+" (reporting bureau)")
			}
		}
		plans = append(plans, pr)
	}
	// ReportOverdue (no plan label) reaches every reporting bureau.
	for _, b := range r.ReportingBureaus {
		addReceiver(b.Receiver, b.Bureau+" (reporting bureau)")
	}
	for _, key := range sortedKeys(r.Plans) {
		if _, ok := set.Plan(key); !ok {
			errs = append(errs, fmt.Sprintf("plans.%s: no such plan", key))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return render(plans, receivers, r), nil
}

func render(plans []planRoutes, receivers []receiver, r *Receivers) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, `route:
  receiver: %s
  group_by: [plan, alertname]
  group_wait: 2m
  group_interval: 30m
  repeat_interval: 24h
  routes:
    - matchers: ['category="ops"']
      receiver: %s
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 4h
      routes:
        - matchers: ['alertname="QualitymonDown"']
          receiver: %s
          repeat_interval: 1h
`, r.Default, r.Ops, r.Ops)
	if len(r.ReportingBureaus) > 0 {
		// The bureau label is uploads.tokens[].bureau: it should name the
		// bureau as receivers.yml does; the region is the fallback.
		b.WriteString("\n    # ReportOverdue: figures a bureau owes, to that bureau (by name, else by region)\n")
		b.WriteString("    - matchers: ['alertname=\"ReportOverdue\"']\n      group_by: [bureau, alertname]\n      routes:\n")
		for _, br := range r.ReportingBureaus {
			fmt.Fprintf(&b, "        - matchers: ['bureau=%q']\n          receiver: %s\n", br.Bureau, br.Receiver)
		}
		for _, br := range r.ReportingBureaus {
			fmt.Fprintf(&b, "        - matchers: ['region=~%q']\n          receiver: %s\n", strings.Join(br.Regions, "|"), br.Receiver)
		}
	}
	for _, p := range plans {
		fmt.Fprintf(&b, "\n    # %s %s (%s)\n", p.key, p.name, p.region)
		fmt.Fprintf(&b, "    - matchers: ['plan=%q']\n", p.key)
		if len(p.agencies) == 0 && len(p.bureaus) == 0 {
			continue
		}
		b.WriteString("      routes:\n")
		for _, br := range p.bureaus {
			fmt.Fprintf(&b, "        # %s: stale and missing figures for %s\n", br.bureau, strings.Join(br.regions, ", "))
			fmt.Fprintf(&b, "        - matchers: ['recipient=\"reporting_bureau\"', 'region=~%q']\n", strings.Join(br.regions, "|"))
			fmt.Fprintf(&b, "          receiver: %s\n", br.receiver)
		}
		for _, a := range p.agencies {
			// Whole names between "、": 省质监局稽查总队 is not 省质监局.
			fmt.Fprintf(&b, "        - matchers: ['lead_agency=~\"(.+、)?%s(、.+)?\"']\n", regexp.QuoteMeta(a.agency))
			fmt.Fprintf(&b, "          receiver: %s\n          continue: true\n", a.receiver)
		}
	}
	b.WriteString(inhibit)
	b.WriteString("\nreceivers:\n")
	for _, rc := range receivers {
		fmt.Fprintf(&b, "  - name: %s  # %s\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n",
			rc.name, rc.serves, strings.ReplaceAll(r.WebhookURL, "{receiver}", rc.name))
	}
	b.WriteString(examples)
	return b.Bytes()
}

const header = `# Alertmanager configuration for qualitymon (Alertmanager 0.25+).
#
# GENERATED by ` + "`qualitymon generate routes --receivers dashboards/alertmanager/receivers.yml`" + ` from
# the plans (targets/*.yaml) and receivers.yml: edit those and regenerate; a
# test fails when this file is stale.
#
# Routing (see ../alerts/README.md), per plan:
#   recipient="reporting_bureau" (stale, no data) -> the bureau that reports the
#                                                  figures of the alert's region
#   target alerts, by lead_agency                 -> one receiver per lead agency
#                                                  (牵头单位); a target led jointly
#                                                  ("A、B、C") reaches each of them
#   anything else                                 -> default (the plan owner)
# category="ops" -> ops. Agencies are per province: 甘肃省食品药品监管局 and
# 海南省食品药品监管局 are different offices with the same short name, hence
# routing by plan first.
#
# Noise: plan targets change at most when a figure arrives, so a firing group
# is repeated once a day; qualitymon itself every few hours, hourly while it
# is down. A target that settles as missed alerts for less than a day (see
# the rules), so it is notified once.
global:
  resolve_timeout: 5m

`

const inhibit = `
inhibit_rules:
  # A target that missed (or broke its hold) no longer needs "at risk" /
  # "off track" for the same target and region.
  - source_matchers: ['alertname=~"TargetMissed|HoldTargetBreached"']
    target_matchers: ['alertname=~"TargetAtRisk|TargetOffTrack"']
    equal: [plan, target, region]
  # InfluxDB unreachable explains a failing evaluation and a growing spool.
  - source_matchers: ['alertname="QualitymonStoreDown"']
    target_matchers: ['alertname=~"EvaluationFailing|SpoolBacklogGrowing"']
    equal: [instance]
`

// examples are commented receivers that deliver directly; a test uncomments
// them and runs amtool check-config.
const examples = `
# Delivering directly instead of through the relay: give a receiver (in
# receivers.yml's webhook_url, or here after generating) e-mail or 企业微信
# (WeCom) configs. Examples, checked by internal/alerttest:
# BEGIN EXAMPLES
#  - name: example-email
#    email_configs:
#      - to: zhiliangchu@example.gov.cn
#        from: qualitymon@example.gov.cn
#        smarthost: smtp.example.gov.cn:465
#        auth_username: qualitymon@example.gov.cn
#        auth_password: change-me
#        require_tls: false           # port 465: TLS from the start
#        send_resolved: true
#        headers:
#          Subject: '[qualitymon] {{ .CommonLabels.alertname }} {{ .CommonLabels.plan }}'
#  - name: example-wechat
#    wechat_configs:                  # 企业微信 application message
#      - corp_id: ww0000000000000000  # api_url defaults to qyapi.weixin.qq.com
#        agent_id: "1000002"
#        api_secret: change-me
#        to_party: "2"                # department id; or to_user: "zhangsan|lisi"
#        message: '{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ .Annotations.runbook_url }}{{ "\n" }}{{ end }}'
#        send_resolved: true
# END EXAMPLES
`
