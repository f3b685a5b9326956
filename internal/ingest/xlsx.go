package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxTable streams the first worksheet of a workbook. Each cell reads as
// the value it holds, never as Excel displays it:
//
//   - a number is its held value in full precision, written out as plain
//     decimal digits (the <v> of the cell: 2.6 formatted "0" reads 2.6);
//   - a number with a percent format (0.00%, a custom format with an
//     unquoted %) reads as the held value times 100 followed by % (0.98456
//     formatted 0.00% reads 98.456%), the decimal point moved in the digits,
//     so exactly; the validator then takes it as a percent figure, and
//     refuses it for an indicator that is not a percent, as a typed 98.456%;
//   - a number with a date format reads as the held day, 2006-01-02 (with
//     the time when it has one);
//   - text, booleans (TRUE, FALSE) and errors (#DIV/0!) read as such.
//
// The worksheet and the shared strings are read strictly: an XML error
// (an undefined entity such as &foo;, broken markup) refuses the workbook
// naming the cell or the part, where the XLSX reader would leave the cell
// empty or end the sheet early; so does a formula cell without a
// calculated value. The cell attributes are read by a second streaming
// pass over the worksheet (sheetScan) in step with the reader's rows, so
// memory does not grow with the sheet.
type xlsxTable struct {
	file     string
	f        *excelize.File
	rs       *excelize.Rows
	scan     *sheetScan
	formats  map[int]numFormat // by cell style index
	date1904 bool
	row      int
}

// xlsxInMemory is how much of a worksheet the XLSX reader keeps in memory;
// larger parts are read from a temporary file.
const xlsxInMemory = 16 << 20

// xlsxExpected is what a workbook that cannot be read should be;
// XLSXTextExpected what one with broken markup or entities should be.
const (
	xlsxExpected     = "an .xlsx file saved by Excel, WPS or LibreOffice"
	XLSXTextExpected = xlsxExpected + " (text without undefined entities or broken markup)"
	FormulaExpected  = "the workbook saved by Excel or WPS (which store each formula's value), or the figure typed in"
)

// NewXLSXTable opens a workbook's first worksheet, within the limits: a
// workbook whose parts would inflate past them is refused before it is
// inflated.
func NewXLSXTable(file string, r io.Reader, l Limits) (Table, error) {
	l = l.WithDefaults()
	data, err := readAllLimited(r, l.XLSXUnzipped)
	if errors.Is(err, errTooLarge) {
		return nil, limitError(file, 0, "file", "a workbook", l.XLSXUnzipped+1, l.XLSXUnzipped, "xlsx_unzipped_bytes")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := checkWorkbook(file, data, l); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, unreadable(file, err)
	}
	wb, err := readWorkbook(zr)
	if err != nil {
		return nil, unreadable(file, err)
	}
	if err := checkSharedStrings(file, zr); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true, UnzipSizeLimit: l.XLSXUnzipped, UnzipXMLSizeLimit: min(xlsxInMemory, l.SheetXML)})
	if err != nil {
		return nil, unreadable(file, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 || wb.sheet == "" {
		f.Close()
		return nil, &Error{File: file, Column: "file", Message: "workbook has no worksheet"}
	}
	scan, err := openSheetScan(file, zr, wb.sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	rs, err := f.Rows(sheets[0])
	if err != nil {
		scan.close()
		f.Close()
		return nil, &Error{File: file, Column: "file", Message: fmt.Sprintf("reading worksheet %q: %v", clip(sheets[0]), err)}
	}
	x := &xlsxTable{file: file, f: f, rs: rs, scan: scan, formats: wb.formats, date1904: wb.date1904}
	return &limitedTable{Table: x, file: file, l: l}, nil
}

func unreadable(file string, err error) *Error {
	return &Error{File: file, Column: "file", Message: "not a readable XLSX workbook: " + err.Error(), Expected: xlsxExpected}
}

func (x *xlsxTable) Next() (int, []string, error) {
	if !x.rs.Next() {
		if err := x.rs.Error(); err != nil {
			return 0, nil, &Error{File: x.file, Row: x.row + 1, Column: "file", Message: err.Error()}
		}
		if err := x.scan.finish(x.row); err != nil {
			return 0, nil, err
		}
		return 0, nil, io.EOF
	}
	x.row++
	cells, err := x.rs.Columns()
	if err != nil {
		return 0, nil, &Error{File: x.file, Row: x.row, Column: "file", Message: err.Error(), Expected: xlsxExpected}
	}
	attrs, err := x.scan.cells(x.row)
	if err != nil {
		return 0, nil, err
	}
	for _, a := range attrs {
		if a.formula && !a.value {
			return 0, nil, &Error{File: x.file, Row: x.row, Column: "cell " + a.ref, Message: "a formula without a calculated value",
				Expected: FormulaExpected}
		}
		if i := a.col - 1; i >= 0 && i < len(cells) && cells[i] != "" {
			cells[i] = x.held(a, cells[i])
		}
	}
	return x.row, cells, nil
}

// held renders a cell's raw value as the value it holds (see xlsxTable).
func (x *xlsxTable) held(a cellAttr, raw string) string {
	switch a.typ {
	case "", "n":
	case "b":
		switch raw {
		case "1":
			return "TRUE"
		case "0":
			return "FALSE"
		}
		return raw
	default: // s, str, inlineStr, e, d: text as held
		return raw
	}
	switch x.formats[a.style] {
	case fmtPercent:
		if d, ok := plainDecimal(raw, 2); ok {
			return d + "%"
		}
	case fmtDate:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return raw
		}
		t, err := excelize.ExcelDateToTime(v, x.date1904)
		if err != nil {
			return raw
		}
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format("2006-01-02 15:04:05")
	default:
		if d, ok := plainDecimal(raw, 0); ok {
			return d
		}
	}
	return raw
}

func (x *xlsxTable) Close() error {
	x.scan.close()
	x.rs.Close()
	return x.f.Close()
}

// plainDecimal writes a number as the worksheet holds it ([-]d[.d][E±d])
// in plain decimal digits with the point moved shift places to the right,
// exactly (no float arithmetic). ok is false for anything else and for
// exponents past what a cell could hold.
func plainDecimal(v string, shift int) (string, bool) {
	neg := strings.HasPrefix(v, "-")
	if neg {
		v = v[1:]
	}
	mant, exp := v, 0
	if i := strings.IndexAny(v, "eE"); i >= 0 {
		e, err := strconv.Atoi(v[i+1:])
		if err != nil || e > 400 || e < -400 {
			return "", false
		}
		mant, exp = v[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) || strings.Contains(frac, ".") {
		return "", false
	}
	digits := intPart + frac
	point := len(intPart) + exp + shift // digits before the point
	for point <= 0 {
		digits, point = "0"+digits, point+1
	}
	for point > len(digits) {
		digits += "0"
	}
	ip := strings.TrimLeft(digits[:point], "0")
	if ip == "" {
		ip = "0"
	}
	fp := strings.TrimRight(digits[point:], "0")
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numFormat is what a cell's number format says about its held value.
type numFormat int

const (
	fmtPlain   numFormat = iota
	fmtPercent           // shown ×100 with a % sign
	fmtDate              // a date (or time) serial
)

// classifyFormat reads a number format code: percent when its first
// section has a % outside quotes and escapes, date when it has a date or
// time token (y, m, d, h, s), plain otherwise.
func classifyFormat(code string) numFormat {
	if strings.EqualFold(code, "General") || code == "" {
		return fmtPlain
	}
	var plain []rune
	rs := []rune(code)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case ';':
			i = len(rs) // the first section decides
		case '"':
			for i++; i < len(rs) && rs[i] != '"'; i++ {
			}
		case '[':
			for i++; i < len(rs) && rs[i] != ']'; i++ {
			}
		case '\\', '_', '*':
			i++ // an escaped, spacing or fill character
		default:
			plain = append(plain, r)
		}
	}
	s := strings.ToLower(string(plain))
	switch {
	case strings.Contains(s, "%"):
		return fmtPercent
	case strings.ContainsAny(s, "ymdhs"):
		return fmtDate
	}
	return fmtPlain
}

// builtinFormat classifies the built-in number formats (ECMA-376 18.8.30;
// 27–36 and 50–58 are the dates of the East Asian locales).
func builtinFormat(id int) numFormat {
	switch {
	case id == 9 || id == 10:
		return fmtPercent
	case id >= 14 && id <= 22, id >= 27 && id <= 36, id >= 45 && id <= 47, id >= 50 && id <= 58:
		return fmtDate
	}
	return fmtPlain
}

// workbook is what the reader needs from the workbook's small parts.
type workbook struct {
	sheet    string            // the part of the first worksheet
	date1904 bool              // dates count from 1904
	formats  map[int]numFormat // by cell style (cellXfs) index
}

type xmlRel struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

type xmlRels struct {
	Rels []xmlRel `xml:"Relationship"`
}

// readWorkbook finds the first worksheet, the date system and the number
// format of each cell style, as the XLSX reader does: the workbook from
// the package relationships, its first <sheet>, the styles part.
func readWorkbook(zr *zip.Reader) (*workbook, error) {
	wbPath := "xl/workbook.xml"
	var root xmlRels
	if err := readPart(zr, "_rels/.rels", &root); err == nil {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readPart(zr, wbPath, &wb); err != nil {
		return nil, err
	}
	out := &workbook{date1904: wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true", formats: map[int]numFormat{}}
	dir := path.Dir(wbPath)
	var rels xmlRels
	if err := readPart(zr, path.Join(dir, "_rels", path.Base(wbPath)+".rels"), &rels); err != nil {
		return nil, err
	}
	target := func(r xmlRel) string {
		if strings.HasPrefix(r.Target, "/") {
			return strings.TrimPrefix(r.Target, "/")
		}
		return path.Join(dir, r.Target)
	}
	stylesPath := path.Join(dir, "styles.xml")
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, "/styles") {
			stylesPath = target(r)
		}
	}
	if len(wb.Sheets) > 0 {
		for _, a := range wb.Sheets[0].Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				for _, r := range rels.Rels {
					if r.ID == a.Value {
						out.sheet = target(r)
					}
				}
			}
		}
	}
	var styles struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := readPart(zr, stylesPath, &styles); err != nil && !errors.Is(err, errNoPart) {
		return nil, err
	}
	custom := map[int]numFormat{}
	for _, nf := range styles.NumFmts {
		custom[nf.ID] = classifyFormat(nf.Code)
	}
	for i, xf := range styles.Xfs {
		f, ok := custom[xf.NumFmtID]
		if !ok {
			f = builtinFormat(xf.NumFmtID)
		}
		out.formats[i] = f
	}
	return out, nil
}

var errNoPart = errors.New("no such part")

// readPart decodes a small part of the package (the limits bound it).
func readPart(zr *zip.Reader, name string, v any) error {
	f := findPart(zr, name)
	if f == nil {
		return fmt.Errorf("%s: %w", name, errNoPart)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// findPart finds a part by name as the XLSX reader does (case-insensitive).
func findPart(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if strings.EqualFold(strings.TrimPrefix(f.Name, "/"), name) {
			return f
		}
	}
	return nil
}

// checkSharedStrings reads the shared strings strictly: the XLSX reader
// would read a string with an undefined entity as empty.
func checkSharedStrings(file string, zr *zip.Reader) error {
	const part = "xl/sharedStrings.xml" // where the XLSX reader looks
	f := findPart(zr, part)
	if f == nil {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return unreadable(file, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &Error{File: file, Column: part, Message: fmt.Sprintf("shared string no. %d: %v", n, err),
				Expected: XLSXTextExpected}
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			n++
		}
	}
}

// cellAttr is what the worksheet says about one cell besides its value.
type cellAttr struct {
	ref            string // A1
	col            int    // 1-based
	style          int
	typ            string // t: "" or n (number), s, str, inlineStr, b, e, d
	formula, value bool
}

type scanRow struct {
	n     int
	cells []cellAttr
}

// sheetScan reads the cell attributes of a worksheet strictly, one row
// at a time, in step with the XLSX reader's rows.
type sheetScan struct {
	file, part string
	rc         io.ReadCloser
	d          *xml.Decoder
	next       *scanRow
	done       bool
	lastRow    int
	lastCell   string
}

func openSheetScan(file string, zr *zip.Reader, part string) (*sheetScan, error) {
	f := findPart(zr, part)
	if f == nil {
		return nil, unreadable(file, fmt.Errorf("%s: %w", part, errNoPart))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, unreadable(file, err)
	}
	return &sheetScan{file: file, part: part, rc: rc, d: xml.NewDecoder(rc)}, nil
}

func (s *sheetScan) close() {
	if s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
}

// xmlError names the cell being read when the worksheet's XML failed.
func (s *sheetScan) xmlError(err error) *Error {
	e := &Error{File: s.file, Row: s.lastRow, Column: "file", Message: fmt.Sprintf("worksheet %s: %v", s.part, err),
		Expected: XLSXTextExpected}
	if s.lastCell != "" {
		e.Column = "cell " + s.lastCell
	}
	return e
}

// read reads the next <row> of the sheet data, or sets done.
func (s *sheetScan) read() error {
	var row *scanRow
	var cell *cellAttr
	depth := 0 // inside <c>
	inV := false
	for {
		tok, err := s.d.Token()
		if errors.Is(err, io.EOF) {
			s.done = true
			return nil
		}
		if err != nil {
			return s.xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "row" && row == nil:
				n := s.lastRow + 1
				for _, a := range t.Attr {
					if a.Name.Local == "r" {
						if v, err := strconv.Atoi(a.Value); err == nil && v > 0 {
							n = v
						}
					}
				}
				if n <= s.lastRow {
					return &Error{File: s.file, Row: n, Column: "file", Message: fmt.Sprintf("worksheet %s: row %d after row %d", s.part, n, s.lastRow), Expected: xlsxExpected}
				}
				s.lastRow, s.lastCell = n, ""
				row = &scanRow{n: n}
			case t.Name.Local == "c" && row != nil && cell == nil:
				c := cellAttr{col: 1}
				if len(row.cells) > 0 {
					c.col = row.cells[len(row.cells)-1].col + 1
				}
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						col, _, err := excelize.CellNameToCoordinates(a.Value)
						if err != nil {
							return &Error{File: s.file, Row: row.n, Column: "cell " + clip(a.Value), Message: "worksheet " + s.part + ": " + err.Error(), Expected: xlsxExpected}
						}
						c.col, c.ref = col, a.Value
					case "s":
						c.style, _ = strconv.Atoi(a.Value)
					case "t":
						c.typ = a.Value
					}
				}
				if c.ref == "" {
					name, _ := excelize.CoordinatesToCellName(c.col, row.n)
					c.ref = name
				}
				s.lastCell = c.ref
				row.cells = append(row.cells, c)
				cell = &row.cells[len(row.cells)-1]
				depth = 1
			case cell != nil:
				depth++
				switch t.Name.Local {
				case "f":
					cell.formula = true
				case "v":
					inV = true
				case "is":
					cell.value = true
				}
			}
		case xml.CharData:
			if inV && len(bytes.TrimSpace(t)) > 0 {
				cell.value = true
			}
		case xml.EndElement:
			switch {
			case cell != nil:
				depth--
				inV = false
				if depth == 0 {
					cell = nil
				}
			case t.Name.Local == "row" && row != nil:
				s.next = row
				return nil
			case t.Name.Local == "sheetData":
				s.done = true
				return nil
			}
		}
	}
}

// cells returns the attributes of the cells of row n (none for a row the
// sheet does not have). Rows are asked for in ascending order.
func (s *sheetScan) cells(n int) ([]cellAttr, error) {
	if s.next == nil && !s.done {
		if err := s.read(); err != nil {
			return nil, err
		}
	}
	if s.next == nil || s.next.n > n {
		return nil, nil
	}
	if s.next.n < n {
		return nil, &Error{File: s.file, Row: s.next.n, Column: "file", Message: fmt.Sprintf("worksheet %s: row %d was skipped by the reader", s.part, s.next.n), Expected: xlsxExpected}
	}
	r := s.next
	s.next = nil
	return r.cells, nil
}

// finish reads the rest of the sheet data once the XLSX reader has ended
// after row last: any XML error, and any row with a value the reader did
// not return, refuses the workbook.
func (s *sheetScan) finish(last int) error {
	for {
		if s.next == nil && !s.done {
			if err := s.read(); err != nil {
				return err
			}
		}
		if s.next == nil {
			return nil
		}
		for _, c := range s.next.cells {
			if c.value || c.formula {
				return &Error{File: s.file, Row: s.next.n, Column: "cell " + c.ref,
					Message: fmt.Sprintf("worksheet %s: the reader stopped after row %d", s.part, last), Expected: xlsxExpected}
			}
		}
		s.next = nil
	}
}
