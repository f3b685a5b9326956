// Package param checks the query parameters of qualitymon's pages, exports
// and JSON APIs at the edge: a region code comes from the region table, an
// indicator id from the catalogue, a plan or target id from the loaded
// plans, a date is parsed, a choice is one of its options. A value that is
// none of these is refused with an *Error (answered 400, 参数无效) and never
// passed on, so nothing a visitor types reaches a query (the store writes
// what does reach Flux through store.FluxString).
package param

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Error is a query parameter whose value is not one the handler accepts.
type Error struct {
	Name  string // the parameter
	Value string // as given
	Want  string // what is expected, in Chinese
}

// Status is the HTTP status of every *Error: 400.
const Status = http.StatusBadRequest

func (e *Error) Error() string {
	return fmt.Sprintf("参数无效:%s=%s,应为%s", e.Name, Excerpt(e.Value), e.Want)
}

// Invalid is the error for parameter name holding value, which should be want.
func Invalid(name, value, want string) *Error { return &Error{Name: name, Value: value, Want: want} }

// excerptRunes is how much of a value an error quotes.
const excerptRunes = 40

// Excerpt quotes at most the first 40 characters of s (Go-quoted, so that
// control characters and invalid UTF-8 show as escapes), with the length
// of what was left out.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == excerptRunes {
			return strconv.Quote(s[:i]) + fmt.Sprintf("…(%d bytes)", len(s))
		}
		n++
	}
	return strconv.Quote(s)
}

// OneOf returns value when it is empty (the parameter not given) or one of
// allowed; otherwise an *Error listing (the first few of) them.
func OneOf(name, value string, allowed []string) (string, error) {
	if value == "" || slices.Contains(allowed, value) {
		return value, nil
	}
	return "", Invalid(name, value, List(allowed))
}

// List names the allowed values of a parameter: the first eight, and how
// many more.
func List(allowed []string) string {
	const show = 8
	if len(allowed) <= show {
		return "以下之一:" + strings.Join(allowed, ", ")
	}
	return fmt.Sprintf("以下之一:%s 等 %d 个", strings.Join(allowed[:show], ", "), len(allowed))
}

// Region resolves a region parameter (a GB/T 2260 code or a province,
// prefecture or county name, as given: no surrounding spaces) against the
// table. A name several divisions share is refused with every candidate
// named, an abolished code with its successor.
func Region(name, value string, regs *region.Table) (*region.Region, error) {
	r, err := regs.Lookup(value)
	switch {
	case err == nil && strings.TrimSpace(value) == value:
		return r, nil
	case errors.Is(err, region.ErrUnknown) || err == nil:
		return nil, Invalid(name, value, "GB/T 2260 地区代码或省、市、县名称")
	}
	return nil, Invalid(name, value, "GB/T 2260 地区代码或唯一的地区名称 ("+err.Error()+")")
}

// Moments reads the parameters at (evaluation date) and known_at (vintage)
// of q as evaluate.Moments does, refusing a value that is neither a date
// nor an RFC 3339 timestamp with an *Error naming the parameter.
func Moments(at, knownAt string, now time.Time) (time.Time, time.Time, error) {
	for _, p := range [][2]string{{"known_at", knownAt}, {"at", at}} {
		if p[1] != "" {
			if _, err := evaluate.ParseMoment(p[1]); err != nil {
				return time.Time{}, time.Time{}, Invalid(p[0], p[1], "日期(如 2021-03-31)或带时区的时刻(如 2021-03-31T12:00:00+08:00)")
			}
		}
	}
	return evaluate.Moments(at, knownAt, now)
}

// Window reads the parameters from and to of a span between two moments
// (dates or RFC 3339 timestamps; a date is the end of that day on now's
// calendar, as for at): to defaults to now, from to def before to. An
// *Error names the parameter that is not a moment, or from when it is not
// before to.
func Window(from, to string, def time.Duration, now time.Time) (time.Time, time.Time, error) {
	want := "日期 (2021-03-31) 或 RFC 3339 时间 (2021-03-31T12:00:00+08:00)"
	end := now
	if to != "" {
		t, _, err := Moments(to, "", now)
		if err != nil {
			return time.Time{}, time.Time{}, Invalid("to", to, want)
		}
		end = t
	}
	start := end.Add(-def)
	if from != "" {
		t, _, err := Moments(from, "", now)
		if err != nil {
			return time.Time{}, time.Time{}, Invalid("from", from, want)
		}
		start = t
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, Invalid("from", from, "早于 to 的"+want)
	}
	return start, end, nil
}

// maxPage bounds a page number (?page=).
const maxPage = 100000

// Page reads a page number (?page=): empty is 1, else an integer 1–100000.
func Page(value string) (int, error) { return Int("page", value, 1, maxPage, 1) }

// Int reads an integer parameter from lo to hi; empty is def.
func Int(name, value string, lo, hi, def int) (int, error) {
	if value == "" {
		return def, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < lo || n > hi {
		return 0, Invalid(name, value, fmt.Sprintf("%d 到 %d 之间的整数", lo, hi))
	}
	return n, nil
}
