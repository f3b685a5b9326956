package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retry is qualitymon's one retry policy, used by every writer and query
// and by the spool's flusher: capped exponential backoff (waits start at
// Initial and double up to Max) while an operation fails with a retryable
// error, for at most GiveUp of failing (negative: never — the spool must not
// drop an acknowledged batch). Zero durations take the defaults (200 ms,
// 5 s, 2 minutes). Retryable says which errors are retried (nil: a
// RetryableError, see Permanent); Sleep waits between attempts (nil: a
// timer; it returns early with ctx's error), so that tests can inject it.
type Retry struct {
	Initial, Max, GiveUp time.Duration
	Retryable            func(error) bool
	Sleep                func(ctx context.Context, d time.Duration) error
}

func (r Retry) withDefaults() Retry {
	if r.Initial <= 0 {
		r.Initial = 200 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 5 * time.Second
	}
	if r.GiveUp == 0 {
		r.GiveUp = 2 * time.Minute
	}
	if r.Retryable == nil {
		r.Retryable = func(err error) bool {
			var re *RetryableError
			return errors.As(err, &re)
		}
	}
	if r.Sleep == nil {
		r.Sleep = Sleep
	}
	return r
}

// Do runs op(1), and op(2), … while it fails with a retryable error, until
// it succeeds, fails for good, has kept failing for GiveUp, or ctx ends
// (then the error joins ctx's). onRetry, when set, hears of each retry: the
// attempt that failed, its error and the wait before the next.
func (r Retry) Do(ctx context.Context, op func(attempt int) error, onRetry func(attempt int, err error, wait time.Duration)) error {
	r = r.withDefaults()
	wait := r.Initial
	var failingSince time.Time
	for attempt := 1; ; attempt++ {
		err := op(attempt)
		if err == nil || !r.Retryable(err) {
			return err
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		} else if r.GiveUp > 0 && time.Since(failingSince) > r.GiveUp {
			return fmt.Errorf("giving up after %s: %w", r.GiveUp, err)
		}
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
		if serr := r.Sleep(ctx, wait); serr != nil {
			return errors.Join(serr, err)
		}
		wait = min(2*wait, r.Max)
	}
}

// Sleep waits for d or until ctx ends, then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
