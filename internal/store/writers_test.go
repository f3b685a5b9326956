package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// twoStores are two stores on one bucket, as two processes have.
func twoStores(t *testing.T) (*store.Store, *store.Store) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	return storetest.On(t, srv, bucket), storetest.On(t, srv, bucket)
}

// 97.1 through A, 95.0 through B, 97.1 through A again: the third is a
// revision and 97.1 is current; all three values are in the history. (With
// the one-minute index of current values A answered "unchanged" and 95.0
// stayed current.)
func TestTwoWritersInTurn(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	o := func(v float64) []observation.Observation {
		return []observation.Observation{testenv.Obs("food_sampling_pass_rate", "370200", "2024", v, "")}
	}
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		st   *store.Store
		v    float64
		want observation.Summary
	}{
		{a, 97.1, observation.Summary{Accepted: 1, New: 1}},
		{b, 95.0, observation.Summary{Accepted: 1, Revised: 1}},
		{a, 97.1, observation.Summary{Accepted: 1, Revised: 1}},
		{b, 97.1, observation.Summary{Accepted: 1, Unchanged: 1}},
	} {
		sum, err := c.st.Upsert(ctx, o(c.v), at) // one second: only the order tells them apart
		if err != nil || sum != c.want {
			t.Fatalf("write %d (%v): %+v %v, want %+v", i+1, c.v, sum, err, c.want)
		}
	}
	hist, err := b.History(ctx, o(0)[0].Key())
	if err != nil {
		t.Fatal(err)
	}
	var vals []float64
	for _, h := range hist {
		vals = append(vals, h.Value)
	}
	if !slices.Equal(vals, []float64{97.1, 95.0, 97.1}) || hist[2].Revision != 2 {
		t.Fatalf("history %v (%+v), want 97.1 95 97.1 with the last at revision 2", vals, hist)
	}
	cur, err := a.Current(ctx, store.Filter{Indicators: []string{"food_sampling_pass_rate"}})
	if err != nil || len(cur) != 1 || cur[0].Value != 97.1 || cur[0].Revision != 2 {
		t.Fatalf("current %+v %v", cur, err)
	}
}

// Writers on two stores write different values of the same keys at once.
// Afterwards every value written is in the history of its key, and the
// current value is the history's last (the latest report by revision,
// reported_at, value).
func TestTwoWritersAtOnce(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	const writers, rounds, keys = 6, 5, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	sums := make(chan observation.Summary, writers*rounds)
	for w := range writers {
		st := []*store.Store{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				var batch []observation.Observation
				for k := range keys {
					batch = append(batch, testenv.Obs("aqi_daily", "460100", fmt.Sprintf("2024-01-%02d", k+1), float64(1000*w+10*r+k), ""))
				}
				sum, err := st.Upsert(ctx, batch, time.Now())
				if err != nil {
					errs <- err
					return
				}
				sums <- sum
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(sums)
	for err := range errs {
		t.Fatal(err)
	}
	var total observation.Summary
	for s := range sums {
		total.Add(s)
	}
	if total.Accepted != writers*rounds*keys || total.Unchanged != 0 || total.New < keys {
		t.Errorf("answers %+v: want every row new or revised, each key new at least once", total)
	}
	cur, err := a.Current(ctx, store.Filter{Indicators: []string{"aqi_daily"}})
	if err != nil || len(cur) != keys {
		t.Fatalf("current: %d %v", len(cur), err)
	}
	for _, c := range cur {
		hist, err := b.History(ctx, c.Key())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[float64]bool{}
		for _, h := range hist {
			seen[h.Value] = true
		}
		k := c.Period.Start().Day() - 1
		for w := range writers {
			for r := range rounds {
				if v := float64(1000*w + 10*r + k); !seen[v] {
					t.Errorf("%s: value %v written by writer %d is not in the history", c.Period, v, w)
				}
			}
		}
		if len(hist) != writers*rounds {
			t.Errorf("%s: %d values in the history, want %d", c.Period, len(hist), writers*rounds)
		}
		if last := hist[len(hist)-1]; last.Value != c.Value || last.Revision != c.Revision {
			t.Errorf("%s: current %v (revision %d), but the latest report is %v (revision %d)", c.Period, c.Value, c.Revision, last.Value, last.Revision)
		}
	}
}

// A writer between its report and its current value: another writer has
// marked its start and its report of the key at the same revision,
// reported later, is already in observation_report when A revises the key. A's reconcile sees that its
// key raced and makes the latest report (the other writer's) current;
// without the full reconcile of raced keys A's own value stayed current.
func TestReconcileFollowsRacedReport(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	a := storetest.On(t, srv, bucket)
	ctx := context.Background()
	o := testenv.Obs("food_sampling_pass_rate", "370200", "2024", 97.1, "")
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := a.Upsert(ctx, []observation.Observation{o}, at); err != nil {
		t.Fatal(err)
	}
	other := at.Add(time.Hour)
	// The other writer has marked its start (store/activity.go), not its end.
	srv.Write(t, bucket, "ns", "writer_activity,indicator="+o.Indicator+" start=\"other\"\n")
	srv.Write(t, bucket, "ns", fmt.Sprintf("observation_report,freq=%s,indicator=%s,region=%s value=95,revision=1i,reported_at=%di,source=\"\" %d\n",
		o.Period.Kind, o.Indicator, o.Region, other.Unix(), o.Period.Start().UnixNano()+123))
	o.Value = 96.0
	sum, err := a.Upsert(ctx, []observation.Observation{o}, at.Add(time.Minute))
	if err != nil || sum.Revised != 1 {
		t.Fatalf("revision: %+v %v", sum, err)
	}
	cur, err := a.Current(ctx, store.Filter{Indicators: []string{o.Indicator}})
	if err != nil || len(cur) != 1 {
		t.Fatalf("current %+v %v", cur, err)
	}
	if c := cur[0]; c.Value != 95 || c.Revision != 1 || !c.ReportedAt.Equal(other) {
		t.Errorf("current %v (revision %d, reported %v), want the other writer's later report 95 at revision 1", c.Value, c.Revision, c.ReportedAt)
	}
}

// A partial write reconciles too: InfluxDB refuses the 2019 row (a
// field-type conflict in that shard) and stores the 2020 one, which another
// writer (started, not ended) reported meanwhile, later: its report becomes
// current. (Before, a refused row made the write skip reconcile.)
func TestPartialWriteReconciles(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	srv.Write(t, bucket, "s", "observation,freq=year,indicator=conflict_probe,region=370200 value=1i 1546300800\n")
	a := storetest.On(t, srv, bucket)
	ctx := context.Background()
	o19 := testenv.Obs("food_sampling_pass_rate", "370200", "2019", 97.1, "")
	o20 := testenv.Obs("food_sampling_pass_rate", "370200", "2020", 97.4, "")
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	other := at.Add(time.Hour)
	srv.Write(t, bucket, "ns", "writer_activity,indicator="+o20.Indicator+" start=\"other\"\n")
	srv.Write(t, bucket, "ns", fmt.Sprintf("observation_report,freq=%s,indicator=%s,region=%s value=95,revision=0i,reported_at=%di,source=\"\" %d\n",
		o20.Period.Kind, o20.Indicator, o20.Region, other.Unix(), o20.Period.Start().UnixNano()+123))
	_, err := a.Upsert(ctx, []observation.Observation{o19, o20}, at)
	var pe *store.PartialWriteError
	if !errors.As(err, &pe) || len(pe.Refused) != 1 || pe.Refused[0].Period != o19.Period {
		t.Fatalf("write: %v, want the 2019 row refused", err)
	}
	cur, err := a.Current(ctx, store.Filter{Indicators: []string{o20.Indicator}, From: o20.Period.Start()})
	if err != nil || len(cur) != 1 {
		t.Fatalf("current %+v %v", cur, err)
	}
	if c := cur[0]; c.Value != 95 || !c.ReportedAt.Equal(other) {
		t.Errorf("current %v (reported %v), want the other writer's later report 95", c.Value, c.ReportedAt)
	}
}
