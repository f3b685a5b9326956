package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxNumbers is a canonical workbook of one row whose cells are numbers
// (no shared strings: written inline).
func xlsxNumbers(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"indicator", "region", "period", "value"})
	sw.SetRow("A2", []any{"food_sampling_pass_rate", 370000, 2020, 97})
	sw.Flush()
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bomb is a workbook whose worksheet inflates to n bytes of blanks: a few
// hundred KiB on the wire.
func bomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	add("[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)
	add("xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	blank := bytes.Repeat([]byte(" "), 1<<20)
	for left := n; left > 0; left -= len(blank) {
		w.Write(blank[:min(left, len(blank))])
	}
	io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("长", 3000) // 9,000 bytes: over cell_bytes
	xlsxWith := func(cells ...string) []byte {
		f := excelize.NewFile()
		for i, c := range cells {
			name, _ := excelize.CoordinatesToCellName(i+1, 2)
			f.SetCellValue("Sheet1", name, c)
		}
		for i, h := range []string{"indicator", "region", "period", "value"} {
			name, _ := excelize.CoordinatesToCellName(i+1, 1)
			f.SetCellValue("Sheet1", name, h)
		}
		var b bytes.Buffer
		if err := f.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cases := []struct {
		name, file string
		data       []byte
		lim        Limits
		want       string
	}{
		{"zip bomb: a sheet of 100 MiB blanks", "bomb.xlsx", bomb(t, 100<<20), Limits{},
			"bomb.xlsx:0:file: workbook part xl/worksheets/sheet1.xml of 100.0 MiB exceeds the limit of 64 MiB (expected at most 64 MiB (limits.sheet_xml_bytes in qualitymon.yaml))"},
		{"decompressed total", "bomb.xlsx", bomb(t, 3<<20), Limits{XLSXUnzipped: 2 << 20},
			"bomb.xlsx:0:file: decompressed workbook of 3.0 MiB exceeds the limit of 2 MiB"},
		{"a cell too long in a workbook", "big.xlsx", xlsxWith("food_sampling_pass_rate", big, "2020", "97"), Limits{},
			"big.xlsx:2:column 2: a cell of 9000 bytes exceeds the limit of 4 KiB"},
		{"a CSV line too long", "long.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97," + strings.Repeat("x", 70<<10) + "\n"), Limits{},
			"long.csv:2:file: a line of 65537 bytes exceeds the limit of 64 KiB"},
		{"too many cells", "wide.csv", []byte("indicator,region,period,value\n" + strings.Repeat(",", 1200) + "\n"), Limits{},
			"wide.csv:2:file: 1201 cells in one row exceed the limit of 1000"},
		{"a quoted CSV cell full of line breaks", "q.csv", []byte("indicator,region,period,value,note\nfood_sampling_pass_rate,370000,2020,97,\"" + strings.Repeat("\n", 1<<20) + "\"\n"), Limits{},
			"q.csv:2:column 5: a cell of 4097 bytes exceeds the limit of 4 KiB (expected at most 4 KiB (limits.cell_bytes in qualitymon.yaml))"},
		// One line within line_bytes: the fast reader reads it whole and
		// counts the cell's text ("" once).
		{"a quoted CSV cell with doubled quotes", "q.csv", []byte("indicator,region,period,value,note\nfood_sampling_pass_rate,370000,2020,97, \"" + strings.Repeat(`""`, 5000) + "\"\n"), Limits{},
			"q.csv:2:column 5: a cell of 5000 bytes exceeds the limit of 4 KiB"},
		{"a CSV record over lines", "r.csv", []byte("indicator,region,period,value,note\nfood_sampling_pass_rate,370000,2020,97,\"" + strings.Repeat("a\n", 600) + "\"\n"), Limits{LineBytes: 1000, CellBytes: 1 << 20},
			"r.csv:2:file: a record (lines 2–482) of 1001 bytes exceeds the limit of 1000 bytes (expected at most 1000 bytes (limits.line_bytes in qualitymon.yaml))"},
		{"styles part past its cap", "s.xlsx", xlsxNumbers(t), Limits{StylesXML: 100},
			"s.xlsx:2:file: workbook part xl/styles.xml of"},
		{"too many shared strings", "n.xlsx", xlsxWith("food_sampling_pass_rate", "370000", "2020", "97"), Limits{SharedStrings: 5},
			"n.xlsx:0:xl/sharedStrings.xml: more than 5 shared strings (expected at most 5 shared strings (limits.shared_strings in qualitymon.yaml))"},
		{"shared strings past their bytes", "b.xlsx", xlsxWith("food_sampling_pass_rate", "370000", "2020", "97"), Limits{SharedStringBytes: 40},
			"b.xlsx:0:xl/sharedStrings.xml: shared strings (at no. 5) of 44 bytes exceeds the limit of 40 bytes (expected at most 40 bytes (limits.shared_string_bytes in qualitymon.yaml))"},
		{"an XML text past the token limit", "t.xlsx", patchPart(t, xlsxNumbers(t), "xl/worksheets/sheet1.xml", `<c r="D2"><v>97</v></c>`,
			`<c r="D2" t="inlineStr"><is><t>`+strings.Repeat("9", 70<<10)+`</t></is></c>`), Limits{},
			"t.xlsx:2:cell D2: xl/worksheets/sheet1.xml: an XML tag or text longer than 64 KiB (expected at most 64 KiB (limits.line_bytes in qualitymon.yaml))"},
		{"XML nested too deep", "d.xlsx", patchPart(t, xlsxNumbers(t), "xl/worksheets/sheet1.xml", `<c r="D2"><v>97</v></c>`,
			`<c r="D2">`+strings.Repeat("<x>", 100)+strings.Repeat("</x>", 100)+`<v>97</v></c>`), Limits{},
			"d.xlsx:2:cell D2: xl/worksheets/sheet1.xml: elements nested more than 64 deep"},
		{"a cell past the cells of a row", "w.xlsx", patchPart(t, xlsxNumbers(t), "xl/worksheets/sheet1.xml", `<c r="D2"><v>97</v></c>`, `<c r="D2"><v>97</v></c><c r="XFD2"><v>1</v></c>`), Limits{},
			"w.xlsx:2:file: 16384 cells in one row exceed the limit of 1000"},
		{"too many rows", "rows.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97\nfood_sampling_pass_rate,370000,2019,97\n"), Limits{Rows: 2},
			"rows.csv:3:file: more rows than the limit of 2 (expected at most 2 rows (limits.rows in qualitymon.yaml))"},
	}
	v := validator(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := Open(c.file, bytes.NewReader(c.data), v.Catalog, c.lim)
			if err == nil {
				_, err = v.ReadAll(src)
				src.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes quotes too much", len(err.Error()))
			}
		})
	}
}

// An error quotes at most an excerpt of the cell it is about.
func TestErrorExcerpt(t *testing.T) {
	v := validator(t)
	long := strings.Repeat("山东", 300)
	c, err := NewCSV("x.csv", strings.NewReader("indicator,region,period,value,source\nfood_sampling_pass_rate,"+long+",2020,97,"+strings.Repeat("s", 600)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.ReadAll(c)
	errs, ok := err.(Errors)
	if !ok || len(errs) != 2 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(errs[1].Error(), "a source of 600 bytes exceeds the limit of 512 bytes") {
		t.Errorf("source limit: %v", errs[1])
	}
	for _, e := range errs {
		b, _ := json.Marshal(e)
		var back struct{ Value, Message string }
		json.Unmarshal(b, &back)
		if n := len([]rune(back.Value)); n > 100 || n == 0 {
			t.Errorf("value of %d characters in %s", n, b)
		}
		if len(e.Error()) > 400 {
			t.Errorf("message quotes the whole cell: %d bytes", len(e.Error()))
		}
	}
}

// A header alone, and cells beyond the header, are errors.
func TestStrictShape(t *testing.T) {
	v := validator(t)
	for in, want := range map[string]string{
		"indicator,region,period,value\n":                                           "h.csv:0:file: no data rows",
		"indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97,9\n": "h.csv:2:column 5: a cell beyond the 4 columns the header names",
	} {
		src, err := Open("h.csv", strings.NewReader(in), v.Catalog, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.ReadAll(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
}

// Cells a spreadsheet would run are written as text; numbers stay numbers.
func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0":  "'=cmd|' /C calc'!A0",
		"+SUM(A1:A2)":         "'+SUM(A1:A2)",
		"-2+3+cmd|' /C calc'": "'-2+3+cmd|' /C calc'",
		"@SUM(1)":             "'@SUM(1)",
		"\t=1":                "'\t=1",
		"-1.5":                "-1.5",
		"+3":                  "+3",
		"98.5":                "98.5",
		"山东省":                 "山东省",
		"":                    "",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
	var b strings.Builder
	w, _ := NewCSVWriter(&b, true)
	w.Write([]string{"source", "value"})
	w.Write([]string{"=HYPERLINK(\"http://x\")", "-1"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "\ufeffsource,value\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-1\r\n" {
		t.Errorf("csv %q", got)
	}
}
