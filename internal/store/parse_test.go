package store

import (
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
