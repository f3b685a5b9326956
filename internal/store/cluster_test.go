package store

import (
	"fmt"
	"testing"

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
