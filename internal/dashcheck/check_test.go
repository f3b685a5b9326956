package dashcheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/qualitymon/qualitymon/internal/dashcheck"
)

// TestRepositoryStructure checks dashboards/grafana offline, as
// `qualitymon check dashboards` does without --prometheus.
func TestRepositoryStructure(t *testing.T) {
	set, probs := dashcheck.Load(os.DirFS(filepath.Join("..", "..", "dashboards", "grafana")))
	for _, p := range append(probs, set.Check()...) {
		t.Error(p)
	}
	want := map[string]bool{"qualitymon-overview": true, "qualitymon-plan": true, "qualitymon-indicator": true,
		"qualitymon-comparison": true, "qualitymon-operations": true}
	for _, d := range set.Dashboards {
		delete(want, d.UID)
	}
	for uid := range want {
		t.Errorf("dashboard %s is missing", uid)
	}
}

const goodDatasources = `apiVersion: 1
datasources:
  - {name: P, uid: prometheus, type: prometheus, url: http://p:9090, jsonData: {timeInterval: 15s}}
  - {name: I, uid: influxdb, type: influxdb, url: http://i:8086, jsonData: {version: Flux, organization: $ORG, defaultBucket: b}, secureJsonData: {token: $TOKEN}}
`

const goodProviders = "apiVersion: 1\nproviders:\n  - {name: p, type: file, options: {path: /d}}\n"

const goodPanel = `{"id":1,"type":"stat","title":"标题","description":"what it shows","gridPos":{"x":0,"y":0,"w":6,"h":4},
	"fieldConfig":{"defaults":{"unit":"none"}},"datasource":{"type":"prometheus","uid":"${ds_prometheus}"},
	"targets":[{"refId":"A","expr":"up{plan=\"$plan\"}"}]}`

// dsVar and dsInput make the datasource importable: a datasource variable
// whose current value Grafana's import screen fills in from __inputs.
const (
	dsVar   = `{"name":"ds_prometheus","type":"datasource","query":"prometheus","current":{"value":"${DS_PROMETHEUS}"}}`
	dsInput = `{"name":"DS_PROMETHEUS","type":"datasource","pluginId":"prometheus"}`
)

func dashboard(uid, vars, panels string) string {
	if vars != "" {
		vars = "," + vars
	}
	return `{"__inputs":[` + dsInput + `],"uid":"` + uid + `","title":"` + uid + `","time":{"from":"now-1h","to":"now"},"templating":{"list":[` + dsVar + vars + `]},"panels":[` + panels + `]}`
}

const planVar = `{"name":"plan","type":"query","datasource":{"type":"prometheus","uid":"${ds_prometheus}"},"query":"label_values(x, plan)"}`

func TestStructureProblems(t *testing.T) {
	for _, c := range []struct {
		name       string
		files      map[string]string
		wantSubstr string
	}{
		{"good", nil, ""},
		{"duplicate uid", map[string]string{"dashboards/b.json": dashboard("a", planVar, goodPanel)}, `uid "a" is also used by dashboards/a.json`},
		{"unknown datasource", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `"uid":"${ds_prometheus}"`, `"uid":"loki"`, 1))},
			`panel 1 "标题" query A: datasource uid "loki" is not provisioned`},
		{"fixed datasource uid", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `"uid":"${ds_prometheus}"`, `"uid":"prometheus"`, 1))},
			`panel 1 "标题": datasource uid "prometheus" is fixed: refer to it through a datasource variable ("${ds_prometheus}")`},
		{"fixed datasource uid in a variable", map[string]string{"dashboards/a.json": dashboard("a", strings.Replace(planVar, `${ds_prometheus}`, `prometheus`, 1), goodPanel)},
			`variable plan: datasource uid "prometheus" is fixed`},
		{"not importable", map[string]string{"dashboards/a.json": strings.Replace(dashboard("a", planVar, goodPanel), dsInput, "", 1)},
			`variable ds_prometheus: no __inputs entry {type: datasource, pluginId: prometheus}`},
		{"datasource variable of an unknown type", map[string]string{"dashboards/a.json": strings.Replace(dashboard("a", planVar, goodPanel), `"query":"prometheus"`, `"query":"loki"`, 1)},
			`variable ds_prometheus: datasource type "loki"`},
		{"undefined variable", map[string]string{"dashboards/a.json": dashboard("a", "", goodPanel)},
			`uses $plan, which is not a variable defined before it`},
		{"variable used before it is defined", map[string]string{"dashboards/a.json": dashboard("a",
			`{"name":"r","type":"query","datasource":{"uid":"${ds_prometheus}"},"query":"label_values(x{plan=\"$plan\"}, r)"},`+planVar, goodPanel)},
			`variable r: uses $plan`},
		{"no unit", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `"unit":"none"`, `"unit":""`, 1))},
			`fieldConfig.defaults.unit is not set`},
		{"English title", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `"标题"`, `"Title"`, 1))},
			`title must be Chinese`},
		{"no description", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `what it shows`, ``, 1))},
			`description must say in English`},
		{"empty query", map[string]string{"dashboards/a.json": dashboard("a", planVar, strings.Replace(goodPanel, `"expr":"up{plan=\"$plan\"}"`, `"query":"up"`, 1))},
			`query A: expr is empty`},
		{"influx not Flux", map[string]string{"provisioning/datasources/ds.yml": strings.Replace(goodDatasources, "version: Flux", "version: InfluxQL", 1)},
			`jsonData.version is "InfluxQL", want "Flux"`},
		{"influx without token", map[string]string{"provisioning/datasources/ds.yml": strings.Replace(goodDatasources, ", secureJsonData: {token: $TOKEN}", "", 1)},
			`secureJsonData.token is empty`},
		{"datasource uid twice", map[string]string{"provisioning/datasources/ds.yml": strings.Replace(goodDatasources, "uid: influxdb", "uid: prometheus", 1)},
			`uid "prometheus" is used twice`},
		{"invalid JSON", map[string]string{"dashboards/a.json": `{"uid":`}, `dashboards/a.json: invalid JSON`},
		{"bad time", map[string]string{"dashboards/a.json": strings.Replace(dashboard("a", planVar, goodPanel), "now-1h", "yesterday", 1)},
			`invalid time "yesterday"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"dashboards/a.json":                  {Data: []byte(dashboard("a", planVar, goodPanel))},
				"provisioning/datasources/ds.yml":    {Data: []byte(goodDatasources)},
				"provisioning/dashboards/dashes.yml": {Data: []byte(goodProviders)},
			}
			for name, data := range c.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			set, probs := dashcheck.Load(fsys)
			probs = append(probs, set.Check()...)
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.String())
			}
			all := strings.Join(msgs, "\n")
			switch {
			case c.wantSubstr == "" && len(probs) > 0:
				t.Errorf("want no problem, got:\n%s", all)
			case c.wantSubstr != "" && !strings.Contains(all, c.wantSubstr):
				t.Errorf("want a problem containing %q, got:\n%s", c.wantSubstr, all)
			}
		})
	}
}
