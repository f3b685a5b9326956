package filedrop

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/ingest"
)

// Source yields the raw rows of one file for ingest.Validator.ReadAll.
type Source interface {
	ingest.Source
	Close() error
}

// Formats are the file extensions the file drop reads.
var Formats = []string{".csv", ".xlsx"}

// Parse turns one file's content into raw rows. The format comes from the
// name's extension (.csv or .xlsx); the layout from the first non-blank row:
// a metadata line (数据库：…, 指标：…) starts the 国家统计局 export layout,
// anything else is the canonical long layout read by ingest.NewCSV. CSV text
// may be UTF-8 with or without BOM, or GBK/GB18030. cat resolves the
// indicator of an export; nil leaves that to the validator.
func Parse(file string, r io.Reader, cat *catalog.Catalog) (Source, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return parseCSV(file, r, cat)
	case ".xlsx":
		return parseXLSX(file, r, cat)
	}
	return nil, &ingest.Error{File: file, Column: "file", Message: "unsupported file type", Expected: strings.Join(Formats, " or ")}
}

func parseCSV(file string, r io.Reader, cat *catalog.Catalog) (Source, error) {
	dec, _, err := ingest.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	br := bufio.NewReaderSize(dec, 16<<10)
	head, err := br.Peek(16 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if isExportCSV(string(head)) {
		return newExport(file, newCSVRows(file, br), cat), nil
	}
	c, err := ingest.NewCSV(file, br)
	if err != nil {
		return nil, err
	}
	return nopCloser{c}, nil
}

// isExportCSV looks at the first non-blank line.
func isExportCSV(head string) bool {
	for line := range strings.Lines(head) {
		cells := strings.Split(strings.TrimSpace(line), ",")
		if blank(cells) {
			continue
		}
		return isMeta(strings.Trim(cells[0], `" `))
	}
	return false
}

func parseXLSX(file string, r io.Reader, cat *catalog.Catalog) (Source, error) {
	xr, err := newXLSXRows(file, r)
	if err != nil {
		return nil, err
	}
	// Read up to the first non-blank row to choose the layout.
	pb := &peeked{rows: xr}
	for {
		n, cells, err := xr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			xr.Close()
			return nil, err
		}
		pb.buf = append(pb.buf, peekedRow{n, cells})
		if !blank(cells) {
			break
		}
	}
	if len(pb.buf) > 0 && isMeta(strings.TrimSpace(pb.buf[len(pb.buf)-1].cells[0])) {
		return newExport(file, pb, cat), nil
	}
	return canonicalFromRows(file, pb)
}

// canonicalFromRows feeds rows as CSV text to ingest.NewCSV, so that a
// workbook in the canonical layout is read exactly like a CSV file. Every
// row becomes one CSV record (blank rows too), keeping row numbers.
func canonicalFromRows(file string, rs rows) (Source, error) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := csv.NewWriter(pw)
		for {
			_, cells, err := rs.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				w.Flush()
				pw.CloseWithError(err)
				return
			}
			if len(cells) < 2 {
				cells = append(cells, "", "")[:2]
			}
			if err := w.Write(cells); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	closeAll := func() error {
		pr.Close() // the writer fails on its next write and stops
		<-done
		return rs.Close()
	}
	c, err := ingest.NewCSV(file, pr)
	if err != nil {
		closeAll()
		return nil, err
	}
	return &pipeSource{Source: c, close: closeAll}, nil
}

type pipeSource struct {
	ingest.Source
	close func() error
}

func (p *pipeSource) Close() error { return p.close() }

type nopCloser struct{ ingest.Source }

func (nopCloser) Close() error { return nil }

type peekedRow struct {
	n     int
	cells []string
}

// peeked replays buffered rows before reading on.
type peeked struct {
	buf  []peekedRow
	rows rows
}

func (p *peeked) Next() (int, []string, error) {
	if len(p.buf) > 0 {
		r := p.buf[0]
		p.buf = p.buf[1:]
		return r.n, r.cells, nil
	}
	return p.rows.Next()
}

func (p *peeked) Close() error { return p.rows.Close() }

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
