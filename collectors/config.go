package collectors

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/qualitymon/qualitymon/internal/config"
)

// Config is one entry of the collectors: section of qualitymon.yaml, decoded
// strictly and checked (names, schedules, default timeout) by config.Load.
type Config = config.Collector

// DefaultTimeout bounds a run when the config gives no timeout.
const DefaultTimeout = config.DefaultCollectorTimeout

// Configured is a collector built from its collectors: entry.
type Configured struct {
	Config
	Collector Collector
}

// Build builds every configured collector with its type's factory from
// registry, which decodes and checks its options: what config.Load cannot
// tell from the text alone. Every error names the collector. deps.Getenv
// defaults to os.Getenv.
func Build(cfgs []Config, registry map[string]Factory, deps Deps) ([]Configured, error) {
	if deps.Getenv == nil {
		deps.Getenv = os.Getenv
	}
	var out []Configured
	var errs []error
	for _, c := range cfgs {
		f, ok := registry[c.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("collector %q: type: unknown type %q (want one of %s)", c.Name, c.Type, strings.Join(Types(registry), ", ")))
			continue
		}
		col, err := f(c.Name, &c.Options, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("collector %q: %w", c.Name, err))
			continue
		}
		out = append(out, Configured{Config: c, Collector: col})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Types lists the registry's type names, sorted.
func Types(registry map[string]Factory) []string {
	return slices.Sorted(maps.Keys(registry))
}
