package ingest

import (
	"archive/zip"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// book is a workbook built by excelize with the canonical header.
type book struct {
	t testing.TB
	f *excelize.File
	n int // rows written
}

func newBook(t testing.TB) *book {
	t.Helper()
	f := excelize.NewFile()
	t.Cleanup(func() { f.Close() })
	header := []any{"indicator", "region", "period", "value", "source", "note"}
	if err := f.SetSheetRow("Sheet1", "A1", &header); err != nil {
		t.Fatal(err)
	}
	return &book{t: t, f: f, n: 1}
}

// style adds a style: a built-in number format id, or a custom code.
func (b *book) style(numFmt int, custom string) int {
	st := &excelize.Style{NumFmt: numFmt}
	if custom != "" {
		st.CustomNumFmt = &custom
	}
	id, err := b.f.NewStyle(st)
	if err != nil {
		b.t.Fatal(err)
	}
	return id
}

// row appends a row; the value cell (D) gets the style.
func (b *book) row(ind, region, period string, value any, style int, more ...any) {
	b.n++
	cells := append([]any{ind, region, period, value}, more...)
	ref := "A" + strconv.Itoa(b.n)
	if err := b.f.SetSheetRow("Sheet1", ref, &cells); err != nil {
		b.t.Fatal(err)
	}
	if style != 0 {
		d := "D" + strconv.Itoa(b.n)
		if err := b.f.SetCellStyle("Sheet1", d, d, style); err != nil {
			b.t.Fatal(err)
		}
	}
}

func (b *book) bytes() []byte {
	var out bytes.Buffer
	if err := b.f.Write(&out); err != nil {
		b.t.Fatal(err)
	}
	return out.Bytes()
}

// patchPart rewrites one part of a workbook, replacing old by new.
func patchPart(t testing.TB, data []byte, part, old, new string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == part {
			if !bytes.Contains(body, []byte(old)) {
				t.Fatalf("%s has no %q:\n%s", part, old, body)
			}
			body, found = bytes.ReplaceAll(body, []byte(old), []byte(new)), true
		}
		w, _ := zw.Create(f.Name)
		w.Write(body)
	}
	zw.Close()
	if !found {
		t.Fatalf("no part %s", part)
	}
	return out.Bytes()
}

// readXLSX runs a workbook through Open and the validator, rendering the
// accepted figures.
func readXLSX(t testing.TB, v *Validator, data []byte) (string, error) {
	t.Helper()
	src, err := Open("book.xlsx", bytes.NewReader(data), v.Catalog, Limits{})
	if err != nil {
		return "", err
	}
	defer src.Close()
	obs, err := v.ReadAll(src)
	var b strings.Builder
	for _, o := range obs {
		b.WriteString(o.Indicator + "|" + o.Period.String() + "|" + strconv.FormatFloat(o.Value, 'g', -1, 64) + "|" + o.Source + "\n")
	}
	return b.String(), err
}

// TestXLSXHeldValues: numeric cells read as the value they hold, never as
// displayed; a percent-formatted cell as its value ×100 for a percent
// indicator.
func TestXLSXHeldValues(t *testing.T) {
	v := shippedValidator(t)
	b := newBook(t)
	const pct, cnt = "food_sampling_pass_rate", "provincial_brand_products_new"
	b.row(pct, "370000", "2010", 2.6, b.style(1, ""))               // 0: shown 3
	b.row(pct, "370000", "2011", 0.98456, b.style(10, ""))          // 0.00%: shown 98.46%
	b.row(pct, "370000", "2012", 0.985, b.style(9, ""))             // 0%: shown 99%
	b.row(pct, "370000", "2013", 0.98456, b.style(0, `0.0"%"`))     // a literal %: not scaled
	b.row(pct, "370000", "2014", 0.98456, b.style(0, `0.0\%`))      // an escaped %: not scaled
	b.row(pct, "370000", "2015", 0.9845678, b.style(0, `0.0%;-0%`)) // custom percent
	b.row(cnt, "370000", "2010", 1482.4, b.style(3, ""))            // #,##0: shown 1,482
	b.row(pct, "370000", "2016", "98.5", 0)                         // text
	b.row(pct, "370000", "2017", 0.3, 0)                            // patched: as Excel writes 0.1+0.2
	b.row(pct, "370000", "2018", 1e-7, 0)                           // held as 1E-7
	data := patchPart(t, b.bytes(), "xl/worksheets/sheet1.xml", "<v>0.3</v>", "<v>0.30000000000000004</v>")
	got, err := readXLSX(t, v, data)
	if err != nil {
		t.Fatal(err)
	}
	want := pct + "|2010|2.6|\n" + pct + "|2011|98.456|\n" + pct + "|2012|98.5|\n" + pct + "|2013|0.98456|\n" +
		pct + "|2014|0.98456|\n" + pct + "|2015|98.45678|\n" + cnt + "|2010|1482.4|\n" + pct + "|2016|98.5|\n" +
		pct + "|2017|0.30000000000000004|\n" + pct + "|2018|1e-07|\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestXLSXRefused: what a workbook may not hold is refused naming the cell.
func TestXLSXRefused(t *testing.T) {
	v := shippedValidator(t)
	const pct, cnt = "food_sampling_pass_rate", "provincial_brand_products_new"
	for _, c := range []struct {
		name  string
		build func(b *book) []byte
		want  string
	}{
		{"percent cell for a count", func(b *book) []byte {
			b.row(cnt, "370000", "2020", 0.5, b.style(10, ""))
			return b.bytes()
		}, "book.xlsx:2:value: a percentage for provincial_brand_products_new"},
		{"percent cell past 100", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.5, b.style(10, "")) // typed 98.5 into a % cell: 9850%
			return b.bytes()
		}, "book.xlsx:2:value: 9850 is outside the valid range"},
		{"date in the value column", func(b *book) []byte {
			b.row(pct, "370000", "2020", 45000, b.style(14, ""))
			return b.bytes()
		}, `book.xlsx:2:value: not a number`},
		{"undefined entity in a shared string", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.5, 0, "ZZSOURCEZZ")
			return patchPart(t, b.bytes(), "xl/sharedStrings.xml", "ZZSOURCEZZ", "&foo;")
		}, "book.xlsx:0:xl/sharedStrings.xml: shared string no. 10: XML syntax error on line 2: invalid character entity &foo;"},
		{"undefined entity in a cell", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.25, 0)
			return patchPart(t, b.bytes(), "xl/worksheets/sheet1.xml", "<v>98.25</v>", "<v>98&foo;</v>")
		}, "book.xlsx:2:cell D2: worksheet xl/worksheets/sheet1.xml: XML syntax error"},
		{"undefined entity in an inline string", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.25, 0)
			return patchPart(t, b.bytes(), "xl/worksheets/sheet1.xml", `<c r="D2"><v>98.25</v></c>`, `<c r="D2" t="inlineStr"><is><t>&foo;</t></is></c>`)
		}, "book.xlsx:2:cell D2: worksheet xl/worksheets/sheet1.xml: XML syntax error"},
		{"NUL in a source", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.5, 0, "ZZSOURCEZZ")
			return patchPart(t, b.bytes(), "xl/sharedStrings.xml", "ZZSOURCEZZ", "a_x0000_b")
		}, "book.xlsx:2:source: control character NUL"},
		{"formula without a value", func(b *book) []byte {
			b.row(pct, "370000", "2020", 98.25, 0)
			return patchPart(t, b.bytes(), "xl/worksheets/sheet1.xml", `<c r="D2"><v>98.25</v></c>`, `<c r="D2"><f>A1*2</f></c>`)
		}, "book.xlsx:2:cell D2: a formula without a calculated value"},
		{"ambiguous separators in text", func(b *book) []byte {
			b.row(pct, "370000", "2020", "0.9,999", 0)
			return b.bytes()
		}, "book.xlsx:2:value: misplaced comma"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readXLSX(t, v, c.build(newBook(t)))
			if err == nil || got != "" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %q, %v; want an error with %q", got, err, c.want)
			}
		})
	}
}

// A date-formatted cell in the period column reads as the day it holds.
func TestXLSXDatePeriod(t *testing.T) {
	v := shippedValidator(t)
	b := newBook(t)
	day := b.style(14, "")
	b.row("aqi_daily", "370200", "x", 55, 0)
	b.f.SetCellValue("Sheet1", "C2", 43832) // 2020-01-02
	b.f.SetCellStyle("Sheet1", "C2", "C2", day)
	got, err := readXLSX(t, v, b.bytes())
	if err != nil || got != "aqi_daily|2020-01-02|55|\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPlainDecimal(t *testing.T) {
	for _, c := range []struct {
		in    string
		shift int
		want  string
	}{
		{"2.6", 0, "2.6"}, {"0.98456", 2, "98.456"}, {"1E-7", 0, "0.0000001"}, {"1.5E+3", 0, "1500"},
		{"-0.5", 2, "-50"}, {"0", 2, "0"}, {"-0", 0, "0"}, {"0.30000000000000004", 0, "0.30000000000000004"},
		{"123", 2, "12300"}, {"1.25E-2", 2, "1.25"}, {"9.8456000000000003E-1", 2, "98.456000000000003"},
	} {
		if got, ok := plainDecimal(c.in, c.shift); !ok || got != c.want {
			t.Errorf("plainDecimal(%q, %d) = %q, %v; want %q", c.in, c.shift, got, ok, c.want)
		}
	}
	for _, in := range []string{"", "x", "1.2.3", "1E", "1E999", "--1", ".5e"} {
		if got, ok := plainDecimal(in, 0); ok {
			t.Errorf("plainDecimal(%q) = %q", in, got)
		}
	}
}

func TestClassifyFormat(t *testing.T) {
	for code, want := range map[string]numFormat{
		"General": fmtPlain, "0.00%": fmtPercent, `0.0"%"`: fmtPlain, `0.0\%`: fmtPlain, "#,##0.00_);[Red](#,##0.00)": fmtPlain,
		"yyyy-mm-dd": fmtDate, `yyyy"年"m"月"`: fmtDate, "[$-804]yyyy年m月d日": fmtDate, "0%;[Red]-0%": fmtPercent,
		`"m"0.0`: fmtPlain, "h:mm": fmtDate, "0.0;-0.0%": fmtPlain, "@": fmtPlain,
	} {
		if got := classifyFormat(code); got != want {
			t.Errorf("classifyFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

// Inline rich text reads as its runs without the phonetic ones, the
// _xHHHH_ escapes decoded, in shared strings and inline strings alike.
func TestXLSXRichText(t *testing.T) {
	v := shippedValidator(t)
	b := newBook(t)
	b.row("food_sampling_pass_rate", "370000", "2020", 98.25, 0, "ZZSOURCEZZ")
	data := patchPart(t, b.bytes(), "xl/worksheets/sheet1.xml", `<c r="D2"><v>98.25</v></c>`,
		`<c r="D2" t="inlineStr"><is><r><t>98</t></r><rPh><t>9</t></rPh><r><t>.5</t></r></is></c>`)
	data = patchPart(t, data, "xl/sharedStrings.xml", "ZZSOURCEZZ", "_x0041__xD83D__xDE00_")
	got, err := readXLSX(t, v, data)
	if err != nil || got != "food_sampling_pass_rate|2020|98.5|A😀\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}
