// Package collectors gathers figures from sources on a schedule. A Collector
// collects from one source (collectors/aqi, filedrop, httpjson) and returns
// Batches of validated observations; a Factory builds one from its
// collectors: entry's options (DecodeOptions decodes them strictly); Build
// builds every configured collector from a registry of factories
// (collectors/all.Registry); ONE Runner schedules, times, recovers, counts
// and logs every configured collector and hands each batch to the ingest
// pipeline. Collectors never write InfluxDB and never log their own failures.
package collectors

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// Batch is one unit the source delivers (a file, a feed response), validated
// through the shared ingest.Validator. A batch is accepted or rejected whole.
type Batch struct {
	// Name identifies the batch in logs and audit (file name, URL).
	Name    string
	Samples []observation.Observation
	// Err, when set, means the source was read but rejected (validation
	// errors, usually ingest.Errors naming file, row and column). The runner
	// does not hand a rejected batch to the sink; it counts and logs it and
	// calls Ack with Err.
	Err error
	// Ack, when set, is called once the sink accepted the batch (err nil) or
	// it was rejected or refused (err says why), e.g. to move a dropped file
	// to done/ or failed/. Its own failure is returned for the runner to log.
	Ack func(err error) error
}

// Collector collects from one source. No batches and a nil error means
// nothing new (an unchanged feed). An error means the source could not be
// read at all (network down, directory missing).
type Collector interface {
	Collect(ctx context.Context) ([]Batch, error)
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func(ctx context.Context) ([]Batch, error)

// Collect implements Collector.
func (f CollectorFunc) Collect(ctx context.Context) ([]Batch, error) { return f(ctx) }

// Deps are what a constructor may use.
type Deps struct {
	Validator *ingest.Validator
	// Now is the clock (defaults to the validator's clock, then time.Now).
	Now func() time.Time
	// Getenv reads secrets named in options (defaults to os.Getenv).
	Getenv func(string) string
}

// Factory builds a collector from its YAML options (decoded strictly, see
// DecodeOptions). name is the configured collector name.
type Factory func(name string, options *yaml.Node, deps Deps) (Collector, error)

// DecodeOptions decodes an options node strictly (unknown keys fail) into v.
// An empty node leaves v unchanged.
func DecodeOptions(n *yaml.Node, v any) error {
	if n == nil || n.Kind == 0 {
		return nil
	}
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	if err := yamlfile.Decode(data, v); err != nil {
		// Line numbers refer to the re-encoded node; shift them back to the
		// configuration file.
		msg := lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
			k, _ := strconv.Atoi(lineRE.FindStringSubmatch(m)[1])
			return fmt.Sprintf("line %d:", k+n.Line-1)
		})
		msg = strings.TrimPrefix(msg, "yaml: ")
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "unmarshal errors:\n  "), "\n  ", "; ")
		return fmt.Errorf("options: %s", msg)
	}
	return nil
}

var lineRE = regexp.MustCompile(`line (\d+):`)
