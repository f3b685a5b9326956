// Package collectors gathers figures from sources on a schedule: a Collector
// (package collectors/collector) collects from one source and returns typed,
// validated samples; the explicit Registry maps a source type to its
// constructor; ONE Runner schedules, times, recovers, counts and logs every
// configured collector and hands each batch to the sink. Collectors never
// write InfluxDB and never log their own failures.
package collectors

import "github.com/qualitymon/qualitymon/collectors/collector"

// The collector types, re-exported so that users of this package need only it.
type (
	// Batch is one unit a source delivers (see collector.Batch).
	Batch = collector.Batch
	// Collector collects from one source (see collector.Collector).
	Collector = collector.Collector
	// Deps are what a constructor may use (see collector.Deps).
	Deps = collector.Deps
	// Factory builds a collector from its options (see collector.Factory).
	Factory = collector.Factory
	// CollectorFunc adapts a function to Collector.
	CollectorFunc = collector.CollectorFunc
)
