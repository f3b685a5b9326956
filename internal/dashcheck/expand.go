package dashcheck

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// varRef matches a template variable reference the way Grafana does:
// $name, [[name]] or [[name:format]], ${name}, ${name.field} or ${name:format}.
var varRef = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// Refs returns the names of the variables a query refers to, built-ins
// ($__interval …) included, in order of appearance.
func Refs(q string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(q, -1) {
		out = append(out, firstNonEmpty(m[1], m[2], m[4]))
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// builtins are Grafana's global variables a query may use.
var builtins = map[string]bool{
	"__interval": true, "__interval_ms": true, "__rate_interval": true, "__rate_interval_ms": true,
	"__range": true, "__range_s": true, "__range_ms": true, "__from": true, "__to": true,
	"__dashboard": true, "__org": true, "__user": true, "timeFilter": true,
}

// Value is the selection of a variable.
type Value struct {
	Values []string
	// All is set when "All" is selected; AllValue, when set, replaces the
	// values in every format (Grafana's custom all value).
	All      bool
	AllValue string
}

// format renders the selection in a Grafana format ("" is the default:
// the value itself, or a regex alternation of several).
func (v Value) format(fmtName string) string {
	if v.All && v.AllValue != "" {
		return v.AllValue
	}
	switch fmtName {
	case "regex":
		if len(v.Values) == 1 {
			return regexp.QuoteMeta(v.Values[0])
		}
		q := make([]string, len(v.Values))
		for i, s := range v.Values {
			q[i] = regexp.QuoteMeta(s)
		}
		return "(" + strings.Join(q, "|") + ")"
	case "pipe":
		return strings.Join(v.Values, "|")
	case "csv", "raw", "text":
		return strings.Join(v.Values, ",")
	}
	if len(v.Values) == 1 {
		return v.Values[0]
	}
	return "(" + strings.Join(v.Values, "|") + ")"
}

// Scope is what Grafana substitutes into one query.
type Scope struct {
	From, To time.Time
	// Interval is $__interval (already rounded and clamped).
	Interval time.Duration
	// Scrape is the Prometheus datasource's scrape interval (timeInterval),
	// the base of $__rate_interval.
	Scrape time.Duration
	Vars   map[string]Value
}

// Interpolate substitutes template variables and Grafana's built-in
// variables. Unknown variables are left as they are (Check reports them).
func (sc *Scope) Interpolate(q string) string {
	return varRef.ReplaceAllStringFunc(q, func(m string) string {
		sm := varRef.FindStringSubmatch(m)
		name := firstNonEmpty(sm[1], sm[2], sm[4])
		format := firstNonEmpty(sm[3], sm[6])
		if v, ok := sc.builtin(name); ok {
			return v
		}
		if v, ok := sc.Vars[name]; ok {
			return v.format(format)
		}
		return m
	})
}

func (sc *Scope) builtin(name string) (string, bool) {
	rng := sc.To.Sub(sc.From)
	rate := max(sc.Interval+sc.Scrape, 4*sc.Scrape)
	switch name {
	case "__interval":
		return FormatInterval(sc.Interval), true
	case "__interval_ms":
		return strconv.FormatInt(sc.Interval.Milliseconds(), 10), true
	case "__rate_interval":
		return FormatInterval(rate), true
	case "__rate_interval_ms":
		return strconv.FormatInt(rate.Milliseconds(), 10), true
	case "__range":
		return strconv.FormatInt(int64(math.Round(rng.Seconds())), 10) + "s", true
	case "__range_s":
		return strconv.FormatInt(int64(math.Round(rng.Seconds())), 10), true
	case "__range_ms":
		return strconv.FormatInt(rng.Milliseconds(), 10), true
	case "__from":
		return strconv.FormatInt(sc.From.UnixMilli(), 10), true
	case "__to":
		return strconv.FormatInt(sc.To.UnixMilli(), 10), true
	}
	return "", false
}

// fluxMacro matches what Grafana's Flux backend replaces: any a.b whose b is
// one of its macro names.
var fluxMacro = regexp.MustCompile(`([a-zA-Z]+)\.([a-zA-Z]+)`)

// FluxMacros makes the substitutions Grafana's InfluxDB (Flux) backend makes
// after the template variables: v.timeRangeStart and v.timeRangeStop become
// RFC 3339 time literals, v.windowPeriod the interval as a Go duration,
// v.defaultBucket and v.organization quoted strings, then $__interval_ms and
// $__interval.
func FluxMacros(q string, sc *Scope, bucket, org string) string {
	q = fluxMacro.ReplaceAllStringFunc(q, func(m string) string {
		switch m[strings.IndexByte(m, '.')+1:] {
		case "timeRangeStart":
			return sc.From.UTC().Format(time.RFC3339Nano)
		case "timeRangeStop":
			return sc.To.UTC().Format(time.RFC3339Nano)
		case "windowPeriod":
			return sc.Interval.String()
		case "defaultBucket", "bucket":
			return strconv.Quote(bucket)
		case "organization":
			return strconv.Quote(org)
		}
		return m
	})
	q = strings.ReplaceAll(q, "$__interval_ms", strconv.FormatInt(sc.Interval.Milliseconds(), 10))
	return strings.ReplaceAll(q, "$__interval", FormatInterval(sc.Interval))
}

// FormatInterval renders a duration as Grafana does for $__interval: in its
// largest whole unit (1y, 30d, 1h, 15s, 100ms).
func FormatInterval(d time.Duration) string {
	ms := d.Milliseconds()
	units := []struct {
		ms   int64
		name string
	}{{31536000000, "y"}, {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}}
	for _, u := range units {
		if n := ms / u.ms; n > 0 {
			return strconv.FormatInt(n, 10) + u.name
		}
	}
	return strconv.FormatInt(max(ms, 1), 10) + "ms"
}

// RoundInterval rounds a raw interval to Grafana's "nice" steps.
func RoundInterval(d time.Duration) time.Duration {
	ms := d.Milliseconds()
	steps := []struct{ below, to int64 }{
		{15, 10}, {35, 20}, {75, 50}, {150, 100}, {350, 200}, {750, 500}, {1500, 1000}, {3500, 2000},
		{7500, 5000}, {12500, 10000}, {17500, 15000}, {25000, 20000}, {45000, 30000}, {90000, 60000},
		{210000, 120000}, {450000, 300000}, {750000, 600000}, {1050000, 900000}, {1500000, 1200000},
		{2700000, 1800000}, {5400000, 3600000}, {9000000, 7200000}, {16200000, 10800000},
		{32400000, 21600000}, {86400000, 43200000}, {604800000, 86400000}, {1814400000, 604800000},
		{3628800000, 2592000000},
	}
	for _, s := range steps {
		if ms < s.below {
			return time.Duration(s.to) * time.Millisecond
		}
	}
	return 31536000000 * time.Millisecond
}

// CalcInterval is $__interval for a time range drawn with maxPoints points,
// no shorter than min: the raw interval rounded, then clamped.
func CalcInterval(from, to time.Time, maxPoints int, min time.Duration) time.Duration {
	if maxPoints <= 0 {
		maxPoints = 1000
	}
	d := RoundInterval(to.Sub(from) / time.Duration(maxPoints))
	return max(d, min)
}

// ParseDuration reads a Grafana duration: 15s, 5m, 1h, 7d, 1w, 1y, 100ms.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, ">")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute,
		"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour,
		"y": 365 * 24 * time.Hour}[s[i:]]
	if unit == 0 {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 15s, 5m, 1h, 7d)", s)
	}
	return time.Duration(n) * unit, nil
}

// relTime matches Grafana's relative times: now, now-7d, now+1y, now-1y/y.
var relTime = regexp.MustCompile(`^now(?:([+-])(\d+)([smhdwMy]))?(?:/([smhdwMy]))?$`)

// ParseTime resolves a dashboard time ("now-30d", "now+1y", "now/d" or an
// RFC 3339 / epoch-milliseconds time) against now, in UTC. Rounding (/d)
// goes to the start of the unit.
func ParseTime(s string, now time.Time) (time.Time, error) {
	now = now.UTC()
	m := relTime.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), nil
		}
		return time.Time{}, fmt.Errorf("invalid time %q (want now, now-30d, now+1y or RFC 3339)", s)
	}
	t := now
	if m[1] != "" {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "-" {
			n = -n
		}
		switch m[3] {
		case "y":
			t = t.AddDate(n, 0, 0)
		case "M":
			t = t.AddDate(0, n, 0)
		case "w":
			t = t.AddDate(0, 0, 7*n)
		case "d":
			t = t.AddDate(0, 0, n)
		default:
			d, _ := ParseDuration("1" + m[3])
			t = t.Add(time.Duration(n) * d)
		}
	}
	switch m[4] {
	case "y":
		t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case "M":
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "d":
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "h":
		t = t.Truncate(time.Hour)
	case "m":
		t = t.Truncate(time.Minute)
	}
	return t, nil
}
