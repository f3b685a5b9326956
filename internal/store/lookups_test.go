package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestCurrentValuesConcurrent: many concurrent callers (whose lookups share
// queries) each get exactly the current values of their own keys — the
// revised value, not the superseded one — and nothing for keys without a
// value, even when another caller's keys lie in between.
func TestCurrentValuesConcurrent(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	regions := []string{"370100", "370200", "370300", "370400"}
	var batch []observation.Observation
	for d := 1; d <= 28; d += 2 { // odd days only
		for i, r := range regions {
			batch = append(batch, testenv.Obs("aqi_daily", r, fmt.Sprintf("2024-02-%02d", d), float64(d*10+i), ""))
		}
	}
	batch = append(batch, testenv.Obs("food_sampling_pass_rate", "370200", "2023", 97, ""))
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.Upsert(ctx, batch, t0); err != nil {
		t.Fatal(err)
	}
	// A revision: the current value is the new one.
	if _, err := st.Upsert(ctx, []observation.Observation{testenv.Obs("aqi_daily", "370300", "2024-02-05", 555, "")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for c := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := regions[c%len(regions)]
			d := 1 + c%27
			key := func(ind, reg, p string) observation.Key { o := testenv.Obs(ind, reg, p, 0, ""); return o.Key() }
			keys := []observation.Key{key("aqi_daily", r, fmt.Sprintf("2024-02-%02d", d)), key("aqi_daily", r, fmt.Sprintf("2024-02-%02d", d+1))}
			if c%10 == 0 {
				keys = append(keys, key("food_sampling_pass_rate", "370200", "2023"))
			}
			got, err := st.CurrentValues(ctx, keys)
			if err != nil {
				errs <- err
				return
			}
			want := map[observation.Key]float64{}
			for _, k := range keys {
				day := k.Period.Start().Day()
				switch {
				case k.Indicator == "food_sampling_pass_rate":
					want[k] = 97
				case day%2 == 0:
				case k.Region == "370300" && day == 5:
					want[k] = 555
				default:
					want[k] = float64(day*10 + c%len(regions))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				errs <- fmt.Errorf("caller %d: got %v, want %v", c, got, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
