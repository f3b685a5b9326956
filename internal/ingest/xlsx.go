package ingest

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// xlsxTable streams the first worksheet of a workbook, reading its XML one
// token at a time (encoding/xml over the zip entry): memory does not grow
// with the sheet. Each cell reads as the value it holds, never as Excel
// displays it:
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
// Only the parts a value needs are read: the workbook and its
// relationships (to find the first sheet), the sheet, the shared strings
// once a cell refers to one, the styles' number formats once a number
// needs its format (within limits.styles_xml_bytes). Every part is read
// strictly: an XML error (an undefined entity such as &foo;, broken markup)
// refuses the workbook naming the cell or the part, and so does a formula
// cell without a calculated value. No XML token (a tag, a run of text) may
// be longer than xmlTokenLimit, nor elements nest deeper than
// maxXMLDepth, so no part costs more memory than that while it is read;
// the shared strings are kept packed, bounded by limits.shared_strings
// and limits.shared_string_bytes.
type xlsxTable struct {
	file     string
	l        Limits
	zr       *zip.Reader
	wb       *workbook
	sheet    *xmlPart
	inData   bool // inside <sheetData>
	done     bool
	lastRow  int
	sst      *sharedStrings // nil until a cell refers to one
	formats  []numFormat    // by cell style index; nil until a number needs them
	styled   bool           // formats read
	cellText strings.Builder
}

// xlsxExpected is what a workbook that cannot be read should be;
// XLSXTextExpected what one with broken markup or entities should be.
const (
	xlsxExpected     = "an .xlsx file saved by Excel, WPS or LibreOffice"
	XLSXTextExpected = xlsxExpected + " (text without undefined entities or broken markup)"
	FormulaExpected  = "the workbook saved by Excel or WPS (which store each formula's value), or the figure typed in"
)

// NewXLSXTable opens a workbook's first worksheet, within the limits: a
// workbook whose parts would inflate past them is refused before it is
// inflated. A reader that is an io.ReaderAt with a Size (a bytes.Reader)
// or an *os.File is read in place; any other is read into memory (at most
// limits.xlsx_unzipped_bytes).
func NewXLSXTable(file string, r io.Reader, l Limits) (Table, error) {
	l = l.WithDefaults()
	ra, size, err := readerAt(r, l.XLSXUnzipped)
	if errors.Is(err, errTooLarge) {
		return nil, limitError(file, 0, "file", "a workbook", size, l.XLSXUnzipped, "xlsx_unzipped_bytes")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, unreadable(file, err)
	}
	if err := checkWorkbook(file, zr, l); err != nil {
		return nil, err
	}
	x := &xlsxTable{file: file, l: l, zr: zr}
	if x.wb, err = x.readWorkbook(); err != nil {
		return nil, err
	}
	if x.wb.sheet == "" {
		return nil, &Error{File: file, Column: "file", Message: "workbook has no worksheet"}
	}
	f := findPart(zr, x.wb.sheet)
	if f == nil {
		return nil, unreadable(file, fmt.Errorf("%s: %w", x.wb.sheet, errNoPart))
	}
	if x.sheet, err = openPart(f, l); err != nil {
		return nil, unreadable(file, err)
	}
	return &limitedTable{Table: x, file: file, l: l}, nil
}

// readerAt gives random access to a workbook's bytes (see NewXLSXTable).
func readerAt(r io.Reader, limit int64) (io.ReaderAt, int64, error) {
	switch v := r.(type) {
	case *os.File:
		at, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			break
		}
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			break
		}
		n := st.Size() - at
		if n > limit {
			return nil, n, errTooLarge
		}
		return io.NewSectionReader(v, at, n), n, nil
	case interface {
		io.ReaderAt
		io.Seeker
		Size() int64
	}:
		at, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			break
		}
		n := v.Size() - at
		if n > limit {
			return nil, n, errTooLarge
		}
		return io.NewSectionReader(v, at, n), n, nil
	}
	data, err := readAllLimited(r, limit)
	if err != nil {
		return nil, limit + 1, err
	}
	return strings.NewReader(string(data)), int64(len(data)), nil
}

func unreadable(file string, err error) *Error {
	return &Error{File: file, Column: "file", Message: "not a readable XLSX workbook: " + err.Error(), Expected: xlsxExpected}
}

// partError is the error of a part's XML that could not be read: past
// the token limit, or not well-formed.
func (x *xlsxTable) partError(p *xmlPart, row int, column, what string, err error) *Error {
	if p.g.over || errors.Is(err, errTooDeep) {
		return p.limitError(x.file, row, column, x.l)
	}
	msg := fmt.Sprintf("%v", err)
	if what != "" {
		msg = fmt.Sprintf("%s: %v", what, err)
	}
	if column != p.name { // the column names the part already
		msg = p.name + ": " + msg
	}
	return &Error{File: x.file, Row: row, Column: column, Message: msg, Expected: XLSXTextExpected}
}

func (x *xlsxTable) Next() (int, []string, error) {
	for !x.done {
		tok, err := x.sheet.token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, nil, x.sheetError(err, "")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "sheetData":
				x.inData = true
			case t.Name.Local == "row" && x.inData:
				return x.readRow(t)
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				x.done = true
			}
		}
	}
	x.done = true
	return 0, nil, io.EOF
}

// sheetError names the cell (or the row) being read when the worksheet's
// XML failed.
func (x *xlsxTable) sheetError(err error, cell string) *Error {
	column := "file"
	if cell != "" {
		column = "cell " + cell
	}
	e := x.partError(x.sheet, x.lastRow, column, "", err)
	if !x.sheet.g.over && !errors.Is(err, errTooDeep) {
		e.Message = "worksheet " + e.Message
	}
	return e
}

// readRow reads one <row> to its end.
func (x *xlsxTable) readRow(start xml.StartElement) (int, []string, error) {
	n := x.lastRow + 1
	if v, ok := attr(start, "r"); ok {
		if r, err := strconv.Atoi(v); err == nil && r > 0 {
			n = r
		}
	}
	if n <= x.lastRow {
		return 0, nil, &Error{File: x.file, Row: n, Column: "file", Message: fmt.Sprintf("worksheet %s: row %d after row %d", x.sheet.name, n, x.lastRow), Expected: xlsxExpected}
	}
	x.lastRow = n
	var cells []string
	col := 0
	for {
		tok, err := x.sheet.token()
		if err != nil {
			return 0, nil, x.sheetError(err, "")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := x.sheet.skip(); err != nil {
					return 0, nil, x.sheetError(err, "")
				}
				continue
			}
			var val string
			col, val, err = x.readCell(t, n, col)
			if err != nil {
				return 0, nil, err
			}
			if val == "" {
				continue
			}
			if col > x.l.Cells {
				return 0, nil, tooManyCells(x.file, n, col, x.l.Cells)
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells[col-1] = val
		case xml.EndElement:
			return n, cells, nil
		}
	}
}

// readCell reads one <c> to its end: its column (the previous one's next
// when it names none) and the value it holds.
func (x *xlsxTable) readCell(start xml.StartElement, row, prev int) (int, string, error) {
	col, ref, style, typ := prev+1, "", 0, ""
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "r":
			c, _, err := excelize.CellNameToCoordinates(a.Value)
			if err != nil {
				return 0, "", &Error{File: x.file, Row: row, Column: "cell " + clip(a.Value), Message: "worksheet " + x.sheet.name + ": " + err.Error(), Expected: xlsxExpected}
			}
			col, ref = c, a.Value
		case "s":
			style, _ = strconv.Atoi(a.Value)
		case "t":
			typ = a.Value
		}
	}
	if ref == "" {
		ref, _ = excelize.CoordinatesToCellName(col, row)
	}
	// The text of <v>, or of the <t>s of <is> outside phonetic runs.
	x.cellText.Reset()
	var formula, value bool
	depth, inText, phonetic := 1, false, 0
	for depth > 0 {
		tok, err := x.sheet.token()
		if err != nil {
			return 0, "", x.sheetError(err, ref)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch t.Name.Local {
			case "f":
				formula = true
			case "v":
				inText = depth == 2
			case "is":
				value = true
			case "rPh":
				phonetic++
			case "t":
				inText = phonetic == 0
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "rPh":
				phonetic--
			case "v", "t":
				inText = false
			}
		case xml.CharData:
			if !inText {
				continue
			}
			if x.cellText.Len()+len(t) > x.l.CellBytes {
				e := limitError(x.file, row, fmt.Sprintf("column %d", col), "a cell", int64(x.cellText.Len()+len(t)), int64(x.l.CellBytes), "cell_bytes")
				e.Value = x.cellText.String() + string(t[:min(len(t), 4*excerptRunes)])
				return 0, "", e
			}
			x.cellText.Write(t)
		}
	}
	raw := x.cellText.String()
	if typ != "inlineStr" && strings.TrimSpace(raw) != "" {
		value = true
	}
	if formula && !value {
		return 0, "", &Error{File: x.file, Row: row, Column: "cell " + ref, Message: "a formula without a calculated value", Expected: FormulaExpected}
	}
	if raw == "" {
		return col, "", nil
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || i < 0 {
			return 0, "", &Error{File: x.file, Row: row, Column: "cell " + ref, Value: raw, Message: "worksheet " + x.sheet.name + ": not a shared string number", Expected: xlsxExpected}
		}
		if x.sst == nil {
			if x.sst, err = x.readSharedStrings(); err != nil {
				return 0, "", err
			}
		}
		s, ok := x.sst.get(i)
		if !ok {
			return 0, "", &Error{File: x.file, Row: row, Column: "cell " + ref, Value: raw,
				Message: fmt.Sprintf("shared string no. %d is not in %s (%d strings)", i+1, x.sst.part, x.sst.len()), Expected: xlsxExpected}
		}
		return col, s, nil
	case "inlineStr", "str":
		return col, unescapeXString(raw), nil
	case "b":
		switch raw {
		case "1":
			return col, "TRUE", nil
		case "0":
			return col, "FALSE", nil
		}
		return col, raw, nil
	case "", "n":
		if !x.styled {
			if err := x.readStyles(); err != nil {
				return 0, "", err
			}
		}
		return col, x.held(style, raw), nil
	}
	return col, raw, nil // e, d: as held
}

// tooManyCells is the error of a row with a cell past the limit.
func tooManyCells(file string, row, cells, limit int) *Error {
	return &Error{File: file, Row: row, Column: "file", Message: fmt.Sprintf("%d cells in one row exceed the limit of %d", cells, limit),
		Expected: fmt.Sprintf("at most %d cells (limits.cells_per_row in qualitymon.yaml)", limit)}
}

// held renders a number cell's raw value as the value it holds (see
// xlsxTable).
func (x *xlsxTable) held(style int, raw string) string {
	f := fmtPlain
	if style >= 0 && style < len(x.formats) {
		f = x.formats[style]
	}
	switch f {
	case fmtPercent:
		if d, ok := plainDecimal(raw, 2); ok {
			return d + "%"
		}
	case fmtDate:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return raw
		}
		t, err := excelize.ExcelDateToTime(v, x.wb.date1904)
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
	if x.sheet != nil {
		x.sheet.close()
	}
	x.sst = nil
	return nil
}

// unescapeXString decodes the _xHHHH_ escapes of OOXML text (ST_Xstring:
// _x000D_ is a carriage return, _x005F_ an underscore), pairing UTF-16
// surrogates.
func unescapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	var high rune
	for i := 0; i < len(s); {
		if r, ok := xEscape(s[i:]); ok {
			i += 7
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				if high != 0 {
					b.WriteRune(utf8.RuneError)
				}
				high = r
			case utf16.IsSurrogate(r):
				b.WriteRune(utf16.DecodeRune(high, r))
				high = 0
			default:
				if high != 0 {
					b.WriteRune(utf8.RuneError)
					high = 0
				}
				b.WriteRune(r)
			}
			continue
		}
		if high != 0 {
			b.WriteRune(utf8.RuneError)
			high = 0
		}
		b.WriteByte(s[i])
		i++
	}
	if high != 0 {
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}

// xEscape reads an _xHHHH_ escape at the start of s.
func xEscape(s string) (rune, bool) {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[2:6], 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(v), true
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
