package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestRevisionsKeepHistory(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	sum, err := st.Upsert(ctx, []observation.Observation{
		testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97.0, "统计公报"),
		testenv.Obs("food_sampling_pass_rate", "370200", "2020", 98.0, ""),
		testenv.Obs("aqi_daily", "460100", "2020-07-15", 43, ""),
	}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (observation.Summary{Accepted: 3, New: 3}) {
		t.Fatalf("first write: %+v", sum)
	}
	// Same figures again: unchanged. A changed figure without a source: revised.
	t2 := t1.Add(24 * time.Hour)
	sum, err = st.Upsert(ctx, []observation.Observation{
		testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97.5, ""),
		testenv.Obs("food_sampling_pass_rate", "370200", "2020", 98.0, ""),
	}, t2)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (observation.Summary{Accepted: 2, Revised: 1, Unchanged: 1}) {
		t.Fatalf("second write: %+v", sum)
	}
	// The revision, sent again, is unchanged (a replay writes nothing new).
	sum, err = st.Upsert(ctx, []observation.Observation{testenv.Obs("food_sampling_pass_rate", "370000", "2020", 97.5, "")}, t2)
	if err != nil || sum != (observation.Summary{Accepted: 1, Unchanged: 1}) {
		t.Fatalf("replay: %+v %v", sum, err)
	}
	cur, err := st.Current(ctx, store.Filter{Indicators: []string{"food_sampling_pass_rate"}, Regions: []string{"370000"}})
	if err != nil || len(cur) != 1 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	if c := cur[0]; c.Value != 97.5 || c.Revision != 1 || c.Source != "" || !c.ReportedAt.Equal(t2) || c.Period.String() != "2020" {
		t.Fatalf("current = %+v", c)
	}
	hist, err := st.History(ctx, cur[0].Key())
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Value != 97.0 || hist[0].Source != "统计公报" || hist[0].Revision != 0 || hist[1].Value != 97.5 || hist[1].Revision != 1 {
		t.Fatalf("history = %+v", hist)
	}
	vals, err := st.Values(ctx, store.Filter{})
	if err != nil || len(vals) != 3 {
		t.Fatalf("values: %d %v", len(vals), err)
	}
	days, err := st.Values(ctx, store.Filter{Freq: period.Day})
	if err != nil || len(days) != 1 || days[0].Period.String() != "2020-07-15" || days[0].Value != 43 {
		t.Fatalf("daily values: %+v %v", days, err)
	}
}

func TestRevisionWithinOneBatch(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	at := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	sum, err := st.Upsert(ctx, []observation.Observation{
		testenv.Obs("food_sampling_pass_rate", "370000", "2019", 96, ""),
		testenv.Obs("food_sampling_pass_rate", "370000", "2019", 96.4, ""),
	}, at)
	if err != nil || sum != (observation.Summary{Accepted: 2, New: 1, Revised: 1}) {
		t.Fatalf("%+v %v", sum, err)
	}
}

func TestUnreachableIsRetryable(t *testing.T) {
	st := store.Open(store.Config{URL: "http://127.0.0.1:1", Bucket: "qualitymon/autogen", Org: "-", Timeout: 2 * time.Second})
	defer st.Close()
	err := st.WriteEvaluations(context.Background(), []evaluate.Evaluation{{Plan: "p", Target: "t", Indicator: "i", Region: "370000", Status: evaluate.NoData}}, time.Now())
	var re *store.RetryableError
	if err == nil || !asRetryable(err, &re) {
		t.Fatalf("err = %v, want RetryableError", err)
	}
	if st.Ready(context.Background()) == nil {
		t.Fatal("Ready succeeded against a closed port")
	}
}

// Ready means the bucket answers queries, not only that InfluxDB runs.
func TestReadyNeedsTheBucket(t *testing.T) {
	srv := testenv.SharedInflux(t)
	good := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: srv.NewBucket(t)})
	defer good.Close()
	if err := good.Ready(context.Background()); err != nil {
		t.Fatalf("existing bucket: %v", err)
	}
	missing := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: "no_such_db/autogen"})
	defer missing.Close()
	err := missing.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), `bucket "no_such_db/autogen" does not answer queries`) {
		t.Fatalf("missing bucket: %v", err)
	}
}
