package web

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The status workbook's parts as excelize writes them: the sheet
// 目标状态 (the first) and its filter table.
const (
	statusSheet = "目标状态"
	statusPart  = "xl/worksheets/sheet1.xml"
	statusTable = "xl/tables/table1.xml"
)

// lastColumn is the name of the exports' last column (X).
var lastColumn, _ = excelize.ColumnNumberToName(len(exportHeader))

// xlsxNumeric are the columns of the status sheet written as numbers when
// they hold one: actual, target value, gap, deadline, progress, projection.
var xlsxNumeric = map[int]bool{8: true, 12: true, 13: true, 14: true, 15: true, 16: true}

// streamXLSX writes the workbook skeleton (made by excelize, the status
// sheet holding its header row and its table the range of the header and
// one row) to w with the rows that rows gives inserted into the status
// sheet as they come, flushed to the client every flushEvery rows: the
// other parts first, then the sheet, then its table with the range of the
// rows written. A row's cells are text, or numbers in the numeric columns;
// an empty cell is left out.
func streamXLSX(w http.ResponseWriter, skeleton []byte, rows func(row func([]string) error) error) error {
	zr, err := zip.NewReader(bytes.NewReader(skeleton), int64(len(skeleton)))
	if err != nil {
		return err
	}
	var sheet, table []byte
	zw := zip.NewWriter(w)
	for _, f := range zr.File {
		switch f.Name {
		case statusPart:
			sheet, err = readPart(f)
		case statusTable:
			table, err = readPart(f)
		default:
			err = zw.Copy(f)
		}
		if err != nil {
			return err
		}
	}
	head, tail, ok := bytes.Cut(sheet, []byte("</sheetData>"))
	oneRow := []byte(`ref="A1:` + lastColumn + `2"`)
	if !ok || bytes.Count(table, oneRow) != 2 {
		return errors.New("xlsx: the workbook's status sheet or table is not as excelize made it")
	}
	part, err := zw.Create(statusPart)
	if err != nil {
		return err
	}
	if _, err := part.Write(head); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	flush := func() error {
		if err := zw.Flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	// The download begins now, before the first row.
	if err := flush(); err != nil {
		return err
	}
	cols := make([]string, len(exportHeader))
	for i := range cols {
		cols[i], _ = excelize.ColumnNumberToName(i + 1)
	}
	var b []byte
	n := 1 // rows written, the header's included
	err = rows(func(row []string) error {
		n++
		b = appendRow(b[:0], cols, n, row)
		if _, err := part.Write(b); err != nil {
			return err
		}
		if n%flushEvery == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := part.Write(append([]byte("</sheetData>"), tail...)); err != nil {
		return err
	}
	t, err := zw.Create(statusTable)
	if err != nil {
		return err
	}
	ref := fmt.Sprintf(`ref="A1:%s%d"`, lastColumn, max(n, 2))
	if _, err := t.Write(bytes.ReplaceAll(table, oneRow, []byte(ref))); err != nil {
		return err
	}
	return zw.Close()
}

func readPart(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// appendRow appends row n of the status sheet as SpreadsheetML.
func appendRow(b []byte, cols []string, n int, row []string) []byte {
	r := strconv.Itoa(n)
	b = append(b, `<row r="`...)
	b = append(b, r...)
	b = append(b, `">`...)
	for j, c := range row {
		if c == "" || j >= len(cols) {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, cols[j]...)
		b = append(b, r...)
		if v, err := strconv.ParseFloat(c, 64); err == nil && xlsxNumeric[j] && !math.IsInf(v, 0) && !math.IsNaN(v) {
			b = append(b, `"><v>`...)
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
			b = append(b, `</v></c>`...)
			continue
		}
		// Text, never a formula; spaces at either end kept.
		b = append(b, `" t="inlineStr"><is><t xml:space="preserve">`...)
		var esc strings.Builder
		xml.EscapeText(&esc, []byte(c))
		b = append(b, esc.String()...)
		b = append(b, `</t></is></c>`...)
	}
	return append(b, `</row>`...)
}
