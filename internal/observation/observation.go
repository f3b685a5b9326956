// Package observation holds what qualitymon ingests: the observation (one
// reported figure of an indicator for a region and a period, with where it
// came from), a batch's metadata, what storing it did (Summary, Result) and
// the Sink every ingest path hands its accepted batch to.
package observation

import (
	"context"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
)

// Observation is indicator × region × period → value.
type Observation struct {
	Indicator string        `json:"indicator"`
	Region    string        `json:"region"`
	Period    period.Period `json:"period"`
	Value     float64       `json:"value"`
	Source    string        `json:"source,omitempty"`
	Note      string        `json:"note,omitempty"`
}

// Key identifies an observation; reporting the same key again is a revision.
type Key struct {
	Indicator string
	Region    string
	Period    period.Period
}

// Key returns the observation's key.
func (o *Observation) Key() Key { return Key{o.Indicator, o.Region, o.Period} }

// Stored is an observation as held by the store.
type Stored struct {
	Observation
	// Revision counts the earlier values this key had (0 for the first report).
	Revision   int
	ReportedAt time.Time
}

// Summary counts what a write of observations did.
type Summary struct {
	Accepted  int `json:"accepted"`
	New       int `json:"new"`
	Revised   int `json:"revised"`
	Unchanged int `json:"unchanged"`
}

// Add accumulates another summary.
func (s *Summary) Add(o Summary) {
	s.Accepted += o.Accepted
	s.New += o.New
	s.Revised += o.Revised
	s.Unchanged += o.Unchanged
}

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
	Summary
	// Pending is true when the batch is durably accepted but not yet in
	// InfluxDB (which was unreachable); it will be written by replay.
	Pending bool `json:"pending"`
	// Held is true when the batch waits for a reviewer (the reporter's
	// token has review: required): it is kept by internal/reporting, not
	// stored, and used by no evaluation until approved. ReviewID names it.
	Held     bool   `json:"held,omitempty"`
	ReviewID string `json:"review_id,omitempty"`
}

// Sink accepts a validated batch: the durable spool in serve, the store
// directly in one-shot tools (store.Direct). When Accept returns nil the
// batch is never lost.
type Sink interface {
	Accept(ctx context.Context, batch []Observation, meta Meta) (Result, error)
}
