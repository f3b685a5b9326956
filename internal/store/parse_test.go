package store

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseValues(t *testing.T) {
	raw := ",result,table,_time,_value,freq,indicator,region\r\n" +
		",_result,0,2020-01-01T00:00:00Z,97.5,year,food_sampling_pass_rate,370000\r\n" +
		",_result,1,2020-07-01T00:00:00Z,12,quarter,x,370200\r\n" +
		"\r\n" +
		",result,table,_value,_time,indicator,region,freq\r\n" +
		",_result,2,43,2021-03-04T00:00:00Z,aqi_daily,460100,day\r\n"
	got, err := parseValues(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	want := []string{"food_sampling_pass_rate/370000/2020=97.5", "x/370200/2020-Q3=12", "aqi_daily/460100/2021-03-04=43"}
	for i, o := range got {
		s := o.Indicator + "/" + o.Region + "/" + o.Period.String() + "=" + string(appendFloat(nil, o.Value))
		if s != want[i] {
			t.Errorf("row %d = %s, want %s", i, s, want[i])
		}
	}
	for in, msg := range map[string]string{
		raw + "\r\n,error,reference\r\n,\"missing object properties (region)\",\r\n":                           "query failed: missing object properties (region)",
		",result,table,_time,_value,freq,indicator,region\r\n,_result,0,2020-01-01T00:00:00Z,abc,year,x,y\r\n": `bad _value "abc"`,
		",result,table,_time,_value,freq,indicator,region\r\n,_result,0,2020-01-01T00:00:00Z,1,week,x,y\r\n":   `unknown period kind "week"`,
	} {
		if _, err := parseValues(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("err = %v, want %q", err, msg)
		}
	}
}

func FuzzParseValues(f *testing.F) {
	f.Add(",result,table,_time,_value,freq,indicator,region\r\n,_result,0,2020-01-01T00:00:00Z,97.5,year,a,b\r\n")
	f.Add(",error,reference\r\n,boom,\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseValues(in)
		if err != nil && rows != nil {
			t.Fatal("rows returned with an error")
		}
	})
}

// csvRecords reads in as encoding/csv does, the reference of readFluxCSV's
// records (FieldsPerRecord -1).
func csvRecords(in string) ([][]string, error) {
	cr := csv.NewReader(strings.NewReader(in))
	cr.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// lineRecords reads in by readFluxCSV's splitter.
func lineRecords(in string) ([][]string, error) {
	c := csvLines{br: bufio.NewReaderSize(strings.NewReader(in), 16)} // small: long lines too
	var out [][]string
	for {
		rec, err := c.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var s []string
		for _, f := range rec {
			s = append(s, string(f))
		}
		out = append(out, s)
	}
}

// The splitter reads the records encoding/csv reads, and fails where it
// fails (after the same records).
func TestCSVLines(t *testing.T) {
	for _, in := range []string{
		"",
		"a,b\r\n\r\nc,,d\n",
		",result,table,_time\r\n,_result,0,2020-01-01T00:00:00Z\r\n\r\n",
		"no newline at the end\r",
		"a,\"quoted, with comma\",\"and \"\"quotes\"\"\",x\r\nnext,row\r\n",
		"\"multi\r\nline\",z\nlast\n",
		"a,\"unterminated\nrow\n",
		"bare\"quote,x\n",
		"\"extra\"quote,x\n",
		strings.Repeat("long,", 40) + "end\n",
		"\r\r\n\n,\n",
	} {
		want, werr := csvRecords(in)
		got, gerr := lineRecords(in)
		if (werr == nil) != (gerr == nil) || !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%q: got %q, %v; encoding/csv %q, %v", in, got, gerr, want, werr)
		}
	}
}

func FuzzCSVLines(f *testing.F) {
	f.Add(",result,table,_time,_value\r\n,_result,0,2020-01-01T00:00:00Z,1\r\n\r\n")
	f.Add("a,\"b\r\nc\",\"d\"\"e\"\n")
	f.Add("x\"y\n")
	f.Fuzz(func(t *testing.T, in string) {
		want, werr := csvRecords(in)
		got, gerr := lineRecords(in)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: err %v, encoding/csv %v", in, gerr, werr)
		}
		if werr == nil && !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%q: %q, encoding/csv %q", in, got, want)
		}
	})
}
