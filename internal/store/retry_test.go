package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The retry policy: backoff doubles up to Max, a non-retryable error ends it
// at once, GiveUp < 0 never gives up, and a Sleep that fails (the context
// ended) ends it with both errors.
func TestRetryPolicy(t *testing.T) {
	down := &RetryableError{Err: errors.New("connection refused")}
	var waits []time.Duration
	r := Retry{Initial: time.Second, Max: 4 * time.Second, GiveUp: -1,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}

	var seen []int
	err := r.Do(context.Background(), func(attempt int) error {
		seen = append(seen, attempt)
		if attempt < 6 {
			return down
		}
		return nil
	}, nil)
	if err != nil || len(seen) != 6 {
		t.Fatalf("err %v after attempts %v", err, seen)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}

	bad := errors.New("400 bad request")
	n := 0
	if err := r.Do(context.Background(), func(int) error { n++; return bad }, nil); err != bad || n != 1 {
		t.Errorf("a permanent error: %v after %d attempts", err, n)
	}

	// Retryable decides: here every error but one is retried.
	stop := errors.New("closing")
	r.Retryable = func(err error) bool { return !errors.Is(err, stop) }
	n = 0
	err = r.Do(context.Background(), func(int) error {
		n++
		if n == 3 {
			return stop
		}
		return errors.New("disk full")
	}, nil)
	if err != stop || n != 3 {
		t.Errorf("custom Retryable: %v after %d attempts", err, n)
	}

	// The context ends while waiting.
	r.Retryable = nil
	r.Sleep = func(context.Context, time.Duration) error { return context.Canceled }
	var told []int
	err = r.Do(context.Background(), func(int) error { return down }, func(attempt int, err error, wait time.Duration) {
		told = append(told, attempt)
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, down) || len(told) != 1 {
		t.Errorf("cancelled: %v, onRetry heard %v", err, told)
	}

	// The default gives up after GiveUp of failing.
	r = Retry{Initial: time.Millisecond, Max: time.Millisecond, GiveUp: 20 * time.Millisecond}
	err = r.Do(context.Background(), func(int) error { return down }, nil)
	if err == nil || !strings.Contains(err.Error(), "giving up after 20ms") || !errors.Is(err, down) {
		t.Errorf("GiveUp: %v", err)
	}
}
