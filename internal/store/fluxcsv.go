package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/domain"

	"github.com/qualitymon/qualitymon/internal/period"
)

// fluxRow is one data row of a Flux CSV answer; Get returns a column by
// name ("" when the table has no such column). A row is only valid during
// the callback that receives it; the strings Get returns may be kept.
type fluxRow struct {
	hdr *fluxHeader
	rec [][]byte
}

// fluxHeader is the header row of the current table: the index of each
// column, and gen, which changes when the columns change (a reader of many
// rows keeps the indexes it needs per gen rather than asking the map).
type fluxHeader struct {
	cols map[string]int
	gen  int
	line []byte
}

// Get returns the cell of the named column.
func (r fluxRow) Get(col string) string {
	return string(r.bytes(col))
}

// bytes returns the cell of the named column, valid during the callback.
func (r fluxRow) bytes(col string) []byte {
	if i, ok := r.hdr.cols[col]; ok {
		return r.cell(i)
	}
	return nil
}

// cell returns the cell at index i (nil past the row's end).
func (r fluxRow) cell(i int) []byte {
	if i >= 0 && i < len(r.rec) {
		return r.rec[i]
	}
	return nil
}

// readFluxCSV reads the CSV answer of a Flux query made with a header row
// and no annotations (the dialect Values and currentRaw ask for), calling fn
// for every data row. Each table starts with its own header row
// (",result,table,…"); Flux reports a failure in-band, after any partial
// results, as a table with an "error" column: that is returned as an error.
// A malformed answer (cut off mid-row) is retryable.
//
// The records are those encoding/csv reads (RFC 4180, FieldsPerRecord -1),
// but a line without quotes — every row of a read of figures — is split in
// place, without allocating: a full read at national scale is millions of
// rows (BenchmarkEachValueParse). Lines with a quote go to encoding/csv.
func readFluxCSV(r io.Reader, fn func(fluxRow) error) error {
	cr := csvLines{br: bufio.NewReaderSize(r, 64<<10)}
	row := fluxRow{hdr: &fluxHeader{cols: map[string]int{}}}
	for {
		rec, err := cr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &RetryableError{Err: fmt.Errorf("reading query result: %w", err)}
		}
		if len(rec) > 1 && len(rec[0]) == 0 && (string(rec[1]) == "result" || string(rec[1]) == "error") {
			if string(rec[1]) == "error" {
				msg, err := cr.next()
				if err != nil || len(msg) < 2 {
					return errors.New("query failed (error table without a message)")
				}
				return fmt.Errorf("query failed: %s", msg[1])
			}
			row.hdr.set(rec, cr.line)
			continue
		}
		if len(row.hdr.cols) == 0 {
			return fmt.Errorf("query result: %s", bytes.Join(rec, []byte(",")))
		}
		row.rec = rec
		if err := fn(row); err != nil {
			return err
		}
	}
}

// set makes rec, read from line, the header (unchanged when it repeats the
// previous one, as every table of a read of figures does).
func (h *fluxHeader) set(rec [][]byte, line []byte) {
	if line != nil && h.line != nil && bytes.Equal(line, h.line) {
		return
	}
	h.line = append(h.line[:0], line...)
	if line == nil {
		h.line = nil
	}
	h.gen++
	clear(h.cols)
	for i, name := range rec {
		h.cols[string(name)] = i
	}
}

// csvLines splits CSV records as encoding/csv does (with FieldsPerRecord
// -1): a record without a quote character is one line, split at its commas
// into cells that point into the reader's buffer (valid until the next
// call); a record with a quote is handed to encoding/csv whole.
type csvLines struct {
	br    *bufio.Reader
	long  []byte   // a line longer than br's buffer
	cells [][]byte // the last record's cells
	line  []byte   // the last record's line when it had no quote, else nil
	eof   bool
}

// next returns the next record (io.EOF after the last).
func (c *csvLines) next() ([][]byte, error) {
	for {
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			continue // encoding/csv skips empty lines
		}
		if bytes.IndexByte(line, '"') >= 0 {
			c.line = nil
			return c.quoted(line)
		}
		c.line = line
		c.cells = c.cells[:0]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				break
			}
			c.cells = append(c.cells, line[:i:i])
			line = line[i+1:]
		}
		c.cells = append(c.cells, line)
		return c.cells, nil
	}
}

// readLine returns the next line without its line end ("\n", "\r\n"; a
// "\r" before the end of the input is dropped, as encoding/csv does).
func (c *csvLines) readLine() ([]byte, error) {
	if c.eof {
		return nil, io.EOF
	}
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.br.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	switch {
	case errors.Is(err, io.EOF):
		c.eof = true
		if len(line) == 0 {
			return nil, io.EOF
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
	case err != nil:
		return nil, err
	default:
		line = line[:len(line)-1]
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	return line, nil
}

// quoted reads the record that starts with line, which holds a quote:
// the lines up to the one that closes its quotes, read by encoding/csv.
func (c *csvLines) quoted(line []byte) ([][]byte, error) {
	rec := append([]byte(nil), line...)
	rec = append(rec, '\n')
	for bytes.Count(rec, []byte(`"`))%2 == 1 {
		more, err := c.readLine()
		if errors.Is(err, io.EOF) {
			break // encoding/csv reports the open quote
		}
		if err != nil {
			return nil, err
		}
		rec = append(append(rec, more...), '\n')
	}
	cr := csv.NewReader(bytes.NewReader(rec))
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("record %.40q: %w", rec, csv.ErrQuote)
	}
	c.cells = c.cells[:0]
	for _, f := range fields {
		c.cells = append(c.cells, []byte(f))
	}
	return c.cells, nil
}

// queryCSV runs a Flux query whose answer is read as plain CSV (a header
// row, no annotations) and calls fn for every data row (decodeAnswer).
func (s *Store) queryCSV(ctx context.Context, q string, fn func(fluxRow) error) error {
	header := true
	raw, err := s.queryAPI().QueryRaw(ctx, q, &domain.Dialect{Header: &header, Annotations: &[]domain.DialectAnnotations{}})
	if err != nil {
		return classify(fmt.Errorf("querying %s: %w", s.cfg.Bucket, err))
	}
	return decodeAnswer(raw, fn)
}

// decodeAnswer reads an answer received whole (readFluxCSV); a malformed
// one is not worth asking again.
func decodeAnswer(raw string, fn func(fluxRow) error) error {
	err := readFluxCSV(strings.NewReader(raw), fn)
	var re *RetryableError
	if errors.As(err, &re) {
		return re.Err
	}
	return err
}

// kinds remembers the period kind of each freq tag of an answer.
type kinds map[string]period.Kind

// of is the kind of a freq tag.
func (k kinds) of(freq string) (period.Kind, error) {
	if kind, ok := k[freq]; ok {
		return kind, nil
	}
	kind, err := period.ParseKind(freq)
	if err != nil {
		return 0, fmt.Errorf("stored point with bad freq tag: %w", err)
	}
	k[freq] = kind
	return kind, nil
}

// Time is the row's _time.
func (r fluxRow) Time() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, string(r.bytes("_time")))
	if err != nil {
		return t, fmt.Errorf("query result: bad _time %q", r.Get("_time"))
	}
	return t, nil
}
