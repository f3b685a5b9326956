package ingest

import (
	"context"
	"errors"
	"strings"
)

// LargeCSV is the size from which a CSV file takes a slot of the Gate:
// smaller ones cost little to read, and pass.
const LargeCSV = 256 << 10

// ErrBusy is the error of a file refused because every slot of the Gate
// is taken: uploads answer 503 with Retry-After.
var ErrBusy = errors.New("too many large files being read at once (limits.concurrent_parses): try again shortly")

// Gate bounds how many large files one process reads at once
// (limits.concurrent_parses): every workbook (a small one can be hostile),
// and every CSV text of LargeCSV bytes or more. With each file's reading
// bounded by the limits, the gate bounds the memory of reading files as a
// whole. A nil Gate lets every file pass (import reads one file at a time).
type Gate struct {
	slots chan struct{}
}

// NewGate is a gate of n slots (n < 1: DefaultLimits.Parses).
func NewGate(n int) *Gate {
	if n < 1 {
		n = DefaultLimits.Parses
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// large says whether a file of the kind (".csv", ".xlsx") and size needs
// a slot.
func large(ext string, size int64) bool {
	return !strings.EqualFold(ext, ".csv") || size >= LargeCSV || size < 0
}

// TryEnter takes a slot for a file (size -1: unknown), or fails with
// ErrBusy at once. release gives the slot back; it is never nil.
func (g *Gate) TryEnter(ext string, size int64) (release func(), err error) {
	if g == nil || !large(ext, size) {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
		return func() {}, ErrBusy
	}
}

// Enter takes a slot for a file, waiting for one until ctx ends.
func (g *Gate) Enter(ctx context.Context, ext string, size int64) (release func(), err error) {
	if g == nil || !large(ext, size) {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-ctx.Done():
		return func() {}, ctx.Err()
	}
}

func (g *Gate) release() { <-g.slots }
