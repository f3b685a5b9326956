package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode"
)

// fastCSVTable is the CSV table every path reads (OpenAs): it splits lines
// itself, one string per line and its cells sliced from it, by the one
// quoting rule of csvTable (RFC 4180, leading spaces of a field dropped).
// A line it is not sure of — a quoted field going on past the line, a bare
// or stray quote, a line longer than the limit — hands the rest of the text,
// from that line on, to csvTable (encoding/csv), which then gives every row
// and error with its row number; so the two read every text alike (see
// TestFastCSVMatchesEncodingCSV) and the common case costs one allocation
// per line and one per row.
type fastCSVTable struct {
	file string
	lr   *lineReader
	l    Limits
	line int // lines read by the fast reader

	// slow reads the rest of the text once the fast reader handed over;
	// its rows are numbered from offset + 1.
	slow   *csvTable
	offset int
}

// newFastCSVTable reads UTF-8 CSV text (see Decode) within l (defaults set).
func newFastCSVTable(file string, r io.Reader, l Limits) *fastCSVTable {
	return &fastCSVTable{file: file, lr: newLineReader(r, l.LineBytes), l: l}
}

func (t *fastCSVTable) Next() (int, []string, error) {
	if t.slow != nil {
		return t.slowNext()
	}
	for {
		line, err := t.lr.next()
		if errors.Is(err, errHandOver) {
			t.handOver()
			return t.slowNext()
		}
		if err != nil {
			return 0, nil, err
		}
		t.line++
		if len(line) == 0 {
			continue // encoding/csv skips empty lines
		}
		cells, ok := splitLine(string(line))
		if !ok {
			t.line--
			t.handOver()
			return t.slowNext()
		}
		return t.line, cells, nil
	}
}

// handOver reads the text from the start of the last line on with
// encoding/csv.
func (t *fastCSVTable) handOver() {
	rest := io.MultiReader(bytes.NewReader(t.lr.fromLineStart()), t.lr.r)
	t.slow, t.offset = newCSVReaderTable(t.file, rest, t.l, t.line), t.line
}

func (t *fastCSVTable) slowNext() (int, []string, error) {
	row, cells, err := t.slow.Next()
	var e *Error
	if errors.As(err, &e) && e.Row > 0 {
		e.Row += t.offset
	}
	if err != nil {
		return 0, nil, err
	}
	return row + t.offset, cells, nil
}

func (t *fastCSVTable) Close() error { return nil }

// errHandOver: the line reader met a line longer than the limit.
var errHandOver = errors.New("ingest: line for encoding/csv")

// lineReader splits a stream into lines the way encoding/csv does: "\n" ends
// a line, a "\r" just before it is dropped, and so is a "\r" ending the input.
type lineReader struct {
	r         io.Reader
	buf       []byte
	pos, end  int
	lineStart int // offset of the last line returned
	limit     int // a longer line hands over (errHandOver)
	eof       bool
	err       error
}

// The line reader's buffer starts at minLineBuf bytes, so that a small
// upload (most are a few hundred bytes) costs no large allocation, and
// doubles while reads fill it, up to lineBuf for a large file (and past
// it only for a line longer than the buffer).
const (
	minLineBuf = 16 << 10
	lineBuf    = 1 << 20
)

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{r: r, buf: make([]byte, minLineBuf), limit: limit}
}

// next returns the next line (valid until the following call) or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.pos:l.end], '\n'); i >= 0 && i <= l.limit {
			line := l.buf[l.pos : l.pos+i]
			l.lineStart, l.pos = l.pos, l.pos+i+1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		if l.end-l.pos > l.limit {
			l.lineStart = l.pos
			return nil, errHandOver
		}
		if l.eof {
			if l.pos == l.end {
				if l.err != nil {
					return nil, l.err
				}
				return nil, io.EOF
			}
			line := l.buf[l.pos:l.end]
			l.lineStart, l.pos = l.pos, l.end
			if n := len(line); line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		l.fill()
	}
}

// fromLineStart is the buffered text from the start of the last line on.
func (l *lineReader) fromLineStart() []byte { return l.buf[l.lineStart:l.end] }

func (l *lineReader) fill() {
	if l.pos > 0 {
		l.end = copy(l.buf, l.buf[l.pos:l.end])
		l.pos = 0
	}
	if l.end == len(l.buf) || (len(l.buf) < lineBuf && l.end > len(l.buf)/2) {
		nb := make([]byte, 2*len(l.buf))
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	n, err := l.r.Read(l.buf[l.end:])
	l.end += n
	if err != nil {
		l.eof = true
		if !errors.Is(err, io.EOF) {
			l.err = err
		}
	}
}

// trimLeft drops leading white space as encoding/csv's TrimLeadingSpace does.
func trimLeft(s string) string {
	if len(s) == 0 || !maybeSpace(s[0]) {
		return s
	}
	return strings.TrimLeftFunc(s, unicode.IsSpace)
}

// maybeSpace reports whether a rune starting with byte c may be white space:
// ASCII space and controls, and the lead bytes of U+0085, U+00A0 (0xC2),
// U+1680 (0xE1), U+2000–U+205F (0xE2) and U+3000 (0xE3). Lead bytes of CJK
// text (0xE4 and up) never are.
func maybeSpace(c byte) bool {
	return c <= ' ' || c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3
}

// splitLine splits one line into cells as encoding/csv does with
// TrimLeadingSpace. ok is false when the line needs encoding/csv (it starts
// a quoted field it does not end, or has a quote where RFC 4180 allows none).
func splitLine(line string) (_ []string, ok bool) {
	n := strings.Count(line, ",") + 1
	if strings.IndexByte(line, '"') >= 0 {
		return splitQuoted(line, make([]string, 0, n))
	}
	cells := make([]string, 0, n)
	for {
		i := strings.IndexByte(line, ',')
		if i < 0 {
			return append(cells, trimLeft(line)), true
		}
		cells = append(cells, trimLeft(line[:i]))
		line = line[i+1:]
	}
}

func splitQuoted(line string, cells []string) (_ []string, ok bool) {
	var b strings.Builder
	for {
		line = trimLeft(line)
		if len(line) == 0 || line[0] != '"' {
			i := strings.IndexByte(line, ',')
			f := line
			if i >= 0 {
				f = line[:i]
			}
			if strings.IndexByte(f, '"') >= 0 {
				return cells, false // bare quote
			}
			cells = append(cells, f)
			if i < 0 {
				return cells, true
			}
			line = line[i+1:]
			continue
		}
		line = line[1:]
		b.Reset()
		for {
			i := strings.IndexByte(line, '"')
			if i < 0 {
				return cells, false // the field goes on past the line
			}
			b.WriteString(line[:i])
			line = line[i+1:]
			if len(line) > 0 && line[0] == '"' {
				b.WriteByte('"')
				line = line[1:]
				continue
			}
			break
		}
		cells = append(cells, b.String())
		if len(line) == 0 {
			return cells, true
		}
		if line[0] != ',' {
			return cells, false // text after the closing quote
		}
		line = line[1:]
	}
}

// newCSVReaderTable is encoding/csv with qualitymon's quoting rule over
// UTF-8 text within l (defaults set; csvGuard). Its rows and lines are
// numbered from 1 after offset lines already read.
func newCSVReaderTable(file string, r io.Reader, l Limits, offset int) *csvTable {
	g := newCSVGuard(r, file, l)
	g.offset = offset
	cr := csv.NewReader(g)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return &csvTable{file: file, r: cr}
}
