package dashcheck

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Grafana's Prometheus variable query functions.
var (
	labelValuesQuery = regexp.MustCompile(`^label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$`)
	labelNamesQuery  = regexp.MustCompile(`^label_names\(\)\s*$`)
	metricsQuery     = regexp.MustCompile(`^metrics\((.+)\)\s*$`)
	queryResultQuery = regexp.MustCompile(`^query_result\((.+)\)\s*$`)
)

// Option is one value a variable offers.
type Option struct{ Text, Value string }

// variable resolves one variable to a selection; for a query variable it
// also returns the result of running its query.
func (r *runner) variable(ctx context.Context, d *Dashboard, v *Variable, sc *Scope) (Value, *Result) {
	var opts []Option
	var res *Result
	switch v.Type {
	case "query":
		res = &Result{File: d.File, Dashboard: d.UID, Panel: "$" + v.Name}
		ds := r.set.DatasourceIn(d, v.Datasource)
		if ds == nil {
			res.Err = errors.New("datasource not provisioned")
			return Value{}, res
		}
		res.Lang = lang(ds)
		var err error
		opts, res.Query, err = r.variableOptions(ctx, ds, v, sc)
		if err == nil && len(opts) == 0 && v.Regex != "" {
			err = fmt.Errorf("no answer matches the variable's regex %s", v.Regex)
		}
		res.Series, res.Err = len(opts), err
	case "datasource":
		if ds := r.set.datasourceOfType(v.Query()); ds != nil {
			opts = []Option{{ds.Name, ds.UID}}
		}
	case "custom":
		opts = customOptions(v.Query())
	case "interval":
		for _, s := range strings.Split(v.Query(), ",") {
			opts = append(opts, Option{strings.TrimSpace(s), strings.TrimSpace(s)})
		}
	default: // constant, textbox
		q := v.Query()
		if cur := v.CurrentValues(); len(cur) > 0 && v.Type == "textbox" && cur[0] != "" {
			q = cur[0]
		}
		opts = []Option{{q, q}}
	}
	return Select(v, opts), res
}

// variableOptions runs a query variable's query and applies its regex and
// sort.
func (r *runner) variableOptions(ctx context.Context, ds *Datasource, v *Variable, sc *Scope) ([]Option, string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	q := strings.TrimSpace(sc.Interpolate(v.Query()))
	var raw []string
	var err error
	if ds.Type == TypeInflux {
		q = FluxMacros(q, sc, r.Influx.Bucket, r.Influx.Org)
		raw, err = r.fluxRows(ctx, q)
	} else {
		raw, err = r.promVariable(ctx, q, sc)
	}
	if err != nil {
		return nil, q, err
	}
	opts, err := ApplyRegex(v.Regex, raw)
	if err != nil {
		return nil, q, err
	}
	return SortOptions(opts, v.Sort), q, nil
}

func (r *runner) promVariable(ctx context.Context, q string, sc *Scope) ([]string, error) {
	if m := labelValuesQuery.FindStringSubmatch(q); m != nil {
		return r.prom.labelValues(ctx, m[2], m[1], sc.From, sc.To)
	}
	if labelNamesQuery.MatchString(q) {
		var names []string
		err := r.prom.get(ctx, "/api/v1/labels", nil, &names)
		return names, err
	}
	if m := metricsQuery.FindStringSubmatch(q); m != nil {
		names, err := r.prom.labelValues(ctx, "__name__", "", sc.From, sc.To)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(m[1])
		if err != nil {
			return nil, fmt.Errorf("metrics(%s): %w", m[1], err)
		}
		var out []string
		for _, n := range names {
			if re.MatchString(n) {
				out = append(out, n)
			}
		}
		return out, nil
	}
	if m := queryResultQuery.FindStringSubmatch(q); m != nil {
		// Grafana runs query_result at the end of the dashboard's range.
		res, s, err := r.prom.instantSeries(ctx, m[1], sc.To)
		if err != nil {
			return nil, err
		}
		return queryResultText(res, s), nil
	}
	return nil, fmt.Errorf("unsupported Prometheus variable query %q (want label_values, label_names, metrics or query_result)", q)
}

// customOptions splits a custom variable's "a,b" or "Text : value" list.
func customOptions(q string) []Option {
	var out []Option
	for _, s := range strings.Split(q, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if text, val, ok := strings.Cut(s, " : "); ok {
			out = append(out, Option{strings.TrimSpace(text), strings.TrimSpace(val)})
			continue
		}
		out = append(out, Option{s, s})
	}
	return out
}

// ApplyRegex filters and extracts option values as Grafana does with a
// variable's regex (/re/flags): a non-matching value is dropped; named
// groups "value" and "text" set the value and the text; else the first
// group, else the whole match, is both.
func ApplyRegex(re string, raw []string) ([]Option, error) {
	var out []Option
	seen := map[string]bool{}
	addOpt := func(o Option) {
		if !seen[o.Value] {
			seen[o.Value] = true
			out = append(out, o)
		}
	}
	if re == "" {
		for _, s := range raw {
			addOpt(Option{s, s})
		}
		return out, nil
	}
	pattern := re
	if strings.HasPrefix(re, "/") {
		end := strings.LastIndex(re, "/")
		if end <= 0 {
			return nil, fmt.Errorf("regex %s has no closing /", re)
		}
		pattern = re[1:end]
		if strings.Contains(re[end+1:], "i") {
			pattern = "(?i)" + pattern
		}
	}
	rx, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("regex %s: %w", re, err)
	}
	iValue, iText := rx.SubexpIndex("value"), rx.SubexpIndex("text")
	for _, s := range raw {
		m := rx.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		var o Option
		switch {
		case iValue > 0 || iText > 0:
			if iValue > 0 {
				o.Value = m[iValue]
			}
			if iText > 0 {
				o.Text = m[iText]
			}
			if o.Value == "" {
				o.Value = o.Text
			}
			if o.Text == "" {
				o.Text = o.Value
			}
		case len(m) > 1:
			o = Option{m[1], m[1]}
		default:
			o = Option{m[0], m[0]}
		}
		addOpt(o)
	}
	return out, nil
}

// SortOptions applies Grafana's variable sort: 0 none, 1/2 alphabetical
// ascending/descending, 3/4 numerical, 5/6 alphabetical ignoring case.
func SortOptions(opts []Option, order int) []Option {
	if order == 0 {
		return opts
	}
	key := func(o Option) string { return o.Text }
	less := func(a, b Option) bool { return key(a) < key(b) }
	switch order {
	case 3, 4:
		less = func(a, b Option) bool {
			x, _ := strconv.ParseFloat(numPrefix(a.Text), 64)
			y, _ := strconv.ParseFloat(numPrefix(b.Text), 64)
			return x < y
		}
	case 5, 6:
		less = func(a, b Option) bool { return strings.ToLower(a.Text) < strings.ToLower(b.Text) }
	}
	out := slices.Clone(opts)
	sort.SliceStable(out, func(i, j int) bool {
		if order%2 == 0 {
			return less(out[j], out[i])
		}
		return less(out[i], out[j])
	})
	return out
}

var numRe = regexp.MustCompile(`-?\d+(\.\d+)?`)

func numPrefix(s string) string { return numRe.FindString(s) }

// Select picks a variable's selection from its options as a dashboard
// opened without URL parameters does: the saved selection when every saved
// value is still offered (or All), else the first option.
func Select(v *Variable, opts []Option) Value {
	cur := v.CurrentValues()
	if v.IncludeAll && len(cur) == 1 && cur[0] == "$__all" {
		all := Value{All: true, AllValue: v.AllValue}
		for _, o := range opts {
			all.Values = append(all.Values, o.Value)
		}
		return all
	}
	if len(cur) > 0 {
		ok := true
		for _, c := range cur {
			if !slices.ContainsFunc(opts, func(o Option) bool { return o.Value == c }) {
				ok = false
			}
		}
		if ok {
			return Value{Values: cur}
		}
	}
	if len(opts) == 0 {
		return Value{Values: []string{""}}
	}
	return Value{Values: []string{opts[0].Value}}
}
