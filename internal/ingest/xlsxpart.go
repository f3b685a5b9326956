package ingest

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// maxXMLDepth bounds how deep the elements of a workbook part may nest
// (a worksheet needs six levels: worksheet, sheetData, row, c, is, r).
const maxXMLDepth = 64

// maxStyles bounds the number formats and the cell formats of a styles
// part (Excel allows 64,000 cell formats).
const maxStyles = 1 << 16

// xmlTokenLimit bounds one XML token of a workbook part (a tag with its
// attributes, a run of text): limits.line_bytes, and never less than eight
// times limits.cell_bytes (a cell's text with every character escaped).
func xmlTokenLimit(l Limits) int64 {
	return max(int64(l.LineBytes), 8*int64(l.CellBytes))
}

var (
	errNoPart       = errors.New("no such part")
	errTokenTooLong = errors.New("XML token too long")
	errTooDeep      = errors.New("XML elements nested too deep")
)

// tokenGuard fails the read of a token that grows past max bytes, before
// encoding/xml holds more of it: the decoder reads byte by byte from an
// io.ByteReader, and xmlPart.token marks where each token ended.
type tokenGuard struct {
	r            *bufio.Reader
	n, mark, max int64
	over         bool
}

func (g *tokenGuard) ReadByte() (byte, error) {
	if g.n-g.mark >= g.max {
		g.over = true
		return 0, errTokenTooLong
	}
	b, err := g.r.ReadByte()
	if err == nil {
		g.n++
	}
	return b, err
}

// Read makes the guard an io.Reader; encoding/xml uses ReadByte.
func (g *tokenGuard) Read(p []byte) (int, error) {
	for i := range p {
		b, err := g.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

// xmlPart reads one part of a workbook as XML tokens, strictly (only the
// predefined entities, well-formed markup), within xmlTokenLimit and
// maxXMLDepth.
type xmlPart struct {
	name  string
	rc    io.ReadCloser
	g     *tokenGuard
	d     *xml.Decoder
	depth int
}

func openPart(f *zip.File, l Limits) (*xmlPart, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	g := &tokenGuard{r: bufio.NewReaderSize(rc, 32<<10), max: xmlTokenLimit(l)}
	return &xmlPart{name: strings.TrimPrefix(f.Name, "/"), rc: rc, g: g, d: xml.NewDecoder(g)}, nil
}

// token returns the next token; its data is valid until the next call.
func (p *xmlPart) token() (xml.Token, error) {
	t, err := p.d.Token()
	p.g.mark = p.g.n
	if p.g.over { // the decoder returns the text up to the limit first
		return nil, errTokenTooLong
	}
	if err != nil {
		return nil, err
	}
	switch t.(type) {
	case xml.StartElement:
		if p.depth++; p.depth > maxXMLDepth {
			return nil, errTooDeep
		}
	case xml.EndElement:
		p.depth--
	}
	return t, nil
}

// skip reads to the end of the element whose start was just read.
func (p *xmlPart) skip() error {
	for depth := 1; depth > 0; {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

func (p *xmlPart) close() {
	if p.rc != nil {
		p.rc.Close()
		p.rc = nil
	}
}

// limitError is the error of a part whose XML passed the token or depth
// limit.
func (p *xmlPart) limitError(file string, row int, column string, l Limits) *Error {
	if !p.g.over {
		return &Error{File: file, Row: row, Column: column, Message: fmt.Sprintf("%s: elements nested more than %d deep", p.name, maxXMLDepth),
			Expected: xlsxExpected}
	}
	n := xmlTokenLimit(l)
	return &Error{File: file, Row: row, Column: column,
		Message:  fmt.Sprintf("%s: an XML tag or text longer than %s", p.name, bytesize(n)),
		Expected: "at most " + bytesize(n) + " (limits.line_bytes in qualitymon.yaml)"}
}

// eachStart calls fn with every start element of a part, until fn
// returns false or the part ends.
func (x *xlsxTable) eachStart(name string, fn func(xml.StartElement) bool) error {
	f := findPart(x.zr, name)
	if f == nil {
		return fmt.Errorf("%s: %w", name, errNoPart)
	}
	p, err := openPart(f, x.l)
	if err != nil {
		return unreadable(x.file, err)
	}
	defer p.close()
	for {
		t, err := p.token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return x.partError(p, 0, "file", "", err)
		}
		if se, ok := t.(xml.StartElement); ok && !fn(se) {
			return nil
		}
	}
}

// attr is the value of a start element's attribute, by local name.
func attr(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// workbook is what the reader needs from the workbook's small parts.
type workbook struct {
	sheet    string // the part of the first worksheet
	date1904 bool   // dates count from 1904
	styles   string // the styles part
	strings  string // the shared strings part
}

// readWorkbook finds the first worksheet, the date system and the styles
// and shared strings parts, as Excel does: the workbook from the
// package relationships, its first <sheet>, the workbook's relationships.
func (x *xlsxTable) readWorkbook() (*workbook, error) {
	wbPath := "xl/workbook.xml"
	err := x.eachStart("_rels/.rels", func(se xml.StartElement) bool {
		if typ, _ := attr(se, "Type"); se.Name.Local == "Relationship" && strings.HasSuffix(typ, "/officeDocument") {
			t, _ := attr(se, "Target")
			wbPath = strings.TrimPrefix(t, "/")
		}
		return true
	})
	if err != nil && !errors.Is(err, errNoPart) {
		return nil, err
	}
	out := &workbook{}
	sheetID := ""
	err = x.eachStart(wbPath, func(se xml.StartElement) bool {
		switch se.Name.Local {
		case "workbookPr":
			v, _ := attr(se, "date1904")
			out.date1904 = v == "1" || v == "true"
		case "sheet":
			for _, a := range se.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" {
					sheetID = a.Value
				}
			}
			return false // the first sheet
		}
		return true
	})
	if err != nil {
		return nil, asUnreadable(x.file, err)
	}
	dir := path.Dir(wbPath)
	target := func(t string) string {
		if strings.HasPrefix(t, "/") {
			return strings.TrimPrefix(t, "/")
		}
		return path.Join(dir, t)
	}
	out.styles, out.strings = path.Join(dir, "styles.xml"), path.Join(dir, "sharedStrings.xml")
	err = x.eachStart(path.Join(dir, "_rels", path.Base(wbPath)+".rels"), func(se xml.StartElement) bool {
		if se.Name.Local != "Relationship" {
			return true
		}
		id, _ := attr(se, "Id")
		typ, _ := attr(se, "Type")
		t, _ := attr(se, "Target")
		switch {
		case id == sheetID && sheetID != "":
			out.sheet = target(t)
		case strings.HasSuffix(typ, "/styles"):
			out.styles = target(t)
		case strings.HasSuffix(typ, "/sharedStrings"):
			out.strings = target(t)
		}
		return true
	})
	if err != nil {
		return nil, asUnreadable(x.file, err)
	}
	return out, nil
}

// asUnreadable makes a plain error an *Error about the file.
func asUnreadable(file string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return unreadable(file, err)
}

// readStyles reads the number format of each cell style, once a number
// needs it: a missing styles part leaves every number plain.
func (x *xlsxTable) readStyles() error {
	x.styled = true
	f := findPart(x.zr, x.wb.styles)
	if f == nil {
		return nil
	}
	if f.UncompressedSize64 > uint64(x.l.StylesXML) {
		return limitError(x.file, x.lastRow, "file", "workbook part "+clip(x.wb.styles), int64(f.UncompressedSize64), x.l.StylesXML, "styles_xml_bytes")
	}
	p, err := openPart(f, x.l)
	if err != nil {
		return unreadable(x.file, err)
	}
	defer p.close()
	custom := map[int]numFormat{}
	var xfIDs []int
	inXfs := false
	tooMany := func() error {
		return &Error{File: x.file, Row: x.lastRow, Column: "file", Message: fmt.Sprintf("%s: more than %d formats", p.name, maxStyles), Expected: xlsxExpected}
	}
	for {
		t, err := p.token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x.partError(p, x.lastRow, "file", "", err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "cellXfs":
				inXfs = true
			case "numFmt":
				if len(custom) >= maxStyles {
					return tooMany()
				}
				id, _ := attr(t, "numFmtId")
				code, _ := attr(t, "formatCode")
				if n, err := strconv.Atoi(id); err == nil {
					custom[n] = classifyFormat(code)
				}
			case "xf":
				if !inXfs {
					continue
				}
				if len(xfIDs) >= maxStyles {
					return tooMany()
				}
				id, _ := attr(t, "numFmtId")
				n, _ := strconv.Atoi(id)
				xfIDs = append(xfIDs, n)
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
	x.formats = make([]numFormat, len(xfIDs))
	for i, id := range xfIDs {
		f, ok := custom[id]
		if !ok {
			f = builtinFormat(id)
		}
		x.formats[i] = f
	}
	return nil
}

// sharedStrings is the shared strings table, packed: the strings end to
// end in one buffer, and where each ends.
type sharedStrings struct {
	part string
	buf  []byte
	end  []uint32
}

func (s *sharedStrings) len() int { return len(s.end) }

func (s *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(s.end) {
		return "", false
	}
	from := uint32(0)
	if i > 0 {
		from = s.end[i-1]
	}
	return string(s.buf[from:s.end[i]]), true
}

// readSharedStrings reads the shared strings strictly, once a cell refers
// to one, within limits.shared_strings and limits.shared_string_bytes
// (what they hold once parsed; the _xHHHH_ escapes decoded).
func (x *xlsxTable) readSharedStrings() (*sharedStrings, error) {
	s := &sharedStrings{part: x.wb.strings}
	f := findPart(x.zr, x.wb.strings)
	if f == nil {
		return s, nil
	}
	p, err := openPart(f, x.l)
	if err != nil {
		return nil, unreadable(x.file, err)
	}
	defer p.close()
	s.part = p.name
	inSI, inText, phonetic := false, false, 0
	start := 0
	for {
		t, err := p.token()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, x.partError(p, 0, p.name, fmt.Sprintf("shared string no. %d", len(s.end)+1), err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				if len(s.end) >= x.l.SharedStrings {
					return nil, &Error{File: x.file, Column: p.name, Message: fmt.Sprintf("more than %d shared strings", x.l.SharedStrings),
						Expected: fmt.Sprintf("at most %d shared strings (limits.shared_strings in qualitymon.yaml)", x.l.SharedStrings)}
				}
				inSI, start = true, len(s.buf)
			case "rPh":
				phonetic++
			case "t":
				inText = inSI && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if text := string(s.buf[start:]); strings.Contains(text, "_x") {
					s.buf = append(s.buf[:start], unescapeXString(text)...)
				}
				s.end = append(s.end, uint32(len(s.buf)))
				inSI = false
			case "rPh":
				phonetic--
			case "t":
				inText = false
			}
		case xml.CharData:
			if !inText {
				continue
			}
			if int64(len(s.buf)+len(t)) > x.l.SharedStringBytes {
				return nil, limitError(x.file, 0, p.name, fmt.Sprintf("shared strings (at no. %d)", len(s.end)+1),
					int64(len(s.buf)+len(t)), x.l.SharedStringBytes, "shared_string_bytes")
			}
			s.buf = append(s.buf, t...)
		}
	}
}

// findPart finds a part by name, case-insensitively (as Excel does).
func findPart(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if strings.EqualFold(strings.TrimPrefix(f.Name, "/"), name) {
			return f
		}
	}
	return nil
}
