package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readTable renders every row of a table, and the error that ends it.
func readTable(t Table) string {
	var b strings.Builder
	for {
		row, cells, err := t.Next()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			return b.String()
		}
		fmt.Fprintf(&b, "%d %q\n", row, cells)
	}
}

// fastCases are texts the fast reader reads itself (fast) or hands, from
// some line on, to encoding/csv.
var fastCases = []struct {
	name, in string
	fast     bool
}{
	{"plain", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\n", true},
	{"quoted fields", "a,b\n\"x\",\"a, \"\"b\"\"\"\n  \"y\",z\n", true},
	{"crlf blank lines", "\r\n,,\r\na,b\r\n\r\n , ,\r\nx,y\r\nz,w\r", true},
	{"leading spaces", " a,\u3000b,\u00a0c, \"d\"\n", true},
	{"no final newline", "a,b\nc,d", true},
	{"lone cr inside", "a,b\rc\n", true},
	{"multi-line quoted field", "a,b\nx,\"1\n2\"\ny,3\n", false},
	{"bare quote", "a,b\nx,9\"6\ny,z\n", false},
	{"text after quote", "a,b\nx,\"96\" \ny,z\n", false},
	{"unterminated quote", "a,b\nx,\"96\n", false},
	{"long line", "a,b\n" + strings.Repeat("x", 300) + "\ny,z\n", false},
	{"empty", "", true},
}

// TestFastCSVMatchesEncodingCSV: the fast reader gives the rows (numbers
// and cells) and errors encoding/csv gives, and reads the common texts
// itself.
func TestFastCSVMatchesEncodingCSV(t *testing.T) {
	l := Limits{LineBytes: 200}.WithDefaults()
	for _, c := range fastCases {
		t.Run(c.name, func(t *testing.T) {
			fast := newFastCSVTable("in.csv", strings.NewReader(c.in), l)
			got := readTable(&limitedTable{Table: fast, file: "in.csv", l: l})
			want := readTable(&limitedTable{Table: newCSVReaderTable("in.csv", strings.NewReader(c.in), l, 0), file: "in.csv", l: l})
			if got != want {
				t.Errorf("fast:\n%s\nencoding/csv:\n%s", got, want)
			}
			if (fast.slow == nil) != c.fast {
				t.Errorf("read by the fast reader alone: %v, want %v", fast.slow == nil, c.fast)
			}
		})
	}
}

func FuzzFastCSV(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c.in))
	}
	l := Limits{LineBytes: 64}.WithDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		got := readTable(&limitedTable{Table: newFastCSVTable("f", strings.NewReader(string(data)), l), file: "f", l: l})
		want := readTable(&limitedTable{Table: newCSVReaderTable("f", strings.NewReader(string(data)), l, 0), file: "f", l: l})
		if got != want {
			t.Fatalf("input %q\nfast:\n%s\nencoding/csv:\n%s", data, got, want)
		}
	})
}
