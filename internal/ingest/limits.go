package ingest

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what one input file may cost. Past a limit the file is
// refused with an error naming the limit (its config key under limits:).
// Zero fields take the defaults (DefaultLimits).
type Limits struct {
	// XLSXUnzipped bounds the decompressed size of a workbook, all parts
	// together (a zip bomb is refused before it is inflated).
	XLSXUnzipped int64 `yaml:"xlsx_unzipped_bytes"`
	// SheetXML bounds one part of a workbook (a worksheet, the shared
	// strings).
	SheetXML int64 `yaml:"sheet_xml_bytes"`
	// StylesXML bounds the styles part, read only for the number formats
	// (percent, date) of number cells.
	StylesXML int64 `yaml:"styles_xml_bytes"`
	// SharedStrings and SharedStringBytes bound a workbook's shared
	// strings once parsed: how many, and their text all together.
	SharedStrings     int   `yaml:"shared_strings"`
	SharedStringBytes int64 `yaml:"shared_string_bytes"`
	// Rows bounds the rows of one file.
	Rows int `yaml:"rows"`
	// Cells bounds the cells of one row.
	Cells int `yaml:"cells_per_row"`
	// CellBytes bounds one cell, quoted or not; LineBytes one record of
	// CSV text (a line, with the line breaks inside its quoted cells) and
	// one XML token (a tag, a run of text) of a workbook part.
	CellBytes int `yaml:"cell_bytes"`
	LineBytes int `yaml:"line_bytes"`
	// TextBytes bounds the source and note of a figure.
	TextBytes int `yaml:"source_note_bytes"`
	// Parses bounds how many large files serve reads at once (uploads,
	// the workspace's check, the file drop: see Gate).
	Parses int `yaml:"concurrent_parses"`
}

// DefaultLimits suit statistical tables: a few million rows of short cells.
var DefaultLimits = Limits{
	XLSXUnzipped:      64 << 20,
	SheetXML:          64 << 20,
	StylesXML:         16 << 20,
	SharedStrings:     2_000_000,
	SharedStringBytes: 32 << 20,
	Rows:              5_000_000,
	Cells:             1_000,
	CellBytes:         4 << 10,
	LineBytes:         64 << 10,
	TextBytes:         512,
	Parses:            2,
}

// WithDefaults fills zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	return Limits{
		XLSXUnzipped: orDefault(l.XLSXUnzipped, d.XLSXUnzipped), SheetXML: orDefault(l.SheetXML, d.SheetXML),
		StylesXML: orDefault(l.StylesXML, d.StylesXML), SharedStrings: orDefault(l.SharedStrings, d.SharedStrings),
		SharedStringBytes: orDefault(l.SharedStringBytes, d.SharedStringBytes),
		Rows:              orDefault(l.Rows, d.Rows), Cells: orDefault(l.Cells, d.Cells), CellBytes: orDefault(l.CellBytes, d.CellBytes),
		LineBytes: orDefault(l.LineBytes, d.LineBytes), TextBytes: orDefault(l.TextBytes, d.TextBytes),
		Parses: orDefault(l.Parses, d.Parses),
	}
}

func orDefault[T int | int64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// limitError says which limit a file passed.
func limitError(file string, row int, column, what string, size, limit int64, key string) *Error {
	return &Error{File: file, Row: row, Column: column,
		Message:  fmt.Sprintf("%s of %s exceeds the limit of %s", what, bytesize(size), bytesize(limit)),
		Expected: "at most " + bytesize(limit) + " (limits." + key + " in qualitymon.yaml)"}
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkWorkbook reads a workbook's zip directory and refuses it when its
// parts would inflate past the limits. archive/zip fails a part that
// inflates past its declared size, so the declared sizes bound what
// reading can cost.
func checkWorkbook(file string, zr *zip.Reader, l Limits) error {
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if strings.HasSuffix(f.Name, ".xml") && f.UncompressedSize64 > uint64(l.SheetXML) {
			return limitError(file, 0, "file", "workbook part "+clip(f.Name), int64(f.UncompressedSize64), l.SheetXML, "sheet_xml_bytes")
		}
	}
	if total > uint64(l.XLSXUnzipped) {
		return limitError(file, 0, "file", "decompressed workbook", int64(total), l.XLSXUnzipped, "xlsx_unzipped_bytes")
	}
	return nil
}

// readAllLimited reads at most n bytes of r, failing past them.
func readAllLimited(r io.Reader, n int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > n {
		return nil, errTooLarge
	}
	return data, nil
}

var errTooLarge = errors.New("too large")

// csvGuard applies limits.line_bytes and limits.cell_bytes to CSV text as
// it is read, before encoding/csv holds a record in memory: it follows the
// quoting (RFC 4180, leading spaces before a field dropped), so a line
// break inside a quoted cell does not end the record, and a quoted cell
// is counted as it grows. A record may be no longer than line_bytes (all
// its lines together), a quoted cell no longer than cell_bytes (its text,
// "" counted once); an unquoted cell is bounded by its line, and checkRow
// applies cell_bytes to it once read.
type csvGuard struct {
	r          io.Reader
	file       string
	line, cell int // the limits
	start      int // line where the record began (1-based)
	offset     int // lines of the file before the text read (for messages)
	lines      int // line breaks read
	run        int // bytes of the record
	field      int // bytes of the quoted cell's text
	col        int // 0-based column
	state      csvState
	excerpt    []byte // the start of the quoted cell
}

type csvState int

const (
	fieldStart csvState = iota // before a field (leading spaces)
	unquoted
	quoted
	quoteInQuoted // a quote inside a quoted field: "" or its end
)

func newCSVGuard(r io.Reader, file string, l Limits) *csvGuard {
	return &csvGuard{r: r, file: file, line: l.LineBytes, cell: l.CellBytes, start: 1}
}

func (g *csvGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		if e := g.step(p[i]); e != nil {
			return i, e
		}
	}
	return n, err
}

// step reads one byte of the text.
func (g *csvGuard) step(c byte) *Error {
	if c == '\n' {
		g.lines++
	}
	switch g.state {
	case quoted:
		switch c {
		case '"':
			g.state = quoteInQuoted
		case '\r':
		default:
			if err := g.grow(c); err != nil {
				return err
			}
		}
	case quoteInQuoted:
		switch c {
		case '"': // ""
			g.state = quoted
			if err := g.grow(c); err != nil {
				return err
			}
		case ',':
			g.next()
		case '\n':
			g.end()
			return nil
		default:
			g.state = unquoted // encoding/csv refuses the text after the quote
		}
	default:
		switch c {
		case ',':
			g.next()
		case '\n':
			g.end()
			return nil
		case '"':
			if g.state == fieldStart {
				g.state, g.field, g.excerpt = quoted, 0, g.excerpt[:0]
			}
		case ' ', '\t':
		default:
			g.state = unquoted
		}
	}
	g.run++
	if g.run > g.line {
		what := "a line"
		if g.lines+1 > g.start {
			what = fmt.Sprintf("a record (lines %d–%d)", g.offset+g.start, g.offset+g.lines+1)
		}
		return limitError(g.file, g.start, "file", what, int64(g.run), int64(g.line), "line_bytes")
	}
	return nil
}

// grow counts one byte of a quoted cell's text.
func (g *csvGuard) grow(c byte) *Error {
	g.field++
	if len(g.excerpt) < 4*excerptRunes {
		g.excerpt = append(g.excerpt, c)
	}
	if g.field > g.cell {
		e := limitError(g.file, g.start, fmt.Sprintf("column %d", g.col+1), "a cell", int64(g.field), int64(g.cell), "cell_bytes")
		e.Value = strings.ToValidUTF8(string(g.excerpt), "")
		return e
	}
	return nil
}

// next starts the next field of the record.
func (g *csvGuard) next() { g.col, g.state = g.col+1, fieldStart }

// end ends the record at a line break.
func (g *csvGuard) end() {
	g.start, g.run, g.col, g.state = g.lines+1, 0, 0, fieldStart
}

// checkRow applies the per-row limits to one row of a table.
func checkRow(file string, row int, cells []string, l Limits) error {
	if row > l.Rows {
		return &Error{File: file, Row: row, Column: "file", Message: fmt.Sprintf("more rows than the limit of %d", l.Rows),
			Expected: fmt.Sprintf("at most %d rows (limits.rows in qualitymon.yaml)", l.Rows)}
	}
	if len(cells) > l.Cells {
		return &Error{File: file, Row: row, Column: "file", Message: fmt.Sprintf("%d cells in one row exceed the limit of %d", len(cells), l.Cells),
			Expected: fmt.Sprintf("at most %d cells (limits.cells_per_row in qualitymon.yaml)", l.Cells)}
	}
	for i, c := range cells {
		if len(c) > l.CellBytes {
			e := limitError(file, row, fmt.Sprintf("column %d", i+1), "a cell", int64(len(c)), int64(l.CellBytes), "cell_bytes")
			e.Value = c
			return e
		}
	}
	return nil
}

// excerptRunes is how much of a bad cell an error quotes.
const excerptRunes = 80

// Excerpt is what an error or a page quotes of a cell: at most its first
// excerptRunes characters, with the length of the whole.
func Excerpt(s string) string { return clip(s) }

// clip shortens s to an excerpt of at most excerptRunes characters.
func clip(s string) string {
	if len(s) <= excerptRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == excerptRunes {
			return s[:i] + fmt.Sprintf("…(%d bytes)", len(s))
		}
		n++
	}
	return s
}

// limitedTable applies the per-row limits to a table.
type limitedTable struct {
	Table
	file string
	l    Limits
}

func (t *limitedTable) Next() (int, []string, error) {
	row, cells, err := t.Table.Next()
	if err == nil {
		err = checkRow(t.file, row, cells, t.l)
	}
	return row, cells, err
}
