package planextract

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Todo marks a field a person must fill in. `qualitymon check targets`
// refuses it wherever it stands (not a number, not a known code or id).
const Todo = "TODO"

// PlanInfo is what Render writes in the plan header; empty fields come out
// as TODO.
type PlanInfo struct {
	Key, NameZh, Issuer, Published, Region, Source string
	Start, Horizon                                 int
}

// Info fills a PlanInfo from a result and the options of the extraction.
func (r *Result) Info(key, source string, opt Options) PlanInfo {
	info := PlanInfo{Key: key, NameZh: r.Header.NameZh, Issuer: r.Header.Issuer, Published: r.Header.Published,
		Region: r.Header.Region, Source: filepath.Base(source), Start: opt.Start, Horizon: opt.Horizon}
	if info.Start == 0 && len(info.Published) >= 4 {
		info.Start, _ = strconv.Atoi(info.Published[:4])
	}
	if info.Horizon == 0 {
		for _, d := range r.Drafts {
			if d.Deadline != nil && *d.Deadline > info.Horizon && *d.Deadline < 2035 {
				info.Horizon = *d.Deadline
			}
		}
	}
	return info
}

// q quotes a string for YAML (JSON's double-quoted form is valid YAML),
// with private-use characters escaped so that a reviewer sees them.
func q(s string) string {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	out := strings.TrimSuffix(buf.String(), "\n")
	var b strings.Builder
	for _, r := range out {
		if isPrivate(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func orTodo(s string) string {
	if s == "" {
		return Todo
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Render writes the drafts as a plan file for targets/. What the text does
// not settle is TODO, with a comment saying what to decide; flags become
// comments next to the field they question.
func Render(w io.Writer, info PlanInfo, drafts []*Draft) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Drafted by `qualitymon plans extract` from %s: review every target against the text,\n", orTodo(info.Source))
	p("# replace each TODO, delete what is not a target, then run `qualitymon check targets`.\n")
	p("plan:\n")
	p("  key: %s\n", orTodo(info.Key))
	p("  name_zh: %s\n", yamlStr(info.NameZh))
	p("  issuer: %s\n", yamlStr(info.Issuer))
	p("  published: %s\n", yamlStr(info.Published))
	p("  region: %s\n", yamlStr(info.Region))
	p("  start: %s\n", yearOrTodo(info.Start))
	p("  horizon: %s\n", yearOrTodo(info.Horizon))
	p("  source: %s\n", yamlStr(info.Source))
	p("targets:\n")
	ids := map[string]int{}
	clause := "\x00"
	for i, d := range drafts {
		if d.Clause != clause {
			clause = d.Clause
			p("  # ---- %s ----\n", orTodo(clause))
		}
		id := fmt.Sprintf("target-%d", i+1)
		if d.Indicator != nil {
			id = strings.ReplaceAll(*d.Indicator, "_", "-")
		}
		ids[id]++
		if n := ids[id]; n > 1 {
			id = fmt.Sprintf("%s-%d", id, n)
		}
		p("  - id: %s\n", id)
		if d.Indicator != nil {
			p("    indicator: %s", *d.Indicator)
			if d.Match < 1 {
				p("    # matched %q at %.2f: check", d.measure, d.Match)
			}
			p("\n")
		} else {
			p("    indicator: %s    # no catalogue indicator for %q: add one (suggested id %s) or pick an existing id\n", Todo, d.measure, d.Suggested)
		}
		if d.NameZh != "" {
			p("    wording: %s\n", q(d.NameZh))
		}
		switch {
		case len(d.Regions) > 0:
			var rs []string
			for _, r := range d.Regions {
				rs = append(rs, q(r))
			}
			p("    regions: [%s]\n", strings.Join(rs, ", "))
		case d.Group != "":
			p("    region: %s    # %q: give region_group: {parent: %q, level: prefecture, except: [...]}\n", Todo, d.Group, d.Region)
		case d.Average:
			p("    region: %s    # 平均: give average: {parent: %q, level: prefecture}\n", Todo, d.Region)
		default:
			p("    region: %s\n", yamlStr(d.Region))
		}
		p("    comparator: %s\n", q(d.Comparator))
		switch {
		case d.MultipleOf != nil:
			p("    multiple_of: {year: %s, factor: %s}\n", yearOrTodo(d.MultipleOf.Year), num(d.MultipleOf.Factor))
		case d.Modality == "quota":
			// the value is the latest quota
		case d.Value == nil:
			p("    value: %s    # the text gives only a rise of %s: give the level to reach\n", Todo, numPtr(d.Increment))
		case d.Suspicious() && suggestionFor(d, "value") != nil:
			p("    value: %s    # printed %s; suggested %s\n", Todo, num(*d.Value), num(*suggestionFor(d, "value")))
		default:
			p("    value: %s\n", num(*d.Value))
		}
		if d.Deadline != nil {
			p("    deadline: %d\n", *d.Deadline)
		} else {
			p("    # deadline: none in the text; the plan's horizon applies\n")
		}
		if d.Baseline != nil && d.Increment == nil {
			p("    baseline: {year: %s, value: %s}\n", yearOrTodo(d.Baseline.Year), num(d.Baseline.Value))
		}
		if d.Increment != nil && d.Value != nil {
			if s := suggestionFor(d, "increment"); s != nil {
				p("    increment: %s    # printed %s; suggested %s\n", Todo, num(*d.Increment), num(*s))
			} else {
				p("    increment: %s\n", num(*d.Increment))
			}
		}
		p("    modality: %s\n", d.Modality)
		if d.Modality == "quota" {
			if len(d.Quotas) == 0 {
				p("    quotas: %s    # {YEAR: %s, ...} for each year of the plan\n", Todo, numPtr(d.Value))
			} else {
				var ys []int
				for y := range d.Quotas {
					ys = append(ys, y)
				}
				sort.Ints(ys)
				var qs []string
				for _, y := range ys {
					qs = append(qs, fmt.Sprintf("%d: %s", y, num(d.Quotas[y])))
				}
				p("    quotas: {%s}\n", strings.Join(qs, ", "))
			}
		}
		p("    lead_agencies: %s\n", list(d.Lead))
		p("    agencies: %s\n", list(d.Agencies))
		p("    clause: %s\n", q(orTodo(d.Clause)))
		if d.AgenciesFrom != "" {
			p("    agencies_from: %s\n", q(d.AgenciesFrom))
		}
		p("    quote: %s\n", q(d.Quote))
		if d.Printed != "" && d.Suspicious() {
			p("    printed: %s\n", q(d.Printed))
			p("    note: %s\n", q("TODO: say why the printed number is corrected"))
		}
		for _, f := range d.Flags {
			switch f.Code {
			case FlagWeakMatch, FlagNoDeadline:
				continue
			}
			p("    # %s: %s\n", f.Code, f.Reason)
		}
		if d.Strive {
			p("    # strive target (力争)\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func suggestionFor(d *Draft, field string) *float64 {
	for _, f := range d.Flags {
		if f.Field == field && f.Suggested != nil {
			return f.Suggested
		}
	}
	return nil
}

func numPtr(f *float64) string {
	if f == nil {
		return "?"
	}
	return num(*f)
}

func yamlStr(s string) string {
	if s == "" {
		return Todo
	}
	return q(s)
}

func yearOrTodo(y int) string {
	if y == 0 {
		return Todo
	}
	return strconv.Itoa(y)
}

func list(s []string) string {
	var out []string
	for _, x := range s {
		out = append(out, q(x))
	}
	return "[" + strings.Join(out, ", ") + "]"
}
