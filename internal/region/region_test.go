package region

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

func shipped(tb testing.TB) *Table {
	tb.Helper()
	tab, err := Load(os.DirFS("../../targets"), "regions.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return tab
}

func TestShippedTable(t *testing.T) {
	tab := shipped(t)
	for in, want := range map[string]string{
		"370000": "370000", "山东省": "370000", "山东": "370000", "青岛市": "370200", "青岛": "370200",
		"吉林": "220000", "吉林市": "220200", "广西壮族自治区": "450000", "广西": "450000",
		"临夏回族自治州": "622900", "临夏": "622900", "甘南": "623000", "海口": "460100", "兰州市": "620100",
		"北京市": "110000", "北京": "110000", " 济南 ": "370100", "全国": "100000",
		// A prefecture keeps its short name against the counties that share it.
		"朝阳": "211300", "朝阳市": "211300", "本溪": "210500", "河南": "410000",
	} {
		r, ok := tab.Resolve(in)
		if !ok || r.Code != want {
			t.Errorf("Resolve(%q) = %v, want %s", in, r, want)
		}
	}
	for _, in := range []string{"371200", "莱芜市", "火星", "", "鼓楼区", "朝阳区"} {
		if r, ok := tab.Resolve(in); ok {
			t.Errorf("Resolve(%q) = %v, want none", in, r)
		}
	}
	counts := map[string]int{}
	for _, r := range tab.All() {
		if r.Level == Prefecture {
			counts[r.ParentCode()]++
		}
	}
	for code, want := range map[string]int{"370000": 16, "620000": 14, "460000": 4, "320000": 13, "440000": 21} {
		if counts[code] != want {
			t.Errorf("%s has %d prefectures, want %d", code, counts[code], want)
		}
	}
}

// TestCountyLookups: county-level divisions by code, full name and short
// name, with their parents.
func TestCountyLookups(t *testing.T) {
	tab := shipped(t)
	for in, want := range map[string][2]string{
		"370281": {"370281", "370200"}, "胶州市": {"370281", "370200"}, "胶州": {"370281", "370200"},
		"110108": {"110108", "110000"}, "海淀区": {"110108", "110000"}, "海淀": {"110108", "110000"},
		"浦东新区": {"310115", "310000"}, "浦东": {"310115", "310000"},
		"济源市": {"419001", "410000"}, "神农架林区": {"429021", "420000"}, "神农架": {"429021", "420000"},
		"孟村回族自治县": {"130930", "130900"}, "孟村": {"130930", "130900"},
		"城口县": {"500229", "500000"}, "六枝特区": {"520203", "520200"},
		"长春市朝阳区": {"220104", "220100"}, "吉林省长春市朝阳区": {"220104", "220100"}, "北京市朝阳区": {"110105", "110000"},
		"南京市鼓楼区": {"320106", "320100"},
	} {
		r, err := tab.Lookup(in)
		if err != nil || r.Code != want[0] || r.Level != County || r.ParentCode() != want[1] {
			t.Errorf("Lookup(%q) = %+v, %v; want %s under %s", in, r, err, want[0], want[1])
		}
	}
	r, _ := tab.Get("220104")
	if got := tab.Path(r); got != "吉林省长春市朝阳区" {
		t.Errorf("Path = %q", got)
	}
	if n := len(tab.Counties("370200")); n != 10 {
		t.Errorf("青岛 has %d county-level divisions, want 10", n)
	}
	if n := len(tab.Children("110000")); n != 0 {
		t.Errorf("Children(北京) = %d prefectures, want 0 (its districts are Counties)", n)
	}
	if n := len(tab.Counties("110000")); n != 16 {
		t.Errorf("北京 has %d districts, want 16", n)
	}
}

// TestAmbiguousNames: a name several divisions share is refused with every
// candidate named, by code and with its parents.
func TestAmbiguousNames(t *testing.T) {
	tab := shipped(t)
	for in, want := range map[string][]string{
		"朝阳区": {"110105 北京市朝阳区", "220104 吉林省长春市朝阳区"},
		"鼓楼区": {"320106 江苏省南京市鼓楼区", "320302 江苏省徐州市鼓楼区", "350102 福建省福州市鼓楼区", "410204 河南省开封市鼓楼区"},
		"通州":  {"110112 北京市通州区", "320612 江苏省南通市通州区"},
	} {
		_, err := tab.Lookup(in)
		var ae *AmbiguousError
		if !errors.As(err, &ae) || len(ae.Candidates) != len(want) {
			t.Errorf("Lookup(%q) = %v, want ambiguous between %d", in, err, len(want))
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Lookup(%q) error %q does not name %q", in, err, w)
			}
		}
		if !strings.Contains(err.Error(), "不唯一") {
			t.Errorf("error %q is not in Chinese", err)
		}
	}
}

func TestAbolished(t *testing.T) {
	tab := shipped(t)
	for in, want := range map[string]string{
		"371200": "已于 2019 年撤销 (abolished),现为 370100 济南市", "莱芜市": "370100 济南市",
		"宣武区": "110102 西城区", "341400": "341400 巢湖市) 已于 2011 年撤销 (abolished)",
	} {
		_, err := tab.Lookup(in)
		var ae *AbolishedError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%q) = %v, want %q", in, err, want)
		}
	}
	if _, ok := tab.Get("371200"); ok {
		t.Error("Get returns an abolished code")
	}
	if _, err := tab.Lookup("火星"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(火星) = %v", err)
	}
}

// TestTableInvariants: the whole table holds together.
func TestTableInvariants(t *testing.T) {
	tab := shipped(t)
	six := regexp.MustCompile(`^[0-9]{6}$`)
	levels := map[string]int{}
	mainland := 0
	for _, r := range tab.All() {
		levels[r.Level]++
		if !six.MatchString(r.Code) {
			t.Errorf("%s: code not six digits", r.Code)
		}
		p := r.ParentCode()
		switch r.Level {
		case Province:
			if p != "" || !strings.HasSuffix(r.Code, "0000") {
				t.Errorf("%s: a province with parent %q", r.Code, p)
			}
			if r.Code != "100000" && r.Code < "710000" {
				mainland++
			}
		case Prefecture:
			if pr, ok := tab.Get(p); !ok || pr.Level != Province || !strings.HasSuffix(r.Code, "00") {
				t.Errorf("%s: prefecture with parent %q", r.Code, p)
			}
		case County:
			pr, ok := tab.Get(p)
			if !ok || pr.Level == County || strings.HasSuffix(r.Code, "00") || p[:2] != r.Code[:2] {
				t.Errorf("%s: county with parent %q", r.Code, p)
			}
			if ok && pr.Level == Province && len(tab.Children(p)) > 0 && r.Code[2:4] != "90" {
				t.Errorf("%s: a county directly under province %s that has prefectures", r.Code, p)
			}
		}
	}
	if mainland != 31 || levels[Province] != 35 || levels[Prefecture] != 333 {
		t.Errorf("levels %v, %d mainland provinces; want 31 mainland, 35 province-level, 333 prefectures", levels, mainland)
	}
	if levels[County] < 2800 || levels[County] > 2900 {
		t.Errorf("%d county-level divisions, want about 2,850", levels[County])
	}
	for code := range tab.gone {
		if _, ok := tab.byCode[code]; ok {
			t.Errorf("%s both current and abolished", code)
		}
	}
}

// TestOldRowsKept: the 368 provinces and prefectures the table held before
// counties were added keep their codes, names and short names, and resolve
// by each as before.
func TestOldRowsKept(t *testing.T) {
	tab := shipped(t)
	old, err := Load(os.DirFS("testdata"), "regions-368.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(old.All()); n != 368 {
		t.Fatalf("testdata has %d rows", n)
	}
	for _, o := range old.All() {
		r, ok := tab.Get(o.Code)
		if !ok || r.Name != o.Name || r.Short != o.Short || r.Level != o.Level || r.ParentCode() != o.ParentCode() {
			t.Errorf("%s: now %+v, was %+v", o.Code, r, o)
			continue
		}
		for _, n := range []string{o.Code, o.Name, o.Short, stripSuffix(o.Name)} {
			want, _ := old.Resolve(n)
			if got, err := tab.Lookup(n); err != nil || got.Code != want.Code {
				t.Errorf("Lookup(%q) = %v, %v; was %s", n, got, err, want.Code)
			}
		}
	}
}

func TestBadTables(t *testing.T) {
	cases := map[string][]*Region{
		`region "37000": code must be six digits`:                       {{Code: "37000", Name: "x", Level: Province}},
		`region "370000": level must be province, prefecture or county`: {{Code: "370000", Name: "x", Level: "town"}},
		`region "370000": name required`:                                {{Code: "370000", Level: Province}},
		`region "520100": no parent "520000"`:                           {{Code: "520100", Name: "x", Level: Prefecture}},
		`region "370102": a county needs its parent`:                    {{Code: "370000", Name: "x", Level: Province}, {Code: "370102", Name: "y", Level: County}},
		`region "370102": parent "110000" is in another province`: {{Code: "370000", Name: "x", Level: Province}, {Code: "110000", Name: "z", Level: Province},
			{Code: "370102", Name: "y", Level: County, Parent: "110000"}},
		`region "371200": successor "370100" is not a current region`: {{Code: "371200", Name: "x", Level: Prefecture, Abolished: 2019, Successor: "370100"}},
	}
	for want, rs := range cases {
		_, err := New(rs...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if _, err := New(&Region{Code: "110000", Name: "北京市", Level: Province}, &Region{Code: "110000", Name: "北京市", Level: Province}); err == nil || !strings.Contains(err.Error(), "duplicate code") {
		t.Errorf("duplicate: %v", err)
	}
}

// BenchmarkLoad measures loading the shipped table, as every start does,
// beside the 368-row table it grew from (testdata/regions-368.yaml):
//
//	go test -run XXX -bench Load -benchmem ./internal/region/
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct{ name, dir, file string }{
		{"shipped", "../../targets", "regions.yaml"},
		{"old-368", "testdata", "regions-368.yaml"},
	} {
		b.Run(c.name, func(b *testing.B) {
			fsys := os.DirFS(c.dir)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Load(fsys, c.file); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
