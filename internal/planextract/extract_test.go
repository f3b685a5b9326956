package planextract

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/plan"
)

func opts(t *testing.T) Options {
	set := shippedSet(t)
	return Options{Catalog: set.Catalog, Regions: set.Regions, Region: "370000", Start: 2018}
}

func TestSentences(t *testing.T) {
	o := opts(t)
	for _, c := range []struct {
		text string
		want []string // indicator=value@deadline/modality
	}{
		{"(二)目标。到2020年,食品抽检合格率达到96%以上,药品抽检合格率达到98%以上。", []string{"food_sampling_pass_rate=96@2020/reach", "drug_sampling_pass_rate=98@2020/reach"}},
		{"到2025年 ,农产品质量安全例行监测合格率和食品抽检合格率均达到98%以上 。", []string{"agri_product_monitoring_pass_rate=98@2025/reach", "food_sampling_pass_rate=98@2025/reach"}},
		{"到2020年，森林覆盖率稳定在62%以上。", []string{"forest_coverage_rate=62@2020/hold"}},
		{"培育国际标准50项、国家和行业标准440项。", []string{"international_standards_new=50@0/new", "national_industry_standards_new=440@0/new"}},
		{"生产性服务业和生活性服务业顾客满意度分别稳定在85和80以上。", []string{"producer_services_customer_satisfaction=85@0/hold", "consumer_services_customer_satisfaction=80@0/hold"}},
		// results are not targets
		{"2023年，全国制造业产品质量合格率达到93.65%。", nil},
		{"食品抽检合格率由2013年的83.7%提高到2016年的92.9%。", nil},
		// money and passing counts are not targets
		{"给予一次性扶持资金200万元。组织家用电器、汽车等22个行业开展质量提升行动。", nil},
	} {
		res := Extract(c.text, o)
		var got []string
		for _, d := range res.Drafts {
			id := "null"
			if d.Indicator != nil {
				id = *d.Indicator
			}
			dl := 0
			if d.Deadline != nil {
				dl = *d.Deadline
			}
			got = append(got, fmt.Sprintf("%s=%s@%d/%s", id, numPtr(d.Value), dl, d.Modality))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s\n got: %v\nwant: %v", c.text, got, c.want)
		}
	}
}

func TestGarblesFlagged(t *testing.T) {
	o := opts(t)
	res := Extract("到2020年,制造业质量竞争力指数提高47,达到89以上。", o)
	if len(res.Drafts) != 1 {
		t.Fatalf("%d drafts", len(res.Drafts))
	}
	d := res.Drafts[0]
	if s := suggestionFor(d, "increment"); s == nil || *s != 4.7 || *d.Value != 89 || d.Printed != "提高47" {
		t.Errorf("increment not flagged as 4.7: %+v", d)
	}
	res = Extract("到2025年,食品安全抽检合格率达到98\ue0105%以上。", o)
	if d := res.Drafts[0]; !d.Suspicious() || *d.Corrected() != 98.5 {
		t.Errorf("private-use character not flagged: %+v", d.Flags)
	}
	res = Extract("到2025年,食品安全抽检合格率达到985%以上。", o)
	if d := res.Drafts[0]; !d.hasFlag(FlagOver100) || *d.Corrected() != 98.5 {
		t.Errorf("985%% not flagged: %+v", d.Flags)
	}
}

// GBK text with web-pasted spaces and full-width punctuation reads like UTF-8.
func TestGBK(t *testing.T) {
	text := "（二）主要目标 。到２０２５年 ， 食品抽检合格率达到９８．５％以上 。"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	got, enc := Decode([]byte(gbk))
	if enc != "gb18030" {
		t.Errorf("encoding %s", enc)
	}
	res := Extract(got, opts(t))
	if len(res.Drafts) != 1 || *res.Drafts[0].Value != 98.5 || *res.Drafts[0].Deadline != 2025 || res.Drafts[0].Clause != "(二)" {
		t.Fatalf("%+v", res.Drafts)
	}
}

// A drafted plan file is refused while it holds TODO, and accepted once a
// reviewer has replaced each TODO (here: by the suggestion in its comment).
func TestRenderReviewed(t *testing.T) {
	set := shippedSet(t)
	path := filepath.Join("testdata", "seeds", "003_b850b3610a6dd98c.txt")
	data, _ := os.ReadFile(path)
	text, _ := Decode(data)
	o := Options{Catalog: set.Catalog, Regions: set.Regions, Horizon: 2025}
	res := Extract(text, o)
	var buf bytes.Buffer
	if err := Render(&buf, res.Info("draft-2023", path, o), res.Drafts); err != nil {
		t.Fatal(err)
	}
	var any map[string]any
	if err := yaml.Unmarshal(buf.Bytes(), &any); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, buf.String())
	}
	if _, err := plan.Parse("draft-2023.yaml", buf.Bytes(), set.Catalog, set.Regions); err == nil || !strings.Contains(buf.String(), Todo) {
		t.Fatalf("a draft with TODO was accepted:\n%s", buf.String())
	}
	// review: take each suggestion, explain it
	var out []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "value: TODO") {
			l = "    value: 98.5"
		}
		l = strings.Replace(l, `note: "TODO: say why the printed number is corrected"`, `note: "private-use character for the decimal point"`, 1)
		out = append(out, l)
	}
	reviewed := strings.Join(out, "\n")
	p, err := plan.Parse("draft-2023.yaml", []byte(reviewed), set.Catalog, set.Regions)
	if err != nil {
		t.Fatalf("reviewed draft refused: %v\n%s", err, reviewed)
	}
	if len(p.Targets) != 5 {
		t.Errorf("%d targets, want 5", len(p.Targets))
	}
}

// The national plan file is what the extractor drafts from its text.
func TestNationalPlanMatchesText(t *testing.T) {
	set := shippedSet(t)
	p, ok := set.Plan("national-2023")
	if !ok {
		t.Fatal("national-2023 not shipped")
	}
	res := extractFile(t, filepath.Join("testdata", "national", "national-2023.txt"), Options{Catalog: set.Catalog, Regions: set.Regions, Horizon: 2025})
	if res.Header.Region != National {
		t.Errorf("region %q, want %s", res.Header.Region, National)
	}
	for _, d := range Diff(res.Drafts, p) {
		t.Errorf("%s", d)
	}
}

func TestDiffFindsContradiction(t *testing.T) {
	set := shippedSet(t)
	p, _ := set.Plan("national-2023")
	text := "(二)主要目标。到2025年,制造业质量竞争力指数达到88,农产品质量安全例行监测合格率和食品抽检合格率均达到98%以上,制造业产品质量合格率达到94%,森林覆盖率达到25%。"
	res := Extract(text, Options{Catalog: set.Catalog, Regions: set.Regions})
	kinds := map[string]int{}
	for _, d := range Diff(res.Drafts, p) {
		kinds[d.Kind]++
	}
	if kinds["contradicts"] != 1 || kinds["missing"] != 1 || kinds["absent"] != 0 {
		t.Errorf("diff kinds %v", kinds)
	}
}
