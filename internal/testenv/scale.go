package testenv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
)

// ScaleSet builds the synthetic case of the scale benchmarks: regions
// prefecture-level regions (at most 5,445, under 55 provinces), indicators
// yearly indicators (ind_0, ind_1, …) and a target per region and
// indicator (t-<indicator>-<region>), value ≥ 90 by 2026, every fifth
// indicator's a hold. With perRegion each region has its own plan
// (scale-<code>-2018, as every county nationally; scripts/bench-scale.sh's
// PLANS=region), else one plan (scale-2018) holds every target. It returns
// the set and the region codes, in order.
func ScaleSet(tb testing.TB, regions, indicators int, perRegion bool) (*plan.Set, []string) {
	tb.Helper()
	var regs []*region.Region
	var codes []string
	for p := 11; p <= 65 && len(codes) < regions; p++ {
		regs = append(regs, &region.Region{Code: fmt.Sprintf("%02d0000", p), Name: fmt.Sprintf("省%02d", p), Level: region.Province})
		for c := 1; c <= 99 && len(codes) < regions; c++ {
			code := fmt.Sprintf("%02d%02d00", p, c)
			regs = append(regs, &region.Region{Code: code, Name: "市" + code, Level: region.Prefecture})
			codes = append(codes, code)
		}
	}
	rt, err := region.New(regs...)
	if err != nil {
		tb.Fatal(err)
	}
	lo, hi := 0.0, 100.0
	var inds []*catalog.Indicator
	for i := 0; i < indicators; i++ {
		inds = append(inds, &catalog.Indicator{ID: fmt.Sprintf("ind_%d", i), NameZh: fmt.Sprintf("指标%d", i), NameEn: "x", Unit: "percent", Min: &lo, Max: &hi, Better: "higher", Frequency: "yearly", Kind: "level"})
	}
	cat, err := catalog.New(inds...)
	if err != nil {
		tb.Fatal(err)
	}
	parse := func(key, reg string, codes []string) *plan.Plan {
		var b strings.Builder
		fmt.Fprintf(&b, "plan: {key: %s, name_zh: 规模测试, issuer: 测试, published: \"2018\", region: %q, start: 2018, horizon: 2020, source: x}\ntargets:\n", key, reg)
		for i := range inds {
			mod := []string{"reach", "hold", "reach", "reach", "reach"}[i%5]
			for _, c := range codes {
				fmt.Fprintf(&b, "  - {id: t-%d-%s, indicator: ind_%d, region: %q, comparator: \">=\", value: 90, deadline: 2026, modality: %s, lead_agencies: [局%d], clause: x, quote: x}\n", i, c, i, c, mod, i)
			}
		}
		pl, err := plan.Parse(key+".yaml", []byte(b.String()), cat, rt)
		if err != nil {
			tb.Fatal(err)
		}
		return pl
	}
	var plans []*plan.Plan
	if perRegion {
		for _, c := range codes {
			plans = append(plans, parse("scale-"+c+"-2018", c, []string{c}))
		}
	} else {
		plans = append(plans, parse("scale-2018", "110000", codes))
	}
	return &plan.Set{Plans: plans, Catalog: cat, Regions: rt}, codes
}

// ScaleFigures calls fn with the scale benchmarks' yearly figures: for
// every indicator of ScaleSet and region of codes, years years from 2015.
func ScaleFigures(codes []string, indicators, years int, fn func(observation.Observation)) {
	for i := 0; i < indicators; i++ {
		ind := fmt.Sprintf("ind_%d", i)
		for _, c := range codes {
			for y := 0; y < years; y++ {
				fn(observation.Observation{Indicator: ind, Region: c, Period: period.OfYear(2015 + y), Value: 80 + float64((y*7+len(c)+i)%20)})
			}
		}
	}
}
