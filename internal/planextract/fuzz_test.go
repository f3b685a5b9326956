package planextract

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/catalog"
)

// FuzzExtract: any text, however broken, yields drafts without panic, and
// every draft is well formed. Seed corpus: lines of the seed texts and the
// awkward cases (garbles, ranges, GBK bytes). Run with
// go test -fuzz FuzzExtract ./internal/planextract/
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"到2020年,制造业质量竞争力指数提高47,达到89以上。",
		"农产品质量安全例行监测合格率和食品安全抽检合格率均达到98\ue0105%以上",
		"其他设区的市和县(市)分别达到25%和15%以上",
		"创建出口食品农产品质量安全示范区2-3个",
		"力争我省地理标志保护产品数量翻一番",
		"(牵头单位:省质监局;责任单位:省工信委、各市州)",
		"\xb5\xbd2020\xc4\xea", "9999999999999999999999%", "1.2.3.4", "、、,,。。", "达到%以上",
	} {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*.txt"))
	for _, p := range files {
		data, _ := os.ReadFile(p)
		text, _ := Decode(data)
		for i, l := range Lines(text) {
			if i%7 == 0 {
				f.Add(l)
			}
		}
	}
	cat, err := catalog.New(&catalog.Indicator{ID: "food_sampling_pass_rate", NameZh: "食品安全抽检合格率", NameEn: "x", Unit: "percent",
		Min: ptr(0), Max: ptr(100), Better: "higher", Frequency: "yearly", Kind: "level"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, _ := Decode([]byte(s))
		res := Extract(text, Options{Catalog: cat, Horizon: 2025, Start: 2023})
		for _, d := range res.Drafts {
			if d.Value == nil && d.Increment == nil && d.MultipleOf == nil {
				t.Fatalf("draft without value, increment or multiple: %+v", d)
			}
			if !utf8.ValidString(d.Quote) || !utf8.ValidString(d.NameZh) {
				t.Fatalf("invalid UTF-8 in %+v", d)
			}
			if d.Deadline == nil {
				t.Fatalf("no deadline despite the horizon: %+v", d)
			}
		}
	})
}

func ptr(f float64) *float64 { return &f }
