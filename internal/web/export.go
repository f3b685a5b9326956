package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/param"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// exportHeader is the scorecard as a table: the columns of both exports.
var exportHeader = []string{"规划", "规划名称", "目标", "指标(规划表述)", "地区代码", "地区", "状态", "状态代码",
	"实际值", "单位", "时期", "比较", "目标值", "差距", "期限", "进度比", "预测值", "依据代码", "依据",
	"已定论", "数据过期", "最近数据截至", "牵头单位", "条款"}

// exportRows calls row with each evaluation of the filter (plan and
// region, from the index) and then with each untracked commitment of the
// plan (every plan when empty) in the region, as cells: the rows are made
// one at a time as they are written, never held all at once.
func (s *Site) exportRows(e *evaluation, f filter, row func([]string) error) error {
	yes := func(b bool) string {
		if b {
			return "是"
		}
		return ""
	}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return shell.Float(*p)
	}
	_, pos := e.x.find(f, 0, len(e.evals))
	for _, i := range pos {
		ev := &e.evals[i]
		p, _ := s.Evaluator.Set.Plan(ev.Plan)
		d := ""
		if ev.Deadline != nil {
			d = strconv.Itoa(*ev.Deadline)
		}
		if err := row([]string{ev.Plan, p.NameZh, ev.Target, ev.Wording, ev.Region, ev.RegionName, ev.Status.Label("zh"), string(ev.Status),
			num(ev.Actual), shell.UnitSymbol(ev.Unit), periodText(ev.Period), shell.CmpSymbol(ev.Comparator), num(ev.TargetValue), num(ev.Gap), d, num(ev.Progress), num(ev.Projected),
			ev.Basis.Code, ev.Basis.Zh, yes(ev.Settled), yes(ev.Stale), ev.LastObservationDay, strings.Join(ev.LeadAgencies, "、"), ev.Clause}); err != nil {
			return err
		}
	}
	for _, t := range s.Evaluator.Set.Targets(f.Plan) {
		if t.IsTracked() || f.Region != "" && !slices.Contains(regionChain(s.Evaluator.Set.Regions, t.Region), f.Region) {
			continue
		}
		if err := row(untrackedRow(s, t)); err != nil {
			return err
		}
	}
	return nil
}

func untrackedRow(s *Site, t *plan.Target) []string {
	v := ""
	if t.Value != nil {
		v = shell.Float(*t.Value)
	}
	unit := ""
	if t.Ind != nil {
		unit = shell.UnitSymbol(t.Ind.Unit)
	}
	return []string{t.Plan.Key, t.Plan.NameZh, t.ID, t.Name(), t.Region, s.regionName(t.Region), evaluate.UntrackedLabel("zh"), "untracked",
		"", unit, "", shell.CmpSymbol(t.Comparator), v, "", strconv.Itoa(t.Due()), "", "", "untracked", t.ReasonText(),
		"", "", "", strings.Join(t.LeadAgencies, "、"), t.Clause}
}

// exportData reads the exports' parameters (plan, region) and evaluates.
func (s *Site) exportData(r *http.Request) (e *evaluation, f filter, name string, err error) {
	q := r.URL.Query()
	if f.Plan, err = param.OneOf("plan", q.Get("plan"), s.Evaluator.Set.Keys()); err != nil {
		return nil, f, "", err
	}
	reg, err := s.regionParam(q.Get("region"))
	if err != nil {
		return nil, f, "", err
	}
	_, e, err = s.evaluated(r, f.Plan)
	if err != nil {
		return nil, f, "", err
	}
	name = "qualitymon-status"
	if f.Plan != "" {
		name += "-" + f.Plan
	}
	if reg != nil {
		f.Region = reg.Code
		name += "-" + reg.Code
	}
	return e, f, name + "-" + e.m.At.Format("20060102"), nil
}

// flushEvery is how many rows an export writes between flushes to the
// client: the download starts at once and nothing is held whole.
const flushEvery = 500

// exportCSV: UTF-8 with a byte-order mark (so Excel reads it as UTF-8),
// CRLF, streamed: written and flushed as the rows are made.
func (s *Site) exportCSV(w http.ResponseWriter, r *http.Request) error {
	e, f, name, err := s.exportData(r)
	if err != nil {
		return err
	}
	shell.AttachHeader(w, "text/csv; charset=utf-8", name+".csv")
	rc := http.NewResponseController(w)
	cw, err := ingest.NewCSVWriter(w, true)
	if err == nil {
		n := 0
		err = cw.Write(exportHeader)
		if err == nil {
			err = s.exportRows(e, f, func(row []string) error {
				if n++; n%flushEvery == 0 {
					if err := cw.Flush(); err != nil {
						return err
					}
					if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
						return err
					}
				}
				return cw.Write(row)
			})
		}
		if err == nil {
			err = cw.Flush()
		}
	}
	return s.streamed(r, err)
}

// streamed ends a streamed download: once its body has begun no error
// page can follow, so a failed write (the client went away) is logged.
func (s *Site) streamed(r *http.Request, err error) error {
	if err != nil {
		s.Logger.Warn("export interrupted", "path", r.URL.Path, "err", err)
	}
	return nil
}

// attachCSV answers a table as a CSV download: UTF-8 with a byte-order
// mark, CRLF.
func attachCSV(w http.ResponseWriter, filename string, header []string, rows [][]string) error {
	var b bytes.Buffer
	if err := ingest.WriteCSV(&b, true, header, rows); err != nil {
		return err
	}
	return shell.Attach(w, "text/csv; charset=utf-8", filename, b.Bytes())
}

// exportXLSX writes the sheet 目标状态, with numbers as numbers, its
// header frozen and a filter table over every column, and the sheet 说明
// with the evaluation moment. excelize makes the workbook with the
// sheet's header only; its rows are then streamed into the workbook's zip
// as they are made (streamXLSX), so the download starts at once and
// nothing is held whole.
func (s *Site) exportXLSX(w http.ResponseWriter, r *http.Request) error {
	e, flt, name, err := s.exportData(r)
	if err != nil {
		return err
	}
	m := e.m
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", statusSheet)
	if err := momentSheet(f, m, s.Now(), s.exportIndicators(r.URL.Query().Get("plan"))); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(statusSheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	sw.SetColWidth(4, 4, 36)
	sw.SetColWidth(19, 19, 60)
	head := make([]any, len(exportHeader))
	for i, h := range exportHeader {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{}); err != nil {
		return err
	}
	// The table's range is that of the header and one row until the rows
	// are counted (streamXLSX).
	if err := sw.AddTable(&excelize.Table{Range: "A1:" + lastColumn + "2", Name: "status", StyleName: "TableStyleLight1", ShowRowStripes: ptrTo(false)}); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	var skeleton bytes.Buffer
	if _, err := f.WriteTo(&skeleton); err != nil {
		return err
	}
	shell.AttachHeader(w, upload.TypeXLSX, name+".xlsx")
	err = streamXLSX(w, skeleton.Bytes(), func(row func([]string) error) error { return s.exportRows(e, flt, row) })
	return s.streamed(r, err)
}

// exportFigures is the figures and revisions of one target page, as CSV
// (Open SDG's "download the chart's data").
func (s *Site) exportFigures(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, ok := s.Evaluator.Set.Plan(q.Get("plan"))
	if !ok {
		return param.Invalid("plan", q.Get("plan"), "规划标识:"+param.List(s.Evaluator.Set.Keys()))
	}
	id := q.Get("target")
	i := slices.IndexFunc(p.Targets, func(t *plan.Target) bool { return t.ID == id })
	if i < 0 {
		var ids []string
		for _, t := range p.Targets {
			ids = append(ids, t.ID)
		}
		return param.Invalid("target", id, "规划 "+p.Key+" 的目标标识:"+param.List(ids))
	}
	t := p.Targets[i]
	m, err := s.moment(r)
	if err != nil {
		return err
	}
	reg, err := unitOf(t, q.Get("region"))
	if err != nil {
		return err
	}
	regions := t.AverageOf
	if len(regions) == 0 {
		regions = t.Units
		if reg != "" {
			regions = []string{reg}
		}
	}
	hist, err := s.Store.SeriesHistory(r.Context(), t.Indicator, regions)
	if err != nil {
		return err
	}
	hist = asKnown(hist, m)
	var rows [][]string
	for i, h := range hist {
		cur := "是"
		if i+1 < len(hist) && hist[i+1].Key() == h.Key() {
			cur = ""
		}
		rows = append(rows, []string{h.Indicator, h.Region, s.regionName(h.Region), h.Period.String(), shell.Float(h.Value), shell.UnitSymbol(t.Ind.Unit),
			strconv.Itoa(h.Revision), h.ReportedAt.Format("2006-01-02T15:04:05Z07:00"), h.Source, h.Note, cur})
	}
	return attachCSV(w, fmt.Sprintf("%s-%s.csv", t.Plan.Key, t.ID),
		[]string{"指标", "地区代码", "地区", "时期", "数值", "单位", "修订次数", "报送时间", "来源", "备注", "当前值"}, rows)
}

// exportIndicators are the indicators the plan's tracked targets use
// (every plan's when empty), sorted by id: the 指标说明 rows of the export.
func (s *Site) exportIndicators(planKey string) []*catalog.Indicator {
	seen := map[string]bool{}
	var out []*catalog.Indicator
	for _, t := range s.Evaluator.Set.Tracked(planKey) {
		if t.Ind != nil && !seen[t.Ind.ID] {
			seen[t.Ind.ID] = true
			out = append(out, t.Ind)
		}
	}
	slices.SortFunc(out, func(a, b *catalog.Indicator) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// indicatorHeader heads the 指标说明 table of the sheet 说明.
var indicatorHeader = []string{"指标代码", "指标名称", "单位", "频率", "发布时滞", "口径", "计算方法", "数据来源单位", "口径依据"}

// momentSheet adds the sheet 说明: the evaluation date, the vintage and
// when the file was made, then 指标说明: what each indicator of the export
// means, how it is computed and who compiles it (the catalogue's fields).
func momentSheet(f *excelize.File, m Moment, now time.Time, inds []*catalog.Indicator) error {
	const sheet = "说明"
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	known := "目前已报送的全部数据"
	if !m.KnownAt.IsZero() {
		known = m.KnownAt.Format("2006-01-02 15:04") + " 前报送的数据与修订"
	}
	for i, kv := range [][2]string{
		{"评估日期", m.At.Format("2006-01-02 15:04")},
		{"数据截至", known},
		{"导出时间", now.Format("2006-01-02 15:04")},
		{"说明", "每行是一项目标在一个地区的评估;表头可筛选、已冻结。"},
	} {
		if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(i+1), &[]any{kv[0], kv[1]}); err != nil {
			return err
		}
	}
	if len(inds) > 0 {
		if err := f.SetSheetRow(sheet, "A6", &[]any{"指标说明"}); err != nil {
			return err
		}
		head := make([]any, len(indicatorHeader))
		for i, h := range indicatorHeader {
			head[i] = h
		}
		if err := f.SetSheetRow(sheet, "A7", &head); err != nil {
			return err
		}
		for i, ind := range inds {
			row := []any{ind.ID, ind.NameZh, unitNameZh[ind.Unit], or(frequencyZh[ind.Frequency], ind.Frequency), ind.LagText(true),
				ind.Definition, ind.Method, ind.Source, ind.Reference}
			if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(i+8), &row); err != nil {
				return err
			}
		}
		if err := f.SetColWidth(sheet, "F", "H", 60); err != nil {
			return err
		}
	}
	return f.SetColWidth(sheet, "B", "B", 48)
}

func ptrTo[T any](v T) *T { return &v }
