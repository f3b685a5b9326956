package reporting

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/region"
)

// TemplateHeader is the template's header. 指标, 地区, 时期, 数值, 单位, 来源
// and 备注 are the canonical layout's columns (ingest reads them); the
// others are context, under headers the canonical reader ignores, so that a
// filled template uploads as it is.
var TemplateHeader = []string{"指标", "中文名称", "地区", "地区名称", "时期", "数值", "单位", "来源", "备注", "目标", "截止日期", "状态"}

// templateUnit is the unit as the template writes it: a spelling the
// validator accepts for the indicator's unit.
func templateUnit(ind *catalog.Indicator) string {
	if ind.Unit == "index" {
		return "指数"
	}
	if s := catalog.Units[ind.Unit]; s != "" {
		return s
	}
	return ind.Unit
}

// TemplateRows are the template's rows for the cells not yet reported
// (open and overdue; held and reported cells are left out), value empty.
func TemplateRows(cells []Cell, regs *region.Table) [][]string {
	var out [][]string
	for i := range cells {
		c := &cells[i]
		if c.State != StateOpen && c.State != StateOverdue {
			continue
		}
		name := c.Region
		if r, ok := regs.Get(c.Region); ok {
			name = r.Name
		}
		target := ""
		for j, t := range c.Targets {
			if j > 0 {
				target += "; "
			}
			target += TargetText(t)
		}
		out = append(out, []string{c.Indicator.ID, c.Indicator.NameZh, c.Region, name, c.Period.String(), "", templateUnit(c.Indicator), "", "",
			target, c.Due.Add(-time.Second).Format("2006-01-02"), StateLabel(c.State, "zh")})
	}
	return out
}

// WriteTemplateCSV writes the template as CSV for Excel (UTF-8 with BOM,
// CRLF, formula cells neutralised).
func WriteTemplateCSV(w io.Writer, cells []Cell, regs *region.Table) error {
	cw, err := ingest.NewCSVWriter(w, true)
	if err != nil {
		return err
	}
	cw.Write(TemplateHeader)
	for _, r := range TemplateRows(cells, regs) {
		cw.Write(r)
	}
	return cw.Flush()
}

// WriteTemplateXLSX writes the template as a workbook: the rows on the
// first sheet 报送模板 (every cell text, so that 370200 and 2020 stay as
// written; the header bold and frozen), instructions on a second sheet 说明.
func WriteTemplateXLSX(w io.Writer, cells []Cell, regs *region.Table, bureau string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "报送模板"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	input, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	for i, wd := range []float64{34, 28, 10, 12, 12, 12, 8, 20, 20, 40, 12, 10} {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(TemplateHeader))
	for i, h := range TemplateHeader {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, r := range TemplateRows(cells, regs) {
		row := make([]any, len(r))
		for j, c := range r {
			style := text
			if j == 5 || j == 7 || j == 8 { // 数值, 来源, 备注: to fill in
				style = input
			}
			row[j] = excelize.Cell{StyleID: style, Value: c}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if _, err := f.NewSheet("说明"); err != nil {
		return err
	}
	lines := []string{
		fmt.Sprintf("%s 报送模板", bureau),
		"在「报送模板」表的「数值」列填写数据(如 98.5、98.5%、1,482),可填「来源」「备注」;其他列请勿修改。",
		"不报送的行请整行删除:数值为空的行会被当作错误退回。",
		"「目标」「截止日期」「状态」等列仅供参考,上传时不读取。",
		"填好后在报送工作台上传本文件(先「校验」,再「提交」),或: qualitymon upload --server URL --token 令牌 本文件.xlsx",
	}
	for i, l := range lines {
		if err := f.SetCellStr("说明", fmt.Sprintf("A%d", i+1), l); err != nil {
			return err
		}
	}
	f.SetColWidth("说明", "A", "A", 110)
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}
