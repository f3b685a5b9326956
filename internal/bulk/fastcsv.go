package bulk

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// fastCSV runs pass 1 over canonical CSV text (already decoded to UTF-8).
// It returns errExotic, having possibly validated part of the file, when the
// input needs the generic reader; the caller then starts over.
func (p *validator) fastCSV(r io.Reader, tick func()) error {
	lr := newLineReader(r)
	var fields [][]byte
	var scratch []byte
	var c *cols
	row := 0
	for n := 0; !p.full(); n++ {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			if c == nil {
				return errExotic // no header: the generic reader says so
			}
			return nil
		}
		if err != nil {
			return err
		}
		row++ // rows are lines, as ingest.CSV numbers them
		if len(line) == 0 {
			continue
		}
		var ok bool
		fields, scratch, ok = splitLine(line, fields[:0], scratch)
		if !ok {
			return errExotic
		}
		if c == nil {
			if blankFields(fields) {
				continue
			}
			if c, err = header(line, len(fields)); err != nil {
				return err
			}
			continue
		}
		if len(trimSpace(cell(fields, c.ind))) == 0 && blankFields(fields) {
			continue
		}
		if len(fields) > c.width && !blankFields(fields[c.width:]) {
			for i := c.width; i < len(fields); i++ {
				if len(trimSpace(fields[i])) > 0 {
					// As the generic reader: the error, and reading stops.
					p.errs = append(p.errs, ingest.BeyondHeader(p.file, row, i, string(fields[i]), c.width))
					return nil
				}
			}
		}
		p.fastRow(row, fields, c)
		if n&0x3fff == 0 && tick != nil {
			tick()
		}
	}
	return nil
}

func blankFields(fields [][]byte) bool {
	for _, f := range fields {
		if len(trimSpace(f)) > 0 {
			return false
		}
	}
	return true
}

// header maps the header line through ingest.NewCSV itself, so that the
// spellings it accepts and its errors stay in one place: it reads the header
// followed by a row numbering the columns. Any header error is left to the
// generic reader, which reports it with the right row.
func header(line []byte, n int) (*cols, error) {
	if !utf8.Valid(line) || bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
		return nil, errExotic
	}
	var b strings.Builder
	b.Write(line)
	b.WriteByte('\n')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteByte('\n')
	src, err := ingest.NewCSV("header", strings.NewReader(b.String()))
	if err != nil {
		return nil, errExotic
	}
	raw, err := src.Next()
	if err != nil {
		return nil, errExotic
	}
	c := &cols{names: raw.Columns, index: map[string]int{}}
	for col, s := range raw.Cells {
		i, err := strconv.Atoi(s)
		if err != nil {
			return nil, errExotic
		}
		c.index[col] = i
	}
	get := func(col string) int {
		if i, ok := c.index[col]; ok {
			return i
		}
		return -1
	}
	c.ind, c.reg, c.per, c.val = get(ingest.ColIndicator), get(ingest.ColRegion), get(ingest.ColPeriod), get(ingest.ColValue)
	c.width = n
	c.unit, c.src, c.note = get(ingest.ColUnit), get(ingest.ColSource), get(ingest.ColNote)
	return c, nil
}
