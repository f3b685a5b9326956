package testenv

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// PollInterval is how often WaitFor and WaitHTTP try.
const PollInterval = 100 * time.Millisecond

var (
	errExited  = errors.New("the process exited")
	errTimeout = errors.New("timed out")
)

// poll calls cond every PollInterval until it holds, exited is closed (when
// not nil) or bound passes, and returns what cond last said.
func poll(bound time.Duration, exited <-chan struct{}, cond func() (bool, string)) (last string, err error) {
	deadline := time.Now().Add(bound)
	for {
		ok, seen := cond()
		if ok {
			return seen, nil
		}
		select {
		case <-exited:
			return seen, errExited
		case <-time.After(PollInterval):
		}
		if time.Now().After(deadline) {
			return seen, errTimeout
		}
	}
}

// WaitFor polls cond until it holds, p exits or bound passes; then it fails
// the test with what cond last said it saw and p's log. p may be nil. It is
// not a timing assertion: bound is generous.
func WaitFor(tb testing.TB, p *Process, bound time.Duration, what string, cond func() (ok bool, seen string)) {
	tb.Helper()
	var exited <-chan struct{}
	if p != nil {
		exited = p.done
	}
	last, err := poll(bound, exited, cond)
	switch {
	case err == nil:
		return
	case errors.Is(err, errExited):
		tb.Fatalf("waiting for %s: %s exited; last seen: %s\n%s", what, p.Name, last, p.Tail(40))
	default:
		log := ""
		if p != nil {
			log = "\n" + p.Tail(40)
		}
		tb.Fatalf("waiting for %s: not within %s; last seen: %s%s", what, bound, last, log)
	}
}

// WaitHTTP waits until GET url answers 200 (see WaitFor).
func WaitHTTP(tb testing.TB, p *Process, url string, bound time.Duration) {
	tb.Helper()
	client := &http.Client{Timeout: time.Second}
	WaitFor(tb, p, bound, "200 from "+url, func() (bool, string) {
		resp, err := client.Get(url)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}
