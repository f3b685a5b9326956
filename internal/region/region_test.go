package region

import (
	"os"
	"strings"
	"testing"
)

func TestShippedTable(t *testing.T) {
	tab, err := Load(os.DirFS("../../targets"), "regions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"370000": "370000", "山东省": "370000", "山东": "370000", "青岛市": "370200", "青岛": "370200",
		"吉林": "220000", "吉林市": "220200", "广西壮族自治区": "450000", "广西": "450000",
		"临夏回族自治州": "622900", "临夏": "622900", "甘南": "623000", "海口": "460100", "兰州市": "620100",
		"北京市": "110000", "北京": "110000", " 济南 ": "370100", "全国": "100000",
	} {
		r, ok := tab.Resolve(in)
		if !ok || r.Code != want {
			t.Errorf("Resolve(%q) = %v, want %s", in, r, want)
		}
	}
	for _, in := range []string{"371200", "莱芜市", "火星", ""} {
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
	if n := len(tab.All()); n != 368 {
		t.Errorf("%d regions, want 368 (34 + 333 + 全国 100000)", n)
	}
}

func TestBadTables(t *testing.T) {
	cases := map[string]*Region{
		`region "37000": code must be six digits`:               {Code: "37000", Name: "x", Level: Province},
		`region "370000": level must be province or prefecture`: {Code: "370000", Name: "x", Level: "county"},
		`region "370000": name required`:                        {Code: "370000", Level: Province},
		`region "520100": no province "520000"`:                 {Code: "520100", Name: "x", Level: Prefecture},
	}
	for want, r := range cases {
		_, err := New(r)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if _, err := New(&Region{Code: "110000", Name: "北京市", Level: Province}, &Region{Code: "110000", Name: "北京市", Level: Province}); err == nil || !strings.Contains(err.Error(), "duplicate code") {
		t.Errorf("duplicate: %v", err)
	}
}
