package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Classify: no current value is new at revision 0; the same value and
// source is unchanged (not written); any other value or source is the next
// revision.
func TestClassify(t *testing.T) {
	cur := &observation.Stored{Observation: observation.Observation{Value: 97.5, Source: "统计公报"}, Revision: 2}
	for _, c := range []struct {
		cur    *observation.Stored
		value  float64
		source string
		want   store.Change
		rev    int
	}{
		{nil, 97.5, "统计公报", store.New, 0},
		{cur, 97.5, "统计公报", store.Unchanged, 2},
		{cur, 97.6, "统计公报", store.Revised, 3},
		{cur, 97.5, "", store.Revised, 3},
	} {
		if got, rev := store.Classify(c.cur, c.value, c.source); got != c.want || rev != c.rev {
			t.Errorf("Classify(%v, %v, %q) = %s, %d; want %s, %d", c.cur, c.value, c.source, got, rev, c.want, c.rev)
		}
	}
}

// KeySpan: the filter covers every key added (indicators, regions, the
// period starts up to the second after the last) and drops the indicator
// list past 50 distinct indicators.
func TestKeySpanFilter(t *testing.T) {
	obs := []observation.Observation{
		testenv.Obs("food_sampling_pass_rate", "370200", "2021", 1, ""),
		testenv.Obs("aqi_daily", "370000", "2019-03-02", 1, ""),
	}
	f := store.SpanOf(obs).Filter()
	if !slices.Equal(f.Indicators, []string{"aqi_daily", "food_sampling_pass_rate"}) || !slices.Equal(f.Regions, []string{"370000", "370200"}) {
		t.Errorf("filter %+v", f)
	}
	if want := time.Date(2019, 3, 2, 0, 0, 0, 0, time.UTC); !f.From.Equal(want) {
		t.Errorf("from %v, want %v", f.From, want)
	}
	if want := time.Date(2021, 1, 1, 0, 0, 1, 0, time.UTC); !f.To.Equal(want) {
		t.Errorf("to %v, want %v", f.To, want)
	}
	var span store.KeySpan
	for i := range 51 {
		o := testenv.Obs("ind"+string(rune('a'+i%26))+string(rune('a'+i/26)), "370000", "2021", 1, "")
		span.Add(o.Key())
	}
	if f := span.Filter(); f.Indicators != nil || len(f.Regions) != 1 {
		t.Errorf("51 indicators: filter %+v, want no indicator list", f)
	}
}

// Write classifies each batch of a sequence against the values stored and
// the batches before it, and returns a result per batch, in order.
func TestWriteSequence(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	t1 := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	a := testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97, "")
	b := testenv.Obs("food_sampling_pass_rate", "370200", "2020", 98, "")
	if _, err := st.Upsert(ctx, []observation.Observation{a}, t1); err != nil {
		t.Fatal(err)
	}
	a2 := a
	a2.Value = 96
	batches := []store.Batch{
		{Obs: []observation.Observation{a, b}, ReportedAt: t1.Add(time.Hour)},      // unchanged, new
		{Obs: []observation.Observation{a2, b}, ReportedAt: t1.Add(2 * time.Hour)}, // revised, unchanged
	}
	res, err := st.Write(ctx, slices.Values(batches))
	if err != nil {
		t.Fatal(err)
	}
	want := []observation.Summary{{Accepted: 2, New: 1, Unchanged: 1}, {Accepted: 2, Revised: 1, Unchanged: 1}}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i := range want {
		if res[i].Err != nil || res[i].Summary != want[i] {
			t.Errorf("batch %d: %+v, want %+v", i, res[i], want[i])
		}
	}
	hist, err := st.History(ctx, a.Key())
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Value != 96 || hist[1].Revision != 1 {
		t.Errorf("history of %v: %+v, want 97 then 96 at revision 1", a.Key(), hist)
	}
}

// A write over more indicators than one filtered lookup takes (60 > 50)
// reads its keys in pieces and still classifies every row against what is
// stored: written again with one value changed, 59 rows are unchanged and
// one revised.
func TestLookupInPieces(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	var obs []observation.Observation
	for i := range 60 {
		obs = append(obs, testenv.Obs(fmt.Sprintf("ind_%02d", i), "370200", fmt.Sprint(2000+i%3), float64(i), ""))
	}
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if sum, err := s.Upsert(ctx, obs, at); err != nil || sum.New != 60 {
		t.Fatalf("first write: %+v %v", sum, err)
	}
	obs[55].Value = 99
	if sum, err := s.Upsert(ctx, obs, at.Add(time.Hour)); err != nil || sum.Unchanged != 59 || sum.Revised != 1 {
		t.Fatalf("second write: %+v %v, want 59 unchanged, 1 revised", sum, err)
	}
}
