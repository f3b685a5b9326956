package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// TestTimeClusters: keys years apart are looked up apart (one query over
// both would read everything stored between them); consecutive days,
// months and years stay together.
func TestTimeClusters(t *testing.T) {
	key := func(p string) observation.Key {
		pp, err := period.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		return observation.Key{Indicator: "x", Region: "370200", Period: pp}
	}
	keys := []observation.Key{key("2021-03-02"), key("2009-01-01"), key("2021-03-01"), key("2009-01-20"), key("2015"), key("2016"), key("2017"), key("2022-01"), key("2022-03")}
	var got [][]string
	for _, c := range timeClusters(keys) {
		var s []string
		for _, k := range c {
			s = append(s, k.Period.String())
		}
		got = append(got, s)
	}
	want := "[[2009-01-01 2009-01-20] [2015 2016 2017] [2021-03-01 2021-03-02] [2022-01 2022-03]]"
	if g := fmt.Sprint(got); g != want {
		t.Fatalf("clusters %s, want %s", g, want)
	}
}

// TestLookupFiltersByRange: the indicators of a lookup are put into pieces
// by their own period ranges, so that a piece of indicators written for
// one year does not read another year that other indicators of the batch
// need (a chunk of an import spanning the end of one year and the start of
// the year before: in name order every piece spanned both years).
func TestLookupFiltersByRange(t *testing.T) {
	var keys []observation.Key
	for i := range 2 * filterLimit {
		year := "2024"
		if i%2 == 1 {
			year = "2023"
		}
		p, err := period.Parse(year)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, observation.Key{Indicator: fmt.Sprintf("ind%03d", i), Region: "370200", Period: p})
	}
	fs := lookupFilters(keys)
	if len(fs) != 2 {
		t.Fatalf("%d queries, want 2", len(fs))
	}
	for _, f := range fs {
		if len(f.Indicators) != filterLimit || f.To.Sub(f.From) > 24*time.Hour {
			t.Errorf("piece of %d indicators over %v–%v, want %d over one year start", len(f.Indicators), f.From, f.To, filterLimit)
		}
	}
}
