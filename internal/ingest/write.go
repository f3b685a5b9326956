package ingest

import (
	"encoding/csv"
	"io"
	"strings"
)

// CSVWriter writes CSV files people open in a spreadsheet: set-aside
// batches, exports, the status listing. It writes the one CSV dialect
// qualitymon reads back (RFC 4180) and neutralises cells a spreadsheet would
// run as a formula.
type CSVWriter struct {
	w *csv.Writer
}

// NewCSVWriter writes to w; excel adds a UTF-8 byte-order mark and CRLF line
// ends, which is how Excel (the bureaus' tool) recognises UTF-8.
func NewCSVWriter(w io.Writer, excel bool) (*CSVWriter, error) {
	if excel {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return nil, err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = excel
	return &CSVWriter{w: cw}, nil
}

// Write writes one record, each cell through SafeCell.
func (c *CSVWriter) Write(rec []string) error {
	safe := make([]string, len(rec))
	for i, s := range rec {
		safe[i] = SafeCell(s)
	}
	return c.w.Write(safe)
}

// Flush writes what is buffered and returns the first error of any write.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// SafeCell neutralises a cell a spreadsheet would evaluate as a formula
// (=, +, -, @, tab or carriage return first; OWASP's CSV injection
// guidance) by prefixing a single quote, which spreadsheets show as text. A
// number (-1.5, +3) is left as it is: its first character starts no formula.
func SafeCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, _, err := ParseNumber(s); err == nil && s[0] != '=' && s[0] != '@' {
		return s
	}
	return "'" + s
}

// WriteCSV writes a header and rows through a CSVWriter.
func WriteCSV(w io.Writer, excel bool, header []string, rows [][]string) error {
	cw, err := NewCSVWriter(w, excel)
	if err != nil {
		return err
	}
	cw.Write(header)
	for _, r := range rows {
		cw.Write(r)
	}
	return cw.Flush()
}
