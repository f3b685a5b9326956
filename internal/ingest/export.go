package ingest

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/period"
)

// The 国家统计局 (data.stats.gov.cn) export layout:
//
//	数据库：分省年度数据
//	指标：食品抽检合格率(%)
//	时间：最近5年
//	地区,2024年,2023年,2022年,2021年,2020年
//	北京市,98.5,98.1,,97.2,96.0
//	…
//	注：…
//	数据来源：国家统计局
//
// The indicator comes from the 指标 line (its unit in brackets), the periods
// from the header, one row per region; an empty cell is a figure not
// reported. Reading stops at the first footer line (注：, 数据来源：).

// metaKeys are the metadata lines that may precede the header.
var metaKeys = map[string]bool{"数据库": true, "指标": true, "时间": true, "单位": true}

// isMeta reports whether a first cell is a metadata line ("指标：…").
func isMeta(cell string) bool {
	k, _, ok := cutMeta(cell)
	return ok && metaKeys[k]
}

func cutMeta(cell string) (key, value string, ok bool) {
	cell = strings.TrimPrefix(strings.TrimSpace(cell), "\ufeff")
	for _, sep := range []string{"：", ":"} {
		if k, v, found := strings.Cut(cell, sep); found {
			return strings.TrimSpace(k), strings.TrimSpace(v), true
		}
	}
	return "", "", false
}

func isFooter(cell string) bool {
	k, _, ok := cutMeta(cell)
	return ok && (k == "注" || k == "数据来源" || k == "资料来源" || strings.HasPrefix(k, "注"))
}

// nameUnit splits "食品抽检合格率(%)" into name and unit.
var nameUnit = regexp.MustCompile(`^(.*?)\s*[(（]([^()（）]*)[)）]\s*$`)

// export reads the export layout as raw rows.
type exportReader struct {
	file string
	rows Table
	cat  *catalog.Catalog

	started   bool
	indicator string // as resolved (catalogue id) or as written
	unit      string
	periods   []string            // header cells by column; "" for none
	columns   []map[string]string // Raw.Columns by column, shared by its figures
	pending   []*Raw
	done      bool
}

func newExport(file string, rs Table, cat *catalog.Catalog) *exportReader {
	return &exportReader{file: file, rows: rs, cat: cat}
}

func (e *exportReader) Close() error { return e.rows.Close() }

func (e *exportReader) errorf(row int, col, val, expected, format string, args ...any) *Error {
	return &Error{File: e.file, Row: row, Column: col, Value: val, Message: fmt.Sprintf(format, args...), Expected: expected}
}

// header reads the metadata lines and the header row.
func (e *exportReader) header() error {
	indRow, last := 0, 0
	for {
		n, cells, err := e.rows.Next()
		if errors.Is(err, io.EOF) {
			return e.errorf(last+1, "header", "", "地区,2024年,2023年,…", "no header row after the metadata lines")
		}
		if err != nil {
			return err
		}
		last = n
		if blank(cells) {
			continue
		}
		first := strings.TrimSpace(strings.TrimPrefix(cells[0], "\ufeff"))
		if k, v, ok := cutMeta(first); ok && metaKeys[k] {
			if k == "指标" {
				indRow = n
				name, unit := v, ""
				if m := nameUnit.FindStringSubmatch(v); m != nil {
					name, unit = m[1], m[2]
				}
				e.indicator, e.unit = name, unit
				if e.cat != nil {
					ind, ok := e.cat.Resolve(name)
					if !ok {
						return e.errorf(n, "指标", v, "a catalogue id, Chinese name or alias", "unknown indicator %q", name)
					}
					e.indicator = ind.ID
				}
			}
			if k == "单位" && e.unit == "" {
				e.unit = v
			}
			continue
		}
		if indRow == 0 {
			return e.errorf(n, "指标", "", "a line 指标：<name>(<unit>) before the header", "no indicator line")
		}
		if first != "地区" && first != "地区代码" {
			return e.errorf(n, "header", first, "地区,2024年,2023年,…", "header does not start with 地区")
		}
		e.periods = make([]string, len(cells))
		e.columns = make([]map[string]string, len(cells))
		var errs Errors
		for i := 1; i < len(cells); i++ {
			h := strings.TrimSpace(cells[i])
			if h == "" {
				continue
			}
			if _, err := period.Parse(h); err != nil {
				errs = append(errs, e.errorf(n, h, h, "a period such as 2024年", "header is not a period"))
				continue
			}
			e.periods[i] = h
			e.columns[i] = map[string]string{
				ColIndicator: "指标", ColRegion: "地区",
				ColPeriod: h, ColValue: h, ColUnit: "指标",
			}
		}
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	}
}

// Next returns the next reported figure, or io.EOF.
func (e *exportReader) Next() (*Raw, error) {
	if !e.started {
		e.started = true
		if err := e.header(); err != nil {
			e.done = true
			return nil, err
		}
	}
	for len(e.pending) == 0 {
		if e.done {
			return nil, io.EOF
		}
		n, cells, err := e.rows.Next()
		if errors.Is(err, io.EOF) {
			e.done = true
			continue
		}
		if err != nil {
			e.done = true
			return nil, err
		}
		if blank(cells) {
			continue
		}
		if isFooter(cells[0]) {
			e.done = true
			continue
		}
		region := strings.TrimSpace(cells[0])
		for i := 1; i < len(cells); i++ {
			val := strings.TrimSpace(cells[i])
			if val == "" {
				continue // not reported
			}
			if i >= len(e.periods) || e.periods[i] == "" {
				return nil, e.errorf(n, fmt.Sprintf("column %d", i+1), val, "a figure only under a period of the header", "value in a column without a period")
			}
			p := e.periods[i]
			e.pending = append(e.pending, &Raw{
				File: e.file, Row: n,
				Cells: map[string]string{
					ColIndicator: e.indicator, ColRegion: region,
					ColPeriod: p, ColValue: val, ColUnit: e.unit,
				},
				Columns: e.columns[i],
			})
		}
	}
	r := e.pending[0]
	e.pending = e.pending[1:]
	return r, nil
}

// Name is the file's name, for errors about the whole file.
func (e *exportReader) Name() string { return e.file }
