package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Decode returns a reader of the UTF-8 text of a whole file, the encoding
// decided for the whole file before a byte is returned:
//
//   - a file that starts with a UTF-8 byte-order mark is UTF-8 (the mark
//     dropped) and must be valid UTF-8 throughout ("utf-8-bom");
//   - a file that is valid UTF-8 throughout is UTF-8 ("utf-8");
//   - any other file is GB18030 (a superset of GBK and GB2312: "gb18030"),
//     provided every line decodes as GB18030 and no line reads as UTF-8
//     Chinese text (a line of valid UTF-8 holding a character of three or
//     more bytes), which would make it a file of mixed encodings.
//
// Anything else is refused with an *Error naming the first row (line) where
// the file goes wrong; its File is empty (InFile sets it). Text is never
// returned garbled.
//
// Deciding needs the whole file first: a reader that is an io.Seeker (a
// file, a bytes.Reader) is read twice, from its current offset; any other
// reader is read into memory.
func Decode(r io.Reader) (io.Reader, string, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, "", err
		}
		rs = bytes.NewReader(data)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, "", err
	}
	// Buffers of the file's size when it is small: a 5-row upload does not
	// allocate (and clear) 128 KiB of buffers.
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, "", err
	}
	bufSize := int(min(64<<10, max(end-start+1, 16)))
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, "", err
	}
	enc, err := detect(rs, bufSize)
	if err != nil {
		return nil, "", err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(rs, bufSize)
	switch enc {
	case "utf-8-bom":
		br.Discard(len(bom))
	case "gb18030":
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), enc, nil
	}
	return br, enc, nil
}

var bom = []byte("\xef\xbb\xbf")

// EncodingExpected is what a file refused for its encoding should be.
const EncodingExpected = "the whole file saved in one encoding: UTF-8 (Excel: CSV UTF-8) or GBK/GB18030"

// maxDecodeLine bounds a line while the encoding is decided; the readers
// refuse far shorter lines anyway (limits.line_bytes).
const maxDecodeLine = 16 << 20

// detect reads the whole text and decides its encoding (see Decode).
func detect(r io.Reader, bufSize int) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, bufSize), maxDecodeLine)
	sc.Split(scanLines)
	var (
		row                          int
		firstBad, firstWide, firstGB int // rows: not UTF-8; UTF-8 Chinese; not GB18030
		badLine, gbLine              string
		withBOM                      bool
	)
	gb := simplifiedchinese.GB18030.NewDecoder()
	var gbBuf []byte // for the lines that are not ASCII only
	for sc.Scan() {
		row++
		line := sc.Bytes()
		if row == 1 && bytes.HasPrefix(line, bom) {
			withBOM, line = true, line[len(bom):]
		}
		if ascii(line) {
			continue
		}
		valid, wide := scanUTF8(line)
		switch {
		case valid && wide:
			if firstWide == 0 {
				firstWide = row
			}
			continue // GB18030 or not, such a line makes a non-UTF-8 file mixed
		case !valid && firstBad == 0:
			firstBad, badLine = row, excerptBytes(line)
		}
		if gbBuf == nil {
			gbBuf = make([]byte, 4<<10)
		}
		if firstGB == 0 && !withBOM && !gbText(gb, line, gbBuf) {
			firstGB, gbLine = row, excerptBytes(line)
		}
		if firstBad != 0 && (withBOM || firstWide != 0 || firstGB != 0) {
			break // decided: refused
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "", &Error{Row: row + 1, Column: "file", Message: fmt.Sprintf("a line longer than %s", bytesize(maxDecodeLine)), Expected: "a table with one record per line"}
		}
		return "", err
	}
	const expected = EncodingExpected
	switch {
	case firstBad == 0 && withBOM:
		return "utf-8-bom", nil
	case firstBad == 0:
		return "utf-8", nil
	case withBOM:
		return "", &Error{Row: firstBad, Column: "file", Value: badLine, Message: "the file starts with a UTF-8 byte-order mark but this line is not UTF-8 text", Expected: expected}
	case firstWide != 0:
		return "", &Error{Row: firstBad, Column: "file", Value: badLine,
			Message: fmt.Sprintf("mixed text encodings: row %d is UTF-8 text but this row is not UTF-8", firstWide), Expected: expected}
	case firstGB != 0:
		return "", &Error{Row: firstGB, Column: "file", Value: gbLine, Message: "this row is neither UTF-8 nor GBK/GB18030 text", Expected: expected}
	}
	return "gb18030", nil
}

// gbText reports whether b decodes as GB18030 with nothing replaced by
// U+FFFD, decoding through buf a piece at a time (no copy of the line).
func gbText(gb transform.Transformer, b, buf []byte) bool {
	gb.Reset()
	for {
		nDst, nSrc, err := gb.Transform(buf, b, true)
		if bytes.ContainsRune(buf[:nDst], utf8.RuneError) {
			return false
		}
		b = b[nSrc:]
		switch {
		case err == nil:
			return true
		case err != transform.ErrShortDst:
			return false
		}
	}
}

// scanLines splits at "\n" (kept out of the token) as the CSV readers
// count lines; a "\r" stays in the line (it is ASCII in every encoding).
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// scanUTF8 reports whether b is valid UTF-8 and whether it holds a
// character of three or four bytes (CJK text is; the two-byte characters
// are also what GBK text looks like by chance).
func scanUTF8(b []byte) (valid, wide bool) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return false, wide
		}
		wide = wide || n >= 3
		i += n
	}
	return true, wide
}

// excerptBytes quotes the start of a line that is not text in any one
// encoding: what it can read as UTF-8, with \x escapes for the rest.
func excerptBytes(b []byte) string {
	if len(b) > 48 {
		b = b[:48]
	}
	q := fmt.Sprintf("%+q", b)
	return strings.TrimSuffix(strings.TrimPrefix(q, `"`), `"`)
}

// InFile names the file in a reading error: the *Error (or each of the
// Errors) gets file as its File when it has none; any other error is
// wrapped with the name.
func InFile(file string, err error) error {
	var e *Error
	var es Errors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es):
		for _, x := range es {
			if x.File == "" {
				x.File = file
			}
		}
		return es
	case errors.As(err, &e):
		if e.File == "" {
			e.File = file
		}
		return e
	}
	return fmt.Errorf("%s: %w", file, err)
}
