package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// outputFlags are the output options of the listing commands (status,
// targets): --format table|json|csv and --lang zh|en.
type outputFlags struct {
	Format string `help:"Output format: table (aligned text), json, or csv (UTF-8 with a byte-order mark, opens in Excel)." default:"table" enum:"table,json,csv"`
	Lang   string `help:"Language of the table and CSV headers and labels: zh (中文) or en." default:"zh" enum:"zh,en"`
}

// column is one column of a listing: its header in both languages and how a
// row renders in it.
type column[T any] struct {
	zh, en string
	cell   func(row *T, lang string) string
}

// writeRows writes rows as an aligned table or as CSV, by f.Format; JSON is
// the caller's (each command has its documented JSON shape).
func writeRows[T any](w io.Writer, f outputFlags, cols []column[T], rows []T) error {
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.en
		if f.Lang == "zh" {
			header[i] = c.zh
		}
	}
	cells := make([][]string, len(rows))
	for r := range rows {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			cells[r][i] = c.cell(&rows[r], f.Lang)
		}
	}
	if f.Format == "csv" {
		return ingest.WriteCSV(w, true, header, cells)
	}
	return writeTable(w, header, cells)
}

// writeTable aligns columns by display width: a Chinese character takes two
// terminal cells (East Asian Width), which tabwriter counts as one.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, row := range append([][]string{header}, rows...) {
		b.Reset()
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c) // no trailing blanks
				break
			}
			b.WriteString(runewidth.FillRight(c, width[i]))
			b.WriteString("  ")
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// statusSummary is the closing line of the status table, in words:
// "141 evaluations as of 2019-12-31: 58 achieved, 3 at risk, …".
func statusSummary(counts map[evaluate.Status]int, total int, asOf, lang string) string {
	var parts []string
	for _, s := range evaluate.Statuses {
		if lang == "zh" {
			parts = append(parts, fmt.Sprintf("%s %d 项", s.Label(lang), counts[s]))
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s.Label(lang)))
		}
	}
	if lang == "zh" {
		return fmt.Sprintf("截至 %s 共 %d 项评估:%s。", asOf, total, strings.Join(parts, ","))
	}
	return fmt.Sprintf("%d evaluations as of %s: %s.", total, asOf, strings.Join(parts, ", "))
}

// unitsEn is how a catalogue unit reads after a number in English
// (catalog.Units has the Chinese symbols).
var unitsEn = map[string]string{"percent": "%", "count": "", "10k_mu": "×10k mu", "score": "points", "days": "days", "ug_m3": "µg/m³", "index": ""}

// unitLabel is how a catalogue unit id reads after a number.
func unitLabel(unit, lang string) string {
	m := unitsEn
	if lang == "zh" {
		m = catalog.Units
	}
	if l, ok := m[unit]; ok {
		return l
	}
	return unit
}

func pick(lang, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

// statusColumns are the columns of `status` as a table or CSV.
var statusColumns = []column[evaluate.Evaluation]{
	{"规划", "PLAN", func(e *evaluate.Evaluation, _ string) string { return e.Plan }},
	{"目标", "TARGET", func(e *evaluate.Evaluation, _ string) string { return e.Target }},
	{"地区", "REGION", func(e *evaluate.Evaluation, _ string) string { return e.Region }},
	{"状态", "STATUS", func(e *evaluate.Evaluation, l string) string { return e.Status.Label(l) }},
	{"实际值", "ACTUAL", func(e *evaluate.Evaluation, _ string) string { return num(e.Actual) }},
	{"时期", "PERIOD", func(e *evaluate.Evaluation, _ string) string { return orDash(e.Period) }},
	{"比较", "CMP", func(e *evaluate.Evaluation, _ string) string { return e.Comparator }},
	{"目标值", "TARGET", func(e *evaluate.Evaluation, _ string) string { return anyNum(e.TargetValue) }},
	{"差距", "GAP", func(e *evaluate.Evaluation, _ string) string { return num(e.Gap) }},
	{"单位", "UNIT", func(e *evaluate.Evaluation, l string) string { return unitLabel(e.Unit, l) }},
	{"期限", "DEADLINE", func(e *evaluate.Evaluation, _ string) string {
		if e.Deadline == nil {
			return "-"
		}
		return strconv.Itoa(*e.Deadline)
	}},
	{"数据过期", "STALE", func(e *evaluate.Evaluation, l string) string {
		if e.Stale {
			return pick(l, "过期", "stale")
		}
		return ""
	}},
	{"定论", "SETTLED", func(e *evaluate.Evaluation, l string) string {
		if e.Settled {
			return pick(l, "已定", "settled")
		}
		return ""
	}},
	{"依据", "BASIS", func(e *evaluate.Evaluation, l string) string { return e.Basis.Label(l) }},
	{"条款", "CLAUSE", func(e *evaluate.Evaluation, _ string) string { return e.Clause }},
	{"牵头单位", "LEAD", func(e *evaluate.Evaluation, _ string) string { return orDash(e.LeadAgency) }},
	{"指标", "INDICATOR", func(e *evaluate.Evaluation, _ string) string { return e.RegionName + " " + e.Wording }},
}

// statusCSVColumns add what is too long for a terminal: the basis in words
// and the plan's sentence.
var statusCSVColumns = append(statusColumns[:len(statusColumns):len(statusColumns)],
	column[evaluate.Evaluation]{"依据说明", "BASIS_TEXT", func(e *evaluate.Evaluation, l string) string { return e.Basis.Sentence(l) }},
	column[evaluate.Evaluation]{"原文", "QUOTE", func(e *evaluate.Evaluation, _ string) string { return e.Quote }},
)

func writeStatus(env *Env, f outputFlags, evals []evaluate.Evaluation, at time.Time) error {
	switch f.Format {
	case "json":
		return newJSONEncoder(env.Stdout).Encode(evals)
	case "csv":
		return writeRows(env.Stdout, f, statusCSVColumns, evals)
	}
	if err := writeRows(env.Stdout, f, statusColumns, evals); err != nil {
		return err
	}
	counts := map[evaluate.Status]int{}
	for _, e := range evals {
		counts[e.Status]++
	}
	_, err := fmt.Fprintf(env.Stdout, "\n%s\n", statusSummary(counts, len(evals), at.Format("2006-01-02"), f.Lang))
	return err
}

// targetColumns are the columns of `targets` as a table or CSV.
var targetColumns = []column[targetJSON]{
	{"规划", "PLAN", func(j *targetJSON, _ string) string { return j.Plan }},
	{"目标", "TARGET", func(j *targetJSON, _ string) string { return j.ID }},
	{"地区", "REGION", func(j *targetJSON, l string) string {
		switch {
		case len(j.AverageOf) > 0:
			return fmt.Sprintf(pick(l, "%d 个地区平均", "avg of %d"), len(j.AverageOf))
		case len(j.Regions) > 0:
			return fmt.Sprintf(pick(l, "%d 个地区", "%d regions"), len(j.Regions))
		}
		return j.Region
	}},
	{"比较", "CMP", func(j *targetJSON, _ string) string { return j.Comparator }},
	{"目标值", "VALUE", func(j *targetJSON, l string) string {
		switch {
		case !j.Tracked:
			return evaluate.UntrackedLabel(l)
		case j.MultipleOf != nil:
			return fmt.Sprintf(pick(l, "%d年的%g倍", "%[2]g × %[1]d"), j.MultipleOf.Year, j.MultipleOf.Factor)
		}
		return anyNum(j.Value)
	}},
	{"单位", "UNIT", func(j *targetJSON, l string) string { return unitLabel(j.Unit, l) }},
	{"期限", "DEADLINE", func(j *targetJSON, _ string) string {
		if j.Deadline == nil {
			return "-"
		}
		return strconv.Itoa(*j.Deadline)
	}},
	{"方式", "MODALITY", func(j *targetJSON, l string) string { return modalityLabel(j.Modality, l) }},
	{"指标", "INDICATOR", func(j *targetJSON, l string) string { return pick(l, j.Wording, orDash(j.NameEn)) }},
}

// modalityLabel names how a target is judged.
func modalityLabel(m, lang string) string {
	if l, ok := plan.ModalityZh[m]; ok && lang == "zh" {
		return l
	}
	return m
}

func targetsSummary(w io.Writer, targets, plans int, lang string) error {
	_, err := fmt.Fprintf(w, pick(lang, "\n%[2]d 个规划共 %[1]d 项目标。\n", "\n%d targets in %d plan(s).\n"), targets, plans)
	return err
}

// anyNum formats a float64 or a *float64 ("-" when nil) as num does.
func anyNum(v any) string {
	switch x := v.(type) {
	case float64:
		return num(&x)
	case *float64:
		return num(x)
	}
	return fmt.Sprint(v)
}
