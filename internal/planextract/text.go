package planextract

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// Decode returns the text of a plan file as ingest.Decode reads it: UTF-8
// (with or without BOM) or GB18030 (a superset of GBK), decided for the
// whole file. The second result names the encoding found; a file in no one
// encoding is read as UTF-8 with what is not UTF-8 replaced by U+FFFD, and
// named "mixed", for a person to look at.
func Decode(data []byte) (string, string) {
	r, enc, err := ingest.Decode(bytes.NewReader(data))
	if err != nil {
		return strings.ToValidUTF8(string(data), "\uFFFD"), "mixed"
	}
	text, _ := io.ReadAll(r) // a bytes.Reader does not fail, nor does the decoder of a text found valid
	return string(text), enc
}

// Normalize folds a line the way the extractor reads it: full-width
// letters, digits and punctuation become ASCII ("，" → ",", "（" → "(",
// "９８．５" → "98.5"), the ideographic comma and full stop stay, every
// run of white space (including the ideographic space and no-break space)
// is dropped except a single space between two ASCII letters or digits
// that are not part of a number, and control characters go.
func Normalize(s string) string {
	s = width.Fold.String(s)
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if unicode.IsSpace(r) || r == '\u3000' || r == '\u00a0' || r == '\u200b' || r == '\ufeff' {
			// Keep one space only between ASCII words ("ISO 9001").
			j := i
			for j < len(rs) && (unicode.IsSpace(rs[j]) || rs[j] == '\u3000' || rs[j] == '\u00a0' || rs[j] == '\u200b' || rs[j] == '\ufeff') {
				j++
			}
			if i > 0 && j < len(rs) && isASCIILetter(rs[i-1]) && isASCIILetter(rs[j]) {
				b.WriteByte(' ')
			}
			i = j - 1
			continue
		}
		if unicode.IsControl(r) {
			continue
		}
		switch r {
		case '\u201c', '\u201d': // keep Chinese quotation marks as printed
		case '\u2014', '\u2013':
		case '\uff0e':
			r = '.'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCIILetter(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r))
}

// isPrivate reports a private-use code point (U+E000–U+F8FF), which some
// publishing systems leave where a glyph such as the decimal point was.
func isPrivate(r rune) bool { return r >= 0xE000 && r <= 0xF8FF }

// Lines splits the text into logical lines: physical lines joined where the
// web broke a sentence (a line not ending in terminal punctuation, followed
// by a line that does not start a new heading or clause).
func Lines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out []string
	for _, raw := range strings.Split(text, "\n") {
		l := Normalize(raw)
		if l == "" {
			continue
		}
		if n := len(out); n > 0 && !endsParagraph(out[n-1]) && !startsParagraph(l) {
			out[n-1] += l
			continue
		}
		out = append(out, l)
	}
	return out
}

func endsParagraph(l string) bool {
	r, _ := utf8.DecodeLastRuneInString(l)
	return strings.ContainsRune("。;:!?)」”》", r) || isHeading(l)
}

// isHeading reports a short title line such as "一、总体要求" or "(二)基本原则".
func isHeading(l string) bool {
	_, _, _, rest := clauseMarker(l)
	return rest != l && utf8.RuneCountInString(rest) <= 20 && !strings.ContainsAny(rest, "。,;")
}

func startsParagraph(l string) bool {
	_, _, _, rest := clauseMarker(l)
	return rest != l || strings.HasPrefix(l, "——") || strings.HasPrefix(l, "附件")
}
