package reporting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// countingStore is the real store, counting the figure reads asked of it.
type countingStore struct {
	*store.Store
	reads atomic.Int64
}

func (c *countingStore) Current(ctx context.Context, f store.Filter) ([]observation.Stored, error) {
	c.reads.Add(1)
	return c.Store.Current(ctx, f)
}

func (c *countingStore) FirstReports(ctx context.Context, f store.Filter) (map[observation.Key]time.Time, error) {
	c.reads.Add(1)
	return c.Store.FirstReports(ctx, f)
}

// The completeness refresh re-reads only the indicators written since the
// last one (store.ChangedSince): with nothing written it reads no figure;
// after a write of this process, of another replica (another Store on the
// same bucket, a revision), after the plans change and after a year ends,
// its listing is the one a full read gives.
func TestIncrementalRefresh(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	open := func() *store.Store {
		st := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: bucket})
		t.Cleanup(st.Close)
		return st
	}
	st, other := open(), open()
	// Two plans (Qingdao's and Shandong's, which the bureaus report for):
	// every full read of the shipped plans takes seconds on a loaded machine.
	set := testenv.Plans(t)
	set.Plans = slices.DeleteFunc(set.Plans, func(p *plan.Plan) bool {
		return !strings.HasPrefix(p.Key, "qingdao") && !strings.HasPrefix(p.Key, "shandong")
	})
	dir, err := reporting.NewDirectory(testTokens(config.ReviewNone), set.Catalog, set.Regions)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)
	ctx := context.Background()
	upsert := func(s *store.Store, obs ...observation.Observation) {
		t.Helper()
		if _, err := s.Upsert(ctx, obs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// settle lets the writes so far fall behind the time a refresh reads
	// at: InfluxDB's Date header (whole seconds) less store.ChangeSlack.
	// Before it a refresh re-reads them, as it must.
	settle := func() { time.Sleep(store.ChangeSlack + 1200*time.Millisecond) }
	upsert(st, testenv.Obs("food_sampling_pass_rate", "370200", "2023", 98.1, "a"),
		testenv.Obs("food_sampling_pass_rate", "370200", "2022", 97.5, "a"))
	settle()

	cs := &countingStore{Store: st}
	grid := &reporting.Grid{Set: set, Store: cs}
	col := &reporting.Collector{Grid: grid, Dir: dir, Now: func() time.Time { return now }, FullRead: time.Hour}
	// refresh refreshes and checks the listing against a full read's.
	refresh := func(step string) reporting.LastRead {
		t.Helper()
		cs.reads.Store(0)
		if err := col.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		read := col.LastRead()
		want, err := (&reporting.Grid{Set: grid.Set, Store: st}).Completeness(ctx, dir.Reporters(), reporting.CompletenessQuery{}, now)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(col.Latest())
		full, _ := json.Marshal(want)
		if !bytes.Equal(got, full) {
			t.Fatalf("%s (read %+v): the refreshed listing differs from a full read's:\n got %.600s\nwant %.600s", step, read, got, full)
		}
		return read
	}
	if r := refresh("first"); !r.Full {
		t.Fatalf("the first refresh did not read every figure: %+v", r)
	}
	if r := refresh("nothing written"); r.Full || len(r.Indicators) != 0 || cs.reads.Load() != 0 {
		t.Fatalf("a refresh with nothing written read %d times (%+v), want none", cs.reads.Load(), r)
	}

	upsert(st, testenv.Obs("food_sampling_pass_rate", "370200", "2022", 97.6, "a"))
	if r := refresh("this process wrote"); r.Full || !slices.Equal(r.Indicators, []string{"food_sampling_pass_rate"}) {
		t.Fatalf("after a write of food_sampling_pass_rate the refresh read %+v, want that indicator only", r)
	}
	// Another replica revises a figure: seen through its writer marks.
	upsert(other, testenv.Obs("food_sampling_pass_rate", "370200", "2023", 98.4, "b"))
	if r := refresh("another replica wrote"); r.Full || !slices.Equal(r.Indicators, []string{"food_sampling_pass_rate"}) {
		t.Fatalf("after another Store's write the refresh read %+v, want food_sampling_pass_rate only", r)
	}
	got := map[string]float64{}
	for _, r := range col.Latest().Bureaus {
		for _, c := range r.Cells {
			if c.Indicator.ID == "food_sampling_pass_rate" && c.Region == "370200" && c.Value != nil {
				got[c.Period.String()] = *c.Value
			}
		}
	}
	if got["2022"] != 97.6 || got["2023"] != 98.4 {
		t.Fatalf("the listing after the writes shows %v, want 2022: 97.6, 2023: 98.4", got)
	}

	// The plans change: one plan less, then all of them again (its items
	// asked again are read, not taken as missing).
	if len(set.Plans) != 2 {
		t.Fatalf("the shipped plans hold %d of Qingdao and Shandong, want 2", len(set.Plans))
	}
	settle()
	grid.Set = &plan.Set{Plans: set.Plans[1:], Catalog: set.Catalog, Regions: set.Regions}
	refresh("a plan removed")
	grid.Set = set
	if r := refresh("the plan back"); r.Full || len(r.Indicators) == 0 {
		t.Fatalf("with the plan back the refresh read %+v: its indicators' items must be read again", r)
	}
	if r := refresh("nothing written again"); r.Full || len(r.Indicators) != 0 || cs.reads.Load() != 0 {
		t.Fatalf("a refresh with nothing written read %d times (%+v), want none", cs.reads.Load(), r)
	}
	// A year ends: its items are listed, and their indicators read.
	now = time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	if r := refresh("2024 ended"); r.Full || len(r.Indicators) == 0 {
		t.Fatalf("after 2024 ended the refresh read %+v: the indicators of its items must be read", r)
	}
}
