// Command benchscale builds the national-scale case of scripts/bench-scale.sh
// from scratch: a targets directory (the real region table, filled up with
// synthetic prefectures when it has too few regions; a catalogue of
// synthetic yearly indicators; one plan with a target per region and
// indicator), ten years of yearly figures for every target as CSV, and a
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

	"gopkg.in/yaml.v3"
)

// indicators is how many synthetic yearly indicators each region gets: the
// region count is targets / indicators.
const indicators = 100

type region struct {
	Code  string `yaml:"code"`
	Name  string `yaml:"name"`
	Short string `yaml:"short"`
	Level string `yaml:"level"`
}

func main() {
	targets := flag.Int("targets", 30000, "targets (region × indicator) to generate; a multiple of 100")
	out := flag.String("out", "", "directory to write (targets/, figures.csv, qualitymon.yaml)")
	root := flag.String("root", ".", "the repository (for targets/regions.yaml)")
	influx := flag.String("influx", "http://127.0.0.1:8086", "InfluxDB URL for qualitymon.yaml")
	listen := flag.String("listen", "127.0.0.1:9737", "serve's address for qualitymon.yaml")
	token := flag.String("token", "bench-scale-token", "the upload token of the first region's bureau")
	flag.Parse()
	if *out == "" || *targets < indicators || *targets%indicators != 0 {
		log.Fatal("benchscale: -out DIR and -targets N (a multiple of 100, at least 100) are needed")
	}
	nreg := *targets / indicators
	regs := regionTable(*root, nreg)
	var inRegions []region // the regions that get targets: real ones first
	for _, r := range regs {
		if r.Code != "100000" && len(inRegions) < nreg {
			inRegions = append(inRegions, r)
		}
	}
	tdir := filepath.Join(*out, "targets")
	must(os.MkdirAll(filepath.Join(tdir, "catalogue"), 0o755))
	writeYAML(filepath.Join(tdir, "regions.yaml"), map[string]any{"regions": regs})

	var cat strings.Builder
	cat.WriteString("# Synthetic yearly indicators of scripts/bench-scale.sh.\nindicators:\n")
	for i := range indicators {
		fmt.Fprintf(&cat, "  - {id: bench_%03d, name_zh: 规模测试指标%03d, name_en: Bench indicator %d, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level}\n", i, i, i)
	}
	must(os.WriteFile(filepath.Join(tdir, "catalogue", "bench.yaml"), []byte(cat.String()), 0o644))

	pf, err := os.Create(filepath.Join(tdir, "benchscale-2021.yaml"))
	must(err)
	pw := bufio.NewWriterSize(pf, 1<<20)
	fmt.Fprintf(pw, "plan: {key: benchscale-2021, name_zh: 规模测试规划, issuer: 测试, published: \"2021\", region: \"100000\", start: 2021, horizon: 2030, source: bench-scale}\ntargets:\n")
	for i := range indicators {
		mod := []string{"reach", "hold", "reach", "reach", "reach"}[i%5]
		for _, r := range inRegions {
			fmt.Fprintf(pw, "  - {id: t-%03d-%s, indicator: bench_%03d, region: %q, comparator: \">=\", value: 90, deadline: 2027, modality: %s, lead_agencies: [局%03d], clause: x, quote: x}\n", i, r.Code, i, r.Code, mod, i)
		}
	}
	must(pw.Flush())
	must(pf.Close())

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

// realCount is how many regions came from the real table.
var realCount int

// regionTable is targets/regions.yaml, with synthetic prefectures (codes
// the table does not use, under its provinces) added until n regions other
// than 全国 exist.
func regionTable(root string, n int) []region {
	data, err := os.ReadFile(filepath.Join(root, "targets", "regions.yaml"))
	must(err)
	var doc struct {
		Regions []region `yaml:"regions"`
	}
	must(yaml.Unmarshal(data, &doc))
	regs := doc.Regions
	used := map[string]bool{}
	var provinces []string
	for _, r := range regs {
		used[r.Code] = true
		if r.Level == "province" && r.Code != "100000" && r.Code[2:] == "0000" {
			provinces = append(provinces, r.Code[:2])
		}
	}
	realCount = len(regs) - 1
	for c := 1; c <= 99 && len(regs)-1 < n; c++ {
		for _, p := range provinces {
			if len(regs)-1 >= n {
				break
			}
			code := fmt.Sprintf("%s%02d00", p, c)
			if used[code] {
				continue
			}
			for d := 0; d < 100 && len(regs)-1 < n; d++ {
				// Prefecture codes end in 00; beyond 99 per province the
				// synthetic ones use the county digits of the code.
				cc := code
				if d > 0 {
					cc = fmt.Sprintf("%s%02d%02d", p, c, d)
				}
				if used[cc] {
					continue
				}
				used[cc] = true
				regs = append(regs, region{Code: cc, Name: "合成地区" + cc, Short: "合成" + cc, Level: "prefecture"})
				break
			}
		}
	}
	if len(regs)-1 < n {
		log.Fatalf("benchscale: cannot make %d regions", n)
	}
	return regs
}

func writeYAML(path string, v any) {
	data, err := yaml.Marshal(v)
	must(err)
	must(os.WriteFile(path, append([]byte("# Generated by scripts/benchscale: the real table, then synthetic prefectures.\n"), data...), 0o644))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
