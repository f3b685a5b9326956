package planextract

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/testenv"
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
	got, enc := Decode(testenv.GBK(t, text))
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

// The phenomena of issue 21 that texts never seen before showed, one worked
// example each: name, comparator, value, deadline, modality and 力争.
func TestUnseenPhenomena(t *testing.T) {
	o := opts(t)
	o.Start = 2022
	for _, c := range []struct {
		why, text string
		want      []string // name cmp value @deadline /modality [力争]
	}{
		{"milestone paragraphs headed 2023年, (no 到) take their year",
			"到2025年,全市质量水平明显提升。\n2023年,全市食品抽检合格率达到98%以上,制造业产品质量合格率达到93%。\n2024年,全市食品抽检合格率达到98.5%以上。",
			[]string{"食品抽检合格率 >=98@2023/reach", "制造业产品质量合格率 >=93@2023/reach", "食品抽检合格率 >=98.5@2024/reach"}},
		{"a year alone before the comma in a report is a result, not a milestone",
			"2023年,全市食品抽检合格率达到98.2%。", nil},
		{"每年评价发布…30项以上: a per-year quota",
			"每年评价发布企业标准“领跑者”30项以上。", []string{"企业标准“领跑者” >=30@0/quota"}},
		{"每年实施…5000项以上: a per-year quota",
			"每年实施质量提升项目5000项以上。", []string{"质量提升项目 >=5000@0/quota"}},
		{"verbless measures in 亿元, and 力争 governs every item after it",
			"力争到2025年,全市海洋生产总值3000亿元,旅游总收入1100亿元,创建省级以上绿色工厂150家。",
			[]string{"海洋生产总值 >=3000@2025/reach 力争", "旅游总收入 >=1100@2025/reach 力争", "省级以上绿色工厂 >=150@2025/new 力争"}},
		{"money spent is not a measure",
			"到2025年,省财政对每个新批准的国家质量技术中心最高补助2000万元,累计投资100亿元。", nil},
		{"a range (选树1—2个) drafts its lower bound",
			"到2025年,选树1—2个质量强国建设领军企业,建设1个质量强县。",
			[]string{"质量强国建设领军企业 >=1@2025/new", "质量强县 >=1@2025/new"}},
		{"新建…50项 counts new items, even where the catalogue knows the stock",
			"到2025年,全市新建社会公用计量标准50项。", []string{"社会公用计量标准 >=50@2025/new"}},
		{"超过 and 突破 exclude the value",
			"到2020年,主导和参与制定国际标准超过70项、国家和行业标准突破5000项。",
			[]string{"主导和参与制定国际标准 >70@2020/new", "国家和行业标准 >5000@2020/new"}},
		{"保持 (without 在) is a hold",
			"到2020年,大中型工程质量一次验收合格率保持100%。", []string{"大中型工程质量一次验收合格率 >=100@2020/hold"}},
		{"a headline repeating a target is not a second draft",
			"到2020年,消费品与国际标准一致性程度达95%以上\n近日,省政府出台实施方案,提出到2020年,主要消费品与国际标准一致性程度达到95%以上。",
			[]string{"主要消费品与国际标准一致性程度 >=95@2020/reach"}},
		{"A、B及C before one measure is one measure",
			"到2025年,药品、医疗器械及化妆品评价性抽检合格率保持在98%以上。",
			[]string{"药品、医疗器械及化妆品评价性抽检合格率 >=98@2025/hold"}},
		{"《纲要》提出 introduces the aims it reports",
			"《纲要》提出建设国家级、省级质检中心和产业计量测试中心4个以上。",
			[]string{"国家级、省级质检中心和产业计量测试中心 >=4@0/new"}},
	} {
		res := Extract(c.text, o)
		var got []string
		for _, d := range res.Drafts {
			dl := 0
			if d.Deadline != nil {
				dl = *d.Deadline
			}
			s := fmt.Sprintf("%s %s%s@%d/%s", d.NameZh, d.Comparator, numPtr(d.Value), dl, d.Modality)
			if d.Strive {
				s += " 力争"
			}
			got = append(got, s)
		}
		if strings.Join(got, " | ") != strings.Join(c.want, " | ") {
			t.Errorf("%s:\n%s\n got: %v\nwant: %v", c.why, c.text, got, c.want)
		}
	}
}

// A results-only report yields no target and a warning that names the
// sentences read as results.
func TestResultsOnlyWarns(t *testing.T) {
	o := opts(t)
	o.Start = 0
	res := Extract("目前,全市食品抽检合格率稳定在93%以上,制造业质量竞争力指数已达86.03。全市累计建成标准化试点示范项目126个。", o)
	if len(res.Drafts) != 0 {
		t.Errorf("%d drafts from a results-only text: %+v", len(res.Drafts), res.Drafts[0])
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "稳定在93%以上") || !strings.Contains(res.Warnings[0], "标准化试点示范项目126个") {
		t.Errorf("warnings %q should name both result sentences", res.Warnings)
	}
	// A plan's sentence without a year keeps its draft.
	if res := Extract("培育国际标准50项。", o); len(res.Drafts) != 1 || len(res.Warnings) != 0 {
		t.Errorf("a plan fragment: %d drafts, warnings %q", len(res.Drafts), res.Warnings)
	}
}

// Agencies as the seed plans print them: each draft carries its clause's
// lead and responsible agencies; a goal of 主要目标 takes those of the task
// clause naming its measure; a closing "…牵头" leads the whole plan.
func TestAgencyBrackets(t *testing.T) {
	o := opts(t)
	text := `一、总体要求
(三)主要目标。到2020年,主要地产农产品质量抽检合格率稳定在97%以上。
二、重点工程
(四)农产品优质供给工程。健全农产品质量标准体系。(省农委、省粮食局等按职责分工负责)
(五)消费品工程。到2020年培育100个日用消费品品牌。(省经济和信息化委、省质监局等按职责分工
(六)品牌工程。到2020年创建10个知名品牌示范区。(市市场监管局牵头 ,市质量工作领导小组成员单位按职责分工负责)
(七)严格督察考核。到2020年新建20个质检中心。(省委组织部、省质监局等按职责分工负责,各设区市党委和政府负责)
各地区各部门要认真落实方案精神。(省质监局牵头,各设区市党委和政府、省各有关部门负责)`
	res := Extract(text, o)
	var got []string
	for _, d := range res.Drafts {
		got = append(got, fmt.Sprintf("%s lead%v resp%v from[%s]", d.Clause, d.Lead, d.Agencies, d.AgenciesFrom))
	}
	want := []string{
		"一(三) lead[省质监局] resp[省农委 省粮食局] from[二(四); 牵头: 二(七) (closing paragraph)]",
		"二(五) lead[省质监局] resp[省经济和信息化委 省质监局] from[牵头: 二(七) (closing paragraph)]",
		"二(六) lead[市市场监管局] resp[市质量工作领导小组成员单位] from[]",
		"二(七) lead[] resp[省委组织部 省质监局 各设区市党委和政府] from[]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}
