package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// CurrentValues (the plausibility check's history) answers from the last
// run's figures and the rows this process stored since (Stored), and a
// stored row stops shadowing the data once a run holds it: the next
// scheduled (incremental) run then shows another replica's later value
// of the same key. Apply forgets only the rows whose value it took: a row
// stored again since, with another value, stays.
func TestCurrentValuesFromTheEvaluation(t *testing.T) {
	c := newIncrCase(t)
	ctx := context.Background()
	key := observation.Key{Indicator: "ind_a", Region: "370200", Period: period.OfYear(2023)}
	missing := observation.Key{Indicator: "ind_a", Region: "370200", Period: period.OfYear(2019)}
	current := func(want float64) {
		t.Helper()
		got, err := c.e.CurrentValues(ctx, []observation.Key{key, missing})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := got[key]; !ok || v != want || len(got) != 1 {
			t.Fatalf("CurrentValues = %v, want %v for %v only", got, want, key)
		}
	}
	current(82) // before the first run: read from the store
	c.run(t)
	current(82) // from the run's data
	row := func(v float64) []observation.Observation {
		return []observation.Observation{{Indicator: key.Indicator, Region: key.Region, Period: key.Period, Value: v}}
	}
	replica := func(v float64) { // another replica writes the key
		t.Helper()
		if _, err := c.st.Upsert(ctx, row(v), time.Now()); err != nil {
			t.Fatal(err)
		}
		c.settle(t)
	}
	c.e.Stored(row(70)) // this process stored 70: seen at once, no run since
	current(70)
	replica(71)
	current(70) // another replica's write: not before the next run
	if ph, _ := c.run(t); ph.Full {
		t.Fatalf("the run read everything, want the incremental read")
	}
	current(71) // the run's read began after 70 was stored: 70 is forgotten
	c.e.Stored(row(72))
	c.e.Stored(row(73))
	if err := c.e.Apply(ctx, row(72)); err != nil {
		t.Fatal(err)
	}
	current(73) // Apply took 72, not the 73 stored since
}
