// Package collectors defines how qualitymon gathers figures from sources on a
// schedule: a Collector collects from one source and returns typed, validated
// samples; an explicit registry maps a source type to its constructor; one
// runner schedules, times, recovers and hands every batch to the sink for all
// of them. Collectors never write InfluxDB and never log their own failures.
package collectors

import (
	"context"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/obs"
)

// Batch is one unit the source delivers (a file, a feed response), validated
// through the shared ingest.Validator.
type Batch struct {
	// Name identifies the batch in logs and audit (file name, URL).
	Name    string
	Samples []obs.Observation
	// Ack, when set, is called once the sink accepted the batch (err nil) or
	// refused it, e.g. to move a dropped file to done/ or failed/.
	Ack func(err error)
}

// Collector collects from one source. No batches and a nil error means
// nothing new (an unchanged feed).
type Collector interface {
	Collect(ctx context.Context) ([]Batch, error)
}

// Deps are what a constructor may use.
type Deps struct {
	Validator *ingest.Validator
}

// Factory builds a collector from its YAML options (decoded strictly).
type Factory func(name string, options *yaml.Node, deps Deps) (Collector, error)
