package dashcheck

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// timeZero is the "now" relative dashboard times are parsed against when
// only their syntax matters.
var timeZero = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	uidPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)
	varName    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// noQueryPanels draw no data of their own.
var noQueryPanels = map[string]bool{"row": true, "text": true, "news": true, "dashlist": true}

// Check verifies the structure of the set offline and returns every problem.
func (s *Set) Check() []Problem {
	var probs []Problem
	add := func(file, where, format string, args ...any) {
		probs = append(probs, Problem{File: file, Where: where, Msg: fmt.Sprintf(format, args...)})
	}
	for f, v := range s.apiVersions {
		if v != 1 {
			add(f, "", "apiVersion is %d, want 1", v)
		}
	}
	s.checkDatasources(add)
	s.checkProviders(add)
	uids := map[string]string{}
	titles := map[string]string{}
	for _, d := range s.Dashboards {
		if !uidPattern.MatchString(d.UID) {
			add(d.File, "", "uid %q must be 1-40 letters, digits, - or _", d.UID)
		} else if prev, dup := uids[d.UID]; dup {
			add(d.File, "", "uid %q is also used by %s", d.UID, prev)
		} else {
			uids[d.UID] = d.File
		}
		if d.Title == "" {
			add(d.File, "", "dashboard has no title")
		} else if prev, dup := titles[d.Title]; dup {
			add(d.File, "", "title %q is also used by %s", d.Title, prev)
		} else {
			titles[d.Title] = d.File
		}
		if d.Time.From == "" || d.Time.To == "" {
			add(d.File, "", "time range not set (time.from, time.to)")
		} else {
			for _, t := range []string{d.Time.From, d.Time.To} {
				if _, err := ParseTime(t, timeZero); err != nil {
					add(d.File, "time", "%v", err)
				}
			}
		}
		s.checkDashboard(d, add)
	}
	return probs
}

func (s *Set) checkDatasources(add func(file, where, format string, args ...any)) {
	if len(s.Datasources) == 0 {
		add(DatasourcesDir, "", "no datasource is provisioned")
	}
	names, uids := map[string]bool{}, map[string]bool{}
	defaults := 0
	for _, d := range s.Datasources {
		where := fmt.Sprintf("datasource %q", d.Name)
		switch {
		case d.Name == "":
			add(d.File, "datasource", "name is empty")
		case names[d.Name]:
			add(d.File, where, "name is used twice")
		}
		names[d.Name] = true
		switch {
		case d.UID == "":
			add(d.File, where, "uid is empty (dashboards refer to datasources by uid)")
		case strings.Contains(d.UID, "$"):
			add(d.File, where, "uid %q must not depend on the environment", d.UID)
		case uids[d.UID]:
			add(d.File, where, "uid %q is used twice", d.UID)
		}
		uids[d.UID] = true
		if d.URL == "" {
			add(d.File, where, "url is empty")
		}
		if d.IsDefault {
			defaults++
		}
		switch d.Type {
		case TypePrometheus:
			if ti := d.jsonString("timeInterval"); ti != "" {
				if _, err := ParseDuration(ti); err != nil {
					add(d.File, where, "jsonData.timeInterval: %v", err)
				}
			}
		case TypeInflux:
			if d.jsonString("version") != "Flux" {
				add(d.File, where, "jsonData.version is %q, want \"Flux\" (the dashboards query in Flux)", d.jsonString("version"))
			}
			for _, k := range []string{"organization", "defaultBucket"} {
				if d.jsonString(k) == "" {
					add(d.File, where, "jsonData.%s is empty", k)
				}
			}
			if d.SecureJSONData["token"] == "" {
				add(d.File, where, "secureJsonData.token is empty")
			}
		default:
			add(d.File, where, "type %q: the checker runs only %s and %s queries", d.Type, TypePrometheus, TypeInflux)
		}
	}
	if defaults > 1 {
		add(DatasourcesDir, "", "%d datasources are marked isDefault; at most one may be", defaults)
	}
}

func (s *Set) checkProviders(add func(file, where, format string, args ...any)) {
	if len(s.Providers) == 0 {
		add(ProvidersDir, "", "no dashboard provider is provisioned")
	}
	names := map[string]bool{}
	for _, p := range s.Providers {
		where := fmt.Sprintf("provider %q", p.Name)
		if p.Name == "" || names[p.Name] {
			add(p.File, where, "name is empty or used twice")
		}
		names[p.Name] = true
		if p.Type != "file" {
			add(p.File, where, "type is %q, want \"file\"", p.Type)
		}
		if p.Options.Path == "" {
			add(p.File, where, "options.path is empty")
		}
	}
}

func (s *Set) checkDashboard(d *Dashboard, add func(file, where, format string, args ...any)) {
	defined := map[string]bool{}
	for i := range d.Templating.List {
		v := &d.Templating.List[i]
		where := "variable " + v.Name
		if !varName.MatchString(v.Name) {
			add(d.File, where, "invalid variable name")
		}
		if defined[v.Name] {
			add(d.File, where, "variable defined twice")
		}
		switch v.Type {
		case "datasource":
			s.checkDatasourceVariable(d, v, where, add)
		case "query":
			ds := s.DatasourceIn(d, v.Datasource)
			if ds == nil {
				add(d.File, where, "datasource %s is not provisioned", refString(v.Datasource))
			}
			s.checkPortable(d, v.Datasource, where, add)
			if strings.TrimSpace(v.Query()) == "" {
				add(d.File, where, "query is empty")
			}
			// A variable may use only the variables defined before it.
			s.checkRefs(d, where, v.Query(), defined, add)
		case "custom", "constant", "textbox", "interval":
		default:
			add(d.File, where, "type %q is not supported by the checker (datasource, query, custom, constant, textbox, interval)", v.Type)
		}
		defined[v.Name] = true
	}
	ids := map[int]bool{}
	for _, p := range d.AllPanels() {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID == 0 || ids[p.ID] {
			add(d.File, where, "panel id is missing or used twice")
		}
		ids[p.ID] = true
		if !hasHan(p.Title) {
			add(d.File, where, "title must be Chinese (English goes in the description)")
		}
		if noQueryPanels[p.Type] {
			continue
		}
		if !hasLatin(p.Description) {
			add(d.File, where, "description must say in English what the panel shows")
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			add(d.File, where, "gridPos %+v does not fit the 24-column grid", p.GridPos)
		}
		if p.FieldConfig.Defaults.Unit == "" {
			add(d.File, where, "fieldConfig.defaults.unit is not set")
		}
		if len(p.Targets) == 0 {
			add(d.File, where, "panel has no query")
		}
		if p.Datasource != nil && p.Datasource.UID != "-- Mixed --" {
			if s.DatasourceIn(d, p.Datasource) == nil {
				add(d.File, where, "datasource %s is not provisioned", refString(p.Datasource))
			}
			s.checkPortable(d, p.Datasource, where, add)
		}
		refs := map[string]bool{}
		for j := range p.Targets {
			t := &p.Targets[j]
			twhere := where + " query " + t.RefID
			if t.RefID == "" || refs[t.RefID] {
				add(d.File, twhere, "refId is empty or used twice")
			}
			refs[t.RefID] = true
			ref := QueryDatasource(p, t)
			ds := s.DatasourceIn(d, ref)
			if ds == nil {
				add(d.File, twhere, "datasource %s is not provisioned", refString(ref))
				continue
			}
			if t.Datasource != nil {
				s.checkPortable(d, t.Datasource, twhere, add)
			}
			if ref.Type != "" && ref.Type != ds.Type {
				add(d.File, twhere, "datasource %s has type %q, the provisioned one %q", refString(ref), ref.Type, ds.Type)
			}
			text := QueryText(ds, t)
			if strings.TrimSpace(text) == "" {
				field := "expr"
				if ds.Type == TypeInflux {
					field = "query"
				}
				add(d.File, twhere, "%s is empty", field)
			}
			s.checkRefs(d, twhere, text, defined, add)
		}
	}
}

// checkPortable requires a reference through a datasource variable: a
// fixed uid exists only in the Grafana the dashboard was made in, and an
// imported copy shows "datasource not found".
func (s *Set) checkPortable(d *Dashboard, ref *DSRef, where string, add func(file, where, format string, args ...any)) {
	if ref == nil || ref.UID == "-- Mixed --" {
		return
	}
	if d.DatasourceVariable(ref) == nil {
		add(d.File, where, "datasource %s is fixed: refer to it through a datasource variable (\"${ds_%s}\") so the dashboard imports into any Grafana", refString(ref), ref.Type)
	}
}

// checkDatasourceVariable: a datasource variable names a type the checker
// runs, that type is provisioned, and Grafana's import screen asks for it
// (an __inputs entry whose ${NAME} is the variable's current value).
func (s *Set) checkDatasourceVariable(d *Dashboard, v *Variable, where string, add func(file, where, format string, args ...any)) {
	typ := v.Query()
	if typ != TypePrometheus && typ != TypeInflux {
		add(d.File, where, "datasource type %q: want %s or %s", typ, TypePrometheus, TypeInflux)
		return
	}
	if s.datasourceOfType(typ) == nil {
		add(d.File, where, "no %s datasource is provisioned", typ)
	}
	cur := v.CurrentValues()
	for _, in := range d.Inputs {
		if in.Type == "datasource" && in.PluginID == typ && len(cur) == 1 && cur[0] == "${"+in.Name+"}" {
			return
		}
	}
	add(d.File, where, "no __inputs entry {type: datasource, pluginId: %s} whose ${NAME} is the variable's current value (Grafana's import screen asks for it)", typ)
}

// QueryText is a target's query for its datasource type.
func QueryText(ds *Datasource, t *Target) string {
	if ds.Type == TypeInflux {
		return t.Query
	}
	return t.Expr
}

func (s *Set) checkRefs(d *Dashboard, where, q string, defined map[string]bool, add func(file, where, format string, args ...any)) {
	for _, name := range Refs(q) {
		if !defined[name] && !builtins[name] {
			add(d.File, where, "uses $%s, which is not a variable defined before it nor a Grafana built-in", name)
		}
	}
}

func refString(r *DSRef) string {
	switch {
	case r == nil:
		return "(none)"
	case r.UID != "":
		return fmt.Sprintf("uid %q", r.UID)
	}
	return fmt.Sprintf("%q", r.Name)
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func hasLatin(s string) bool {
	n := 0
	for _, r := range s {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			n++
		}
	}
	return n >= 3
}
