// Command benchscale builds the national-scale case of scripts/bench-scale.sh
// from scratch: a targets directory (the real region table with its county
// file; the regions that get targets are the counties first, filled up with
// synthetic prefectures when the table has too few; a catalogue of
// synthetic yearly indicators; the plans: with -plans one a single plan
// (benchscale-2021) with a target per region and indicator, with -plans
// region a plan per region (bench-<code>-2021, as every county its own
// plan nationally) with a target per indicator), ten years of yearly figures for every target as CSV, and a
// qualitymon.yaml with one upload token.
//
//	go run ./scripts/benchscale -targets 300000 -out DIR -influx URL -listen ADDR -token T
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/qualitymon/qualitymon/internal/region"
)

// indicators is how many synthetic yearly indicators each region gets: the
// region count is targets / indicators.
const indicators = 100

func main() {
	targets := flag.Int("targets", 30000, "targets (region × indicator) to generate; a multiple of 100")
	out := flag.String("out", "", "directory to write (targets/, figures.csv, qualitymon.yaml)")
	root := flag.String("root", ".", "the repository (for targets/regions.yaml)")
	influx := flag.String("influx", "http://127.0.0.1:8086", "InfluxDB URL for qualitymon.yaml")
	listen := flag.String("listen", "127.0.0.1:9737", "serve's address for qualitymon.yaml")
	token := flag.String("token", "bench-scale-token", "the upload token of the first region's bureau")
	plans := flag.String("plans", "one", "one: a single plan over every region; region: a plan per region")
	flag.Parse()
	if *plans != "one" && *plans != "region" {
		log.Fatal("benchscale: -plans is one or region")
	}
	if *out == "" || *targets < indicators || *targets%indicators != 0 {
		log.Fatal("benchscale: -out DIR and -targets N (a multiple of 100, at least 100) are needed")
	}
	nreg := *targets / indicators
	tdir := filepath.Join(*out, "targets")
	must(os.MkdirAll(filepath.Join(tdir, "catalogue"), 0o755))
	inRegions, realCount := regionTable(*root, tdir, nreg)

	var cat strings.Builder
	cat.WriteString("# Synthetic yearly indicators of scripts/bench-scale.sh.\nindicators:\n")
	for i := range indicators {
		fmt.Fprintf(&cat, "  - {id: bench_%03d, name_zh: 规模测试指标%03d, name_en: Bench indicator %d, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level, definition: 规模测试用的合成指标, method: 测试数据生成, source: 测试}\n", i, i, i)
	}
	must(os.WriteFile(filepath.Join(tdir, "catalogue", "bench.yaml"), []byte(cat.String()), 0o644))

	// A target's id names its indicator and region in both layouts
	// (t-007-370211), so that the script finds it on /metrics.
	writePlan := func(key, name, reg string, regions []*region.Region) {
		pf, err := os.Create(filepath.Join(tdir, key+".yaml"))
		must(err)
		pw := bufio.NewWriterSize(pf, 1<<20)
		fmt.Fprintf(pw, "plan: {key: %s, name_zh: %s, issuer: 测试, published: \"2021\", region: %q, start: 2021, horizon: 2030, source: bench-scale}\ntargets:\n", key, name, reg)
		for i := range indicators {
			mod := []string{"reach", "hold", "reach", "reach", "reach"}[i%5]
			for _, r := range regions {
				fmt.Fprintf(pw, "  - {id: t-%03d-%s, indicator: bench_%03d, region: %q, comparator: \">=\", value: 90, deadline: 2027, modality: %s, lead_agencies: [局%03d], clause: x, quote: x}\n", i, r.Code, i, r.Code, mod, i)
			}
		}
		must(pw.Flush())
		must(pf.Close())
	}
	if *plans == "one" {
		writePlan("benchscale-2021", "规模测试规划", "100000", inRegions)
	} else {
		for _, r := range inRegions {
			writePlan("bench-"+r.Code+"-2021", "规模测试规划"+r.Code, r.Code, []*region.Region{r})
		}
	}

	ff, err := os.Create(filepath.Join(*out, "figures.csv"))
	must(err)
	fw := bufio.NewWriterSize(ff, 1<<20)
	fw.WriteString("indicator,region,period,value\n")
	for i := range indicators {
		for k, r := range inRegions {
			for y := 2015; y <= 2024; y++ {
				fmt.Fprintf(fw, "bench_%03d,%s,%d,%g\n", i, r.Code, y, 80+float64((y*7+k+i)%20))
			}
		}
	}
	must(fw.Flush())
	must(ff.Close())

	sum := sha256.Sum256([]byte(*token))
	cfg := fmt.Sprintf(`influx: {url: %q, org: "-", bucket: qualitymon/autogen}
listen: %q
targets_dir: %q
evaluation: {schedule: "@every 1h"}
spool_dir: %q
uploads:
  archive_dir: %q
  audit_log: %q
  review_dir: %q
  tokens:
    - {bureau: 规模测试统计局, token_sha256: %s, regions: [%q]}
`, *influx, *listen, tdir, filepath.Join(*out, "spool"), filepath.Join(*out, "uploads"), filepath.Join(*out, "uploads", "audit.jsonl"),
		filepath.Join(*out, "review"), hex.EncodeToString(sum[:]), inRegions[0].Code)
	must(os.WriteFile(filepath.Join(*out, "qualitymon.yaml"), []byte(cfg), 0o644))
	fmt.Printf("%d regions (%d of the real table), %d indicators, %d targets, %d figures; upload region %s\n",
		len(inRegions), min(len(inRegions), realCount), indicators, len(inRegions)*indicators, len(inRegions)*indicators*10, inRegions[0].Code)
}

// regionTable is the real region table (targets/regions.yaml with its
// county file) and the n regions that get targets: the county-level
// divisions first (every county its own plan's targets, as nationally),
// then prefectures and provinces, then synthetic prefectures (codes the
// table does not use, under its provinces) when the table has too few.
// It writes the table into tdir: the real files as they are, the
// synthetic regions appended to regions.yaml.
func regionTable(root, tdir string, n int) (chosen []*region.Region, real int) {
	src := filepath.Join(root, "targets")
	table, err := region.Load(os.DirFS(src), "regions.yaml")
	must(err)
	byLevel := map[string][]*region.Region{}
	used := map[string]bool{}
	for _, r := range table.All() {
		used[r.Code] = true
		if r.Code != "100000" {
			byLevel[r.Level] = append(byLevel[r.Level], r)
		}
	}
	for _, l := range []string{region.County, region.Prefecture, region.Province} {
		for _, r := range byLevel[l] {
			if len(chosen) < n {
				chosen = append(chosen, r)
			}
		}
	}
	real = len(chosen)
	yamlText, err := os.ReadFile(filepath.Join(src, "regions.yaml"))
	must(err)
	var extra strings.Builder
	for c := 1; c <= 99 && len(chosen) < n; c++ {
		for _, p := range byLevel[region.Province] {
			if len(chosen) >= n {
				break
			}
			// Prefecture codes end in 00; beyond 99 per province the
			// synthetic ones use the county digits of the code.
			for d := 0; d < 100; d++ {
				cc := fmt.Sprintf("%s%02d%02d", p.Code[:2], c, d)
				if used[cc] {
					continue
				}
				used[cc] = true
				r := &region.Region{Code: cc, Name: "合成地区" + cc, Short: "合成" + cc, Level: region.Prefecture, Parent: p.Code}
				fmt.Fprintf(&extra, "  - {code: %q, name: %s, short: %s, level: prefecture, parent: %q}\n", r.Code, r.Name, r.Short, r.Parent)
				chosen = append(chosen, r)
				break
			}
		}
	}
	if len(chosen) < n {
		log.Fatalf("benchscale: cannot make %d regions", n)
	}
	if extra.Len() > 0 {
		yamlText = append(append(yamlText, "  # Synthetic prefectures of scripts/benchscale.\n"...), extra.String()...)
	}
	must(os.WriteFile(filepath.Join(tdir, "regions.yaml"), yamlText, 0o644))
	county, err := os.ReadFile(filepath.Join(src, "regions-county.tsv"))
	must(err)
	must(os.WriteFile(filepath.Join(tdir, "regions-county.tsv"), county, 0o644))
	return chosen, real
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
