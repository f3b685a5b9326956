package engine_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// An Apply gives exactly the evaluations a full run over the same figures
// gives, in the same order: after a figure that changes a judgement, after
// the same figure again (nothing changes) and after figures of another
// indicator in two regions at once.
func TestApplyMatchesFullRun(t *testing.T) {
	c := newIncrCase(t)
	ctx := context.Background()
	c.run(t)
	year := func(y int) period.Period { return period.OfYear(y) }
	for _, rows := range [][]observation.Observation{
		fig2024,
		fig2024,
		{{Indicator: "ind_b", Region: "370000", Period: year(2024), Value: 95}, {Indicator: "ind_b", Region: "370300", Period: year(2023), Value: 60}},
	} {
		if _, err := c.st.Upsert(ctx, rows, c.e.Now()); err != nil {
			t.Fatal(err)
		}
		if err := c.e.Apply(ctx, rows); err != nil {
			t.Fatal(err)
		}
		applied, _ := c.e.Last()
		full := c.engine(c.st, 0, "")
		if err := full.Run(ctx); err != nil {
			t.Fatal(err)
		}
		want, _ := full.Last()
		if len(applied) != len(want) {
			t.Fatalf("after %v: Apply gives %d evaluations, a full run %d", rows, len(applied), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(applied[i], want[i]) {
				t.Errorf("after %v: evaluation %d is\n%+v\nafter Apply, want as a full run\n%+v", rows, i, applied[i], want[i])
			}
		}
	}
}
