package dashcheck

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestApplyRegex(t *testing.T) {
	raw := []string{
		`{region="370000",region_name="山东省"} 12 1700000000000`,
		`{region="370200",region_name="青岛市"} 3 1700000000000`,
		`{plan="x"} 1 1700000000000`,
	}
	got, err := ApplyRegex(`/region="(?<value>[^"]+)",region_name="(?<text>[^"]+)"/`, raw)
	want := []Option{{"山东省", "370000"}, {"青岛市", "370200"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("named groups: got %v, %v; want %v", got, err, want)
	}
	got, _ = ApplyRegex(`/REGION="(\d+)"/i`, raw)
	if want := []Option{{"370000", "370000"}, {"370200", "370200"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("first group, case-insensitive: got %v, want %v", got, want)
	}
	got, _ = ApplyRegex("", []string{"b", "a", "b"})
	if want := []Option{{"b", "b"}, {"a", "a"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("no regex: got %v, want %v (deduplicated, in order)", got, want)
	}
	if _, err := ApplyRegex("/(/", raw); err == nil {
		t.Error("invalid regex: no error")
	}
}

func TestSortOptions(t *testing.T) {
	opts := []Option{{"b10", "1"}, {"B2", "2"}, {"a9", "3"}}
	for order, want := range map[int][]string{0: {"b10", "B2", "a9"}, 1: {"B2", "a9", "b10"}, 2: {"b10", "a9", "B2"},
		3: {"B2", "a9", "b10"}, 5: {"a9", "b10", "B2"}} {
		var got []string
		for _, o := range SortOptions(opts, order) {
			got = append(got, o.Text)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sort %d: got %v, want %v", order, got, want)
		}
	}
}

func TestSelect(t *testing.T) {
	opts := []Option{{"A", "a"}, {"B", "b"}}
	v := func(current string, includeAll bool, allValue string) *Variable {
		x := &Variable{IncludeAll: includeAll, AllValue: allValue}
		x.Current.Value = json.RawMessage(current)
		return x
	}
	for _, c := range []struct {
		v    *Variable
		want Value
	}{
		{v(`"b"`, false, ""), Value{Values: []string{"b"}}},
		{v(`"gone"`, false, ""), Value{Values: []string{"a"}}},
		{v(`null`, false, ""), Value{Values: []string{"a"}}},
		{v(`["$__all"]`, true, ""), Value{All: true, Values: []string{"a", "b"}}},
		{v(`"$__all"`, true, ".*"), Value{All: true, AllValue: ".*", Values: []string{"a", "b"}}},
		{v(`["a","b"]`, false, ""), Value{Values: []string{"a", "b"}}},
	} {
		if got := Select(c.v, opts); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Select(current %s) = %+v, want %+v", c.v.Current.Value, got, c.want)
		}
	}
}

func TestQueryResultText(t *testing.T) {
	var r promResult
	json.Unmarshal([]byte(`{"resultType":"vector","result":[{"metric":{"region_name":"山东省","__name__":"m","region":"370000"},"value":[1700000000.5,"2"]}]}`), &r)
	s, err := r.series()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`m{region="370000",region_name="山东省"} 2 1700000000500`}
	if got := queryResultText(&r, s); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	json.Unmarshal([]byte(`{"resultType":"scalar","result":[1700000000,"2020"]}`), &r)
	s, _ = r.series()
	if got := queryResultText(&r, s); !reflect.DeepEqual(got, []string{"2020"}) {
		t.Errorf("scalar: got %q", got)
	}
	json.Unmarshal([]byte(`{"resultType":"scalar","result":[1700000000,"NaN"]}`), &r)
	if s, _ = r.series(); len(s) != 0 {
		t.Errorf("NaN scalar: got %d series, want none", len(s))
	}
}
