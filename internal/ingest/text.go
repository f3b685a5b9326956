package ingest

import (
	"fmt"
	"unicode/utf8"
)

// TextProblem says what makes a cell's text unfit to store, or "" when it
// is fit. Refused in every cell: control characters (C0, DEL, C1: NUL
// among them), the replacement character U+FFFD (text that was garbled
// before it arrived, or bytes no encoding could read) and the bidirectional
// embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
// which make text read differently from what it holds. A note
// (multiline) may hold tabs and line feeds; every other cell none.
func TextProblem(s string, multiline bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(multiline && (c == '\t' || c == '\n')) {
				return fmt.Sprintf("control character %s at byte %d", controlName(rune(c)), i+1)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("bytes that are not UTF-8 text at byte %d", i+1)
		case r == utf8.RuneError:
			return fmt.Sprintf("replacement character U+FFFD at byte %d (text garbled before it arrived)", i+1)
		case r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("control character U+%04X at byte %d", r, i+1)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return fmt.Sprintf("bidirectional control U+%04X at byte %d", r, i+1)
		}
		i += n
	}
	return ""
}

// controlName names an ASCII control character as people know it.
func controlName(r rune) string {
	switch r {
	case 0:
		return "NUL"
	case '\t':
		return "TAB"
	case '\n':
		return "LF (line break)"
	case '\r':
		return "CR (line break)"
	case 0x7f:
		return "DEL"
	}
	return fmt.Sprintf("U+%04X", r)
}

// What a cell refused by TextProblem should hold instead.
const (
	TextExpected      = "plain text on one line, without control characters"
	MultilineExpected = "plain text (tabs and line breaks allowed; no other control characters)"
)

func textExpected(multiline bool) string {
	if multiline {
		return MultilineExpected
	}
	return TextExpected
}
