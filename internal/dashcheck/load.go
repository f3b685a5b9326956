package dashcheck

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layout of a Grafana directory.
const (
	DashboardsDir  = "dashboards"
	DatasourcesDir = "provisioning/datasources"
	ProvidersDir   = "provisioning/dashboards"
)

// Datasource types the dashboards may use (and the checker can run).
const (
	TypePrometheus = "prometheus"
	TypeInflux     = "influxdb"
)

// Datasource is one provisioned Grafana datasource.
type Datasource struct {
	File           string            `yaml:"-"`
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	Type           string            `yaml:"type"`
	URL            string            `yaml:"url"`
	IsDefault      bool              `yaml:"isDefault"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

// jsonString returns a string from JSONData ("" when absent).
func (d *Datasource) jsonString(key string) string {
	s, _ := d.JSONData[key].(string)
	return s
}

// Provider is one provisioned dashboard provider.
type Provider struct {
	File    string `yaml:"-"`
	Name    string `yaml:"name"`
	Type    string `yaml:"type"`
	Options struct {
		Path string `yaml:"path"`
	} `yaml:"options"`
}

// DSRef is a panel's or query's reference to a datasource: an object
// {"type","uid"} in current dashboards, a name string in old ones.
type DSRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
	Name string `json:"-"`
}

// UnmarshalJSON accepts an object, a string or null.
func (r *DSRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		r.Name = s
		return nil
	}
	type plain DSRef
	return json.Unmarshal(b, (*plain)(r))
}

// Target is one query of a panel.
type Target struct {
	RefID      string `json:"refId"`
	Datasource *DSRef `json:"datasource"`
	// Expr is a PromQL query.
	Expr string `json:"expr"`
	// Query is a Flux query.
	Query   string `json:"query"`
	Instant bool   `json:"instant"`
	Range   bool   `json:"range"`
	Format  string `json:"format"`
	Hide    bool   `json:"hide"`
	// Interval is the query's minimum interval ("15s"), if set.
	Interval string `json:"interval"`
}

// Panel is one dashboard panel (rows' nested panels are flattened).
type Panel struct {
	ID            int      `json:"id"`
	Type          string   `json:"type"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Datasource    *DSRef   `json:"datasource"`
	Targets       []Target `json:"targets"`
	MaxDataPoints int      `json:"maxDataPoints"`
	Interval      string   `json:"interval"`
	// TimeFrom ("1h") and TimeShift override the dashboard's time range.
	TimeFrom  string `json:"timeFrom"`
	TimeShift string `json:"timeShift"`
	GridPos   struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Panels []Panel `json:"panels"`
}

// Variable is one template variable.
type Variable struct {
	Name       string                          `json:"name"`
	Label      string                          `json:"label"`
	Type       string                          `json:"type"`
	Datasource *DSRef                          `json:"datasource"`
	RawQuery   json.RawMessage                 `json:"query"`
	Regex      string                          `json:"regex"`
	Sort       int                             `json:"sort"`
	IncludeAll bool                            `json:"includeAll"`
	AllValue   string                          `json:"allValue"`
	Multi      bool                            `json:"multi"`
	Hide       int                             `json:"hide"`
	Current    struct{ Value json.RawMessage } `json:"current"`
	Options    []struct {
		Value json.RawMessage `json:"value"`
	} `json:"options"`
}

// Query is the variable's query text: a string, or the "query" of an object.
func (v *Variable) Query() string {
	var s string
	if json.Unmarshal(v.RawQuery, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	json.Unmarshal(v.RawQuery, &o)
	return o.Query
}

// CurrentValues is the saved selection ("$__all" for All).
func (v *Variable) CurrentValues() []string { return rawStrings(v.Current.Value) }

func rawStrings(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var ss []string
	json.Unmarshal(raw, &ss)
	return ss
}

// Dashboard is one dashboard file.
type Dashboard struct {
	File  string `json:"-"`
	UID   string `json:"uid"`
	Title string `json:"title"`
	Time  struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
	// Inputs are what Grafana's import screen asks for (a datasource per
	// input), replacing ${NAME} in the dashboard.
	Inputs []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
}

// AllPanels returns the panels with the panels of rows flattened in.
func (d *Dashboard) AllPanels() []*Panel {
	var out []*Panel
	var walk func(ps []Panel)
	walk = func(ps []Panel) {
		for i := range ps {
			out = append(out, &ps[i])
			walk(ps[i].Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Set is everything read from one Grafana directory.
type Set struct {
	Datasources []*Datasource
	Providers   []*Provider
	Dashboards  []*Dashboard
	// apiVersions holds each provisioning file's apiVersion.
	apiVersions map[string]int
}

// Problem is one thing wrong with a file.
type Problem struct {
	File  string // path within the Grafana directory
	Where string // "panel 3 \"标题\"", "variable region", "datasource influxdb", or ""
	Msg   string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Where + ": " + p.Msg
}

// Load reads a Grafana directory. Files that cannot be read or parsed are
// reported as problems and left out of the set.
func Load(fsys fs.FS) (*Set, []Problem) {
	s := &Set{apiVersions: map[string]int{}}
	var probs []Problem
	files := func(dir string, exts ...string) []string {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			probs = append(probs, Problem{File: dir, Msg: fmt.Sprintf("cannot read directory: %v", err)})
			return nil
		}
		var out []string
		for _, e := range ents {
			for _, x := range exts {
				if !e.IsDir() && strings.HasSuffix(e.Name(), x) {
					out = append(out, path.Join(dir, e.Name()))
				}
			}
		}
		sort.Strings(out)
		if len(out) == 0 {
			probs = append(probs, Problem{File: dir, Msg: "no " + strings.Join(exts, " or ") + " files"})
		}
		return out
	}
	// Grafana takes datasources: from the datasources directory and
	// providers: from the dashboards directory, each file with its apiVersion.
	for _, dir := range []string{DatasourcesDir, ProvidersDir} {
		for _, f := range files(dir, ".yml", ".yaml") {
			var doc struct {
				APIVersion  int           `yaml:"apiVersion"`
				Datasources []*Datasource `yaml:"datasources"`
				Providers   []*Provider   `yaml:"providers"`
			}
			if err := readYAML(fsys, f, &doc); err != nil {
				probs = append(probs, Problem{File: f, Msg: err.Error()})
				continue
			}
			s.apiVersions[f] = doc.APIVersion
			if dir == DatasourcesDir {
				for _, d := range doc.Datasources {
					d.File = f
					s.Datasources = append(s.Datasources, d)
				}
				continue
			}
			for _, p := range doc.Providers {
				p.File = f
				s.Providers = append(s.Providers, p)
			}
		}
	}
	for _, f := range files(DashboardsDir, ".json") {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			probs = append(probs, Problem{File: f, Msg: err.Error()})
			continue
		}
		d := &Dashboard{File: f}
		if err := json.Unmarshal(b, d); err != nil {
			probs = append(probs, Problem{File: f, Msg: "invalid JSON: " + err.Error()})
			continue
		}
		s.Dashboards = append(s.Dashboards, d)
	}
	return s, probs
}

func readYAML(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("invalid YAML: %w", err)
	}
	return nil
}

// Datasource returns the provisioned datasource a reference resolves to:
// by uid, or by name for a string reference.
func (s *Set) Datasource(ref *DSRef) *Datasource {
	if ref == nil {
		return nil
	}
	for _, d := range s.Datasources {
		if (ref.UID != "" && d.UID == ref.UID) || (ref.Name != "" && d.Name == ref.Name) {
			return d
		}
	}
	return nil
}

// dsVariableRef is a datasource reference through a variable: "${ds}" or "$ds".
var dsVariableRef = regexp.MustCompile(`^\$\{?([A-Za-z0-9_]+)\}?$`)

// DatasourceVariable returns the datasource variable a reference names, or
// nil when it names a datasource directly.
func (d *Dashboard) DatasourceVariable(ref *DSRef) *Variable {
	if ref == nil {
		return nil
	}
	m := dsVariableRef.FindStringSubmatch(ref.UID)
	if m == nil {
		return nil
	}
	for i := range d.Templating.List {
		if v := &d.Templating.List[i]; v.Name == m[1] && v.Type == "datasource" {
			return v
		}
	}
	return nil
}

// DatasourceIn resolves a reference in dashboard d: through a datasource
// variable to the provisioned datasource of the variable's type (the default
// one, else the first), as Grafana selects it; otherwise as Datasource does.
func (s *Set) DatasourceIn(d *Dashboard, ref *DSRef) *Datasource {
	v := d.DatasourceVariable(ref)
	if v == nil {
		return s.Datasource(ref)
	}
	return s.datasourceOfType(v.Query())
}

func (s *Set) datasourceOfType(typ string) *Datasource {
	var first *Datasource
	for _, ds := range s.Datasources {
		if ds.Type != typ {
			continue
		}
		if ds.IsDefault {
			return ds
		}
		if first == nil {
			first = ds
		}
	}
	return first
}

// QueryDatasource returns the reference a target uses: its own, else the
// panel's.
func QueryDatasource(p *Panel, t *Target) *DSRef {
	if t.Datasource != nil && (t.Datasource.UID != "" || t.Datasource.Name != "") {
		return t.Datasource
	}
	return p.Datasource
}
