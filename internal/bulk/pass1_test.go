package bulk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// pass1 runs the importer's validation over data and renders its outcome:
// the accepted observations, or the errors.
func pass1(t testing.TB, im *Importer, data []byte) string {
	t.Helper()
	return pass1Named(t, im, "in.csv", data)
}

func pass1Named(t testing.TB, im *Importer, name string, data []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "in*"+filepath.Ext(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(data)
	f.Seek(0, io.SeekStart)
	p, spill, err := validateSpill(t, im, f, name, int64(len(data)))
	if err != nil {
		return "error: " + err.Error()
	}
	if len(p.errs) > 0 {
		return errorsText(p.errs)
	}
	var b strings.Builder
	for r := range records(spill) {
		o := im.t.observation(r)
		writeObs(&b, &o)
	}
	if p.rows == 0 {
		b.WriteString("(no rows)\n")
	}
	return b.String()
}

// validateSpill runs the importer's pass 1 over f, the file name of size
// bytes, and returns the validator with its spill file, rewound.
func validateSpill(t testing.TB, im *Importer, f *os.File, name string, size int64) (*validator, io.Reader, error) {
	t.Helper()
	spill, err := os.CreateTemp(t.TempDir(), "spill")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spill.Close() })
	p, err := im.validate(f, name, size, spill, newProgress(nil, ""))
	if err == nil {
		_, err = spill.Seek(0, io.SeekStart)
	}
	return p, spill, err
}

func writeObs(b *strings.Builder, o *observation.Observation) {
	fmt.Fprintf(b, "%s|%s|%s|%v|%q\n", o.Indicator, o.Region, o.Period, o.Value, o.Source)
}

func errorsText(es ingest.Errors) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s|%q|%q\n", e.Error(), e.Value, e.Column)
	}
	return b.String()
}

// generic is the reference: the file read as CSV (ingest.OpenAs) and
// validated by Validator.ReadAll, without import's memo of lookups, its
// bitmap of keys seen and its spill file.
func generic(v *ingest.Validator, data []byte) string {
	return render(readAll(v, parseCSV(v), "in.csv", data))
}

// parseCSV reads any file as CSV, as import does by default.
func parseCSV(v *ingest.Validator) func(string, io.Reader) (ingest.Source, error) {
	return func(file string, r io.Reader) (ingest.Source, error) {
		return ingest.OpenAs(file, ".csv", r, v.Catalog, v.Limits)
	}
}

// readAll reads data, named name, as the importer's reference does: open
// (an Options.Parse) then Validator.ReadAll. An *ingest.Error from open
// comes back as ingest.Errors, as ReadAll's errors do.
func readAll(v *ingest.Validator, open func(string, io.Reader) (ingest.Source, error), name string, data []byte) ([]observation.Observation, error) {
	src, err := open(name, bytes.NewReader(data))
	if err != nil {
		var e *ingest.Error
		if errors.As(err, &e) {
			return nil, ingest.Errors{e}
		}
		return nil, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	return v.ReadAll(src)
}

// render shows ReadAll's outcome as pass1 does.
func render(out []observation.Observation, err error) string {
	if err != nil {
		var es ingest.Errors
		if errors.As(err, &es) {
			return errorsText(es)
		}
		return "error: " + err.Error()
	}
	var b strings.Builder
	for i := range out {
		writeObs(&b, &out[i])
	}
	if len(out) == 0 {
		b.WriteString("(no rows)\n")
	}
	return b.String()
}

func newTestImporter(t testing.TB) *Importer {
	im, err := New(Options{Validator: validatorT(t)})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

var pass1Cases = []struct {
	name string
	in   string
}{
	{"plain", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\nfood_sampling_pass_rate,370200,2020,97.25\n"},
	{"chinese header and names", "指标,地区,时期,数值,单位,来源\n食品安全抽检合格率,山东省,2020年,98.5%,%,国家统计局\n食品安全抽检合格率, 青岛 ,2019,９８．１,％,\n"},
	{"quoted fields", "indicator,region,period,value,source\n\"food_sampling_pass_rate\",370000,2019,\"96\",\"a, \"\"b\"\"\"\n  \"food_sampling_pass_rate\",370000,2018,95,x\n"},
	{"crlf blank lines and blank records", "\r\n,,\r\nindicator,region,period,value\r\n\r\n , ,\r\nfood_sampling_pass_rate,370000,2019,96\r\nfood_sampling_pass_rate,370000,2018,95\r"},
	{"bom", "\xef\xbb\xbfindicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\n"},
	{"errors", "indicator,region,period,value,unit\nnope,370000,2019,96,\nfood_sampling_pass_rate,999999,2019,96,\nfood_sampling_pass_rate,370000,2019-07,96,\nfood_sampling_pass_rate,370000,2030,96,\nfood_sampling_pass_rate,370000,2019,985,\nfood_sampling_pass_rate,370000,2019,9 8,\nfood_sampling_pass_rate,370000,2019,96,kg\nfood_sampling_pass_rate,370000,2019,1e2,\n"},
	{"duplicate keys", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\nfood_sampling_pass_rate,370000,2018,96\n食品安全抽检合格率,山东,2019年,97\nfood_sampling_pass_rate,370000,2019,98\n"},
	{"duplicate after an error", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,960\nfood_sampling_pass_rate,370000,2019,96\nfood_sampling_pass_rate,370000,2019,97\n"},
	{"short rows and extra columns", "indicator,region,period,value,note\nfood_sampling_pass_rate,370000,2019\nfood_sampling_pass_rate,370000,2018,95,n,extra,\n"},
	{"thousands", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,\"1,0\"\n"},
	{"multi-line quoted field", "indicator,region,period,value,note\nfood_sampling_pass_rate,370000,2019,96,\"a\nb\"\n"},
	{"bare quote", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,9\"6\n"},
	{"text after quote", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,\"96\" \n"},
	{"missing column", "indicator,region,value\nfood_sampling_pass_rate,370000,96\n"},
	{"no header", "\n\n"},
	{"empty", ""},
	{"header only", "indicator,region,period,value\n"},
	{"no final newline", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96"},
	{"ambiguous separators", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,\"1.234,5\"\nfood_sampling_pass_rate,370000,2018,\"0.9,999\"\nfood_sampling_pass_rate,370000,2017,\"1,2345\"\nfood_sampling_pass_rate,370000,2016,\"0,999\"\n"},
	{"percent and full width", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,98.5%\nfood_sampling_pass_rate,370000,2018,９８．５％\nprovincial_brand_products_new,370000,2018,\"１，４８２\"\nprovincial_brand_products_new,370000,2019,5%\n"},
	{"control characters", "indicator,region,period,value,source,note\nfood_sampling_pass_rate,370000,2019,96,a\x00b,\nfood_sampling_pass_rate,370000,2018,96,\"a\tb\",\"x\ty\"\nfood_sampling_pass_rate,370000,2017,\"96\t\",,\nfood_sampling_pass_rate,370000\x7f,2016,96,,\nfood_sampling_pass_rate,370000,2015,96,\u202eabc,\nfood_sampling_pass_rate,370000,2014,96,\ufffd,\n"},
}

// TestPass1MatchesGeneric: import's pass 1 (the memoised validator, the
// bitmap of keys seen, the spill file) accepts and refuses what
// Validator.ReadAll does, with the same errors.
func TestPass1MatchesGeneric(t *testing.T) {
	im := newTestImporter(t)
	v := im.opts.Validator
	for _, c := range pass1Cases {
		t.Run(c.name, func(t *testing.T) {
			if got, want := pass1(t, im, []byte(c.in)), generic(v, []byte(c.in)); got != want {
				t.Errorf("bulk:\n%s\ningest:\n%s", got, want)
			}
		})
	}
}

func TestPass1GBK(t *testing.T) {
	im := newTestImporter(t)
	in := testenv.GBK(t, "指标,地区,时期,数值\n食品安全抽检合格率,山东省,2020,98.5\n食品安全抽检合格率,青岛市,2020,97\n食品安全抽检合格率,济南市,2020,999\n")
	got := pass1(t, im, in)
	want := generic(im.opts.Validator, in)
	if got != want {
		t.Fatalf("bulk:\n%s\ningest:\n%s", got, want)
	}
	if !strings.Contains(got, "in.csv:4:数值: 999 is outside the valid range") {
		t.Fatalf("GBK error: %s", got)
	}
}

// TestDuplicateMessage pins the duplicate-key error, first row included.
func TestDuplicateMessage(t *testing.T) {
	im := newTestImporter(t)
	got := pass1(t, im, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2019,96\nx,370000,2019,1\nfood_sampling_pass_rate,山东,2019年,97\n"))
	want := "in.csv:4:period: duplicate key food_sampling_pass_rate/370000/2019, first given on row 2"
	if !strings.Contains(got, want) {
		t.Fatalf("got\n%s\nwant %s", got, want)
	}
}

func FuzzPass1(f *testing.F) {
	for _, c := range pass1Cases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("indicator,region,period,value,unit,source,note\naqi_daily,110000,2020-01-02,55,,,\naqi_daily,北京,2020/01/02,55,指数,\"s\",\n"))
	im := newTestImporter(f)
	v := im.opts.Validator
	f.Fuzz(func(t *testing.T, data []byte) {
		got := pass1(t, im, data)
		if want := generic(v, data); got != want {
			t.Fatalf("input %q\nbulk:\n%s\ningest:\n%s", data, got, want)
		}
	})
}
