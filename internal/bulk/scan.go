package bulk

import (
	"bytes"
	"errors"
	"io"
	"unicode"
	"unicode/utf8"
)

// errExotic makes the fast path give up: the input uses CSV features it
// leaves to encoding/csv (a quoted field spanning lines, a bare or stray
// quote, a very long line, a header it cannot map). The file is then read
// again by the generic parser, which gives the exact rows or errors.
var errExotic = errors.New("bulk: input needs the generic CSV reader")

// maxLine bounds a line of the fast path; longer lines are exotic.
const maxLine = 4 << 20

// lineReader splits a stream into lines the way encoding/csv does: "\n" ends
// a line, a "\r" just before it is dropped, and so is a "\r" ending the input.
type lineReader struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r, buf: make([]byte, 1<<20)}
}

// next returns the next line (valid until the following call) or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.pos:l.end], '\n'); i >= 0 {
			line := l.buf[l.pos : l.pos+i]
			l.pos += i + 1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		if l.eof {
			if l.pos == l.end {
				if l.err != nil {
					return nil, l.err
				}
				return nil, io.EOF
			}
			line := l.buf[l.pos:l.end]
			l.pos = l.end
			if n := len(line); line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		if err := l.fill(); err != nil {
			return nil, err
		}
	}
}

func (l *lineReader) fill() error {
	if l.pos > 0 {
		l.end = copy(l.buf, l.buf[l.pos:l.end])
		l.pos = 0
	}
	if l.end == len(l.buf) {
		if len(l.buf) >= maxLine {
			return errExotic
		}
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
	return nil
}

// trimLeft drops leading white space as encoding/csv's TrimLeadingSpace does.
func trimLeft(b []byte) []byte {
	if len(b) == 0 || !maybeSpace(b[0]) {
		return b
	}
	return bytes.TrimLeftFunc(b, unicode.IsSpace)
}

// maybeSpace reports whether a rune starting with byte c may be white space:
// ASCII space and controls, and the lead bytes of U+0085, U+00A0 (0xC2),
// U+1680 (0xE1), U+2000–U+205F (0xE2) and U+3000 (0xE3). Lead bytes of CJK
// text (0xE4 and up) never are.
func maybeSpace(c byte) bool {
	return c <= ' ' || c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3
}

// trimSpace is bytes.TrimSpace with a shortcut for cells that start and end
// with something that cannot be space.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || maybeSpace(b[0]) {
		return bytes.TrimSpace(b)
	}
	last := b[len(b)-1]
	if last > ' ' && last < 0x80 {
		return b
	}
	if r, _ := utf8.DecodeLastRune(b); last >= 0x80 && !unicode.IsSpace(r) {
		return b
	}
	return bytes.TrimSpace(b)
}

// splitLine splits one line into fields as encoding/csv does with
// TrimLeadingSpace, appending to fields. Quoted fields are unescaped into
// scratch. ok is false when the line needs encoding/csv (it starts a quoted
// field it does not end, or has a quote where RFC 4180 allows none).
func splitLine(line []byte, fields [][]byte, scratch []byte) (_ [][]byte, _ []byte, ok bool) {
	start := 0
	for i, c := range line {
		if c == ',' {
			fields = append(fields, trimLeft(line[start:i]))
			start = i + 1
		} else if c == '"' {
			return splitQuoted(line, fields[:0], scratch)
		}
	}
	return append(fields, trimLeft(line[start:])), scratch, true
}

func splitQuoted(line []byte, fields [][]byte, scratch []byte) (_ [][]byte, _ []byte, ok bool) {
	// Unescaped quoted fields must stay valid while later fields are
	// appended to scratch, so reserve the worst case up front.
	if cap(scratch) < len(line) {
		scratch = make([]byte, 0, 2*len(line))
	}
	scratch = scratch[:0]
	for {
		line = trimLeft(line)
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			f := line
			if i >= 0 {
				f = line[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return fields, scratch, false // bare quote
			}
			fields = append(fields, f)
			if i < 0 {
				return fields, scratch, true
			}
			line = line[i+1:]
			continue
		}
		line = line[1:]
		start := len(scratch)
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				return fields, scratch, false // the field goes on past the line
			}
			scratch = append(scratch, line[:i]...)
			line = line[i+1:]
			if len(line) > 0 && line[0] == '"' {
				scratch = append(scratch, '"')
				line = line[1:]
				continue
			}
			break
		}
		fields = append(fields, scratch[start:len(scratch):len(scratch)])
		if len(line) == 0 {
			return fields, scratch, true
		}
		if line[0] != ',' {
			return fields, scratch, false // text after the closing quote
		}
		line = line[1:]
	}
}
