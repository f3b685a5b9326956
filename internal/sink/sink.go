// Package sink names where accepted batches of observations go. Every ingest
// path (import, file drop, upload, poller) hands its validated batch to a
// Sink; the durable spool implements it in serve, the store directly in tools.
package sink

import (
	"context"
	"time"

	"github.com/qualitymon/qualitymon/internal/obs"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Meta describes where a batch came from.
type Meta struct {
	// Origin is "import", "upload", "collector:<name>".
	Origin string
	// Who reported it (bureau name of an upload token, collector name).
	Who string
	// File is the input's name, when there is one.
	File       string
	ReportedAt time.Time
}

// Result says what happened to an accepted batch.
type Result struct {
	store.Summary
	// Pending is true when the batch is durably accepted but not yet in
	// InfluxDB (which was unreachable); it will be written by replay.
	Pending bool `json:"pending"`
}

// Sink accepts a validated batch. When Accept returns nil the batch is never
// lost.
type Sink interface {
	Accept(ctx context.Context, batch []obs.Observation, meta Meta) (Result, error)
}

// Direct writes straight to the store, with no spool (one-shot tools).
type Direct struct {
	Store *store.Store
	// After, when set, runs after each successful write (re-evaluation).
	After func()
}

// Accept implements Sink.
func (d *Direct) Accept(ctx context.Context, batch []obs.Observation, meta Meta) (Result, error) {
	at := meta.ReportedAt
	if at.IsZero() {
		at = time.Now()
	}
	sum, err := d.Store.Upsert(ctx, batch, at)
	if err != nil {
		return Result{}, err
	}
	if d.After != nil {
		d.After()
	}
	return Result{Summary: sum}, nil
}
