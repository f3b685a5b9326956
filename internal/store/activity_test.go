package store

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestRacedIndicators: a write that ended before this one started does not
// count, one still going (or started meanwhile) does, on the indicators the
// two share only; without its own start mark a write counts every
// indicator as raced.
func TestRacedIndicators(t *testing.T) {
	srv := testenv.SharedInflux(t)
	s := Open(Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: srv.NewBucket(t)})
	t.Cleanup(s.Close)
	ctx := context.Background()
	mark := func(inds []string, field, id string) {
		t.Helper()
		if err := s.markActivity(ctx, inds, field, id); err != nil {
			t.Fatal(err)
		}
	}
	mark([]string{"x", "y"}, "start", "ended")
	mark([]string{"x", "y"}, "done", "ended")
	mark([]string{"x", "y", "w"}, "start", "me")
	mark([]string{"y", "z"}, "start", "going")
	mark([]string{"w"}, "start", "later")
	mark([]string{"w"}, "done", "later")
	got, err := s.racedIndicators(ctx, []string{"w", "x", "y"}, "me")
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"w", "y"}) {
		t.Errorf("raced %v, want [w y]", keys)
	}
	got, err = s.racedIndicators(ctx, []string{"v", "x"}, "unknown")
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"v", "x"}) {
		t.Errorf("raced without a start mark %v, want [v x]", keys)
	}
}
