// Package collectortest helps test collectors: a validator over the shipped
// catalogue and region table with a fixed clock, and a canonical dump of
// batches as line protocol for golden files.
package collectortest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Now is the fixed clock of Validator: 2026-11-22 00:00 UTC.
var Now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// Validator validates against targets/catalogue and targets/regions.yaml,
// with Now as the clock.
func Validator(tb testing.TB) *ingest.Validator {
	tb.Helper()
	cat, regs := testenv.Targets(tb)
	return &ingest.Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return Now }}
}

// Deps are collector dependencies with Validator, Now and an environment
// of the given pairs.
func Deps(tb testing.TB, env ...string) collectors.Deps {
	m := map[string]string{}
	for i := 0; i+1 < len(env); i += 2 {
		m[env[i]] = env[i+1]
	}
	return collectors.Deps{Validator: Validator(tb), Now: func() time.Time { return Now }, Getenv: func(k string) string { return m[k] }}
}

// Dump renders accepted batches as line protocol (revision 0, reported at
// Now), each preceded by a comment naming the batch, and the errors of
// rejected batches one per line, as FILE:ROW:COLUMN: message.
func Dump(batches []collectors.Batch) (out, errs string) {
	var o, e strings.Builder
	for _, b := range batches {
		if b.Err != nil {
			var es ingest.Errors
			var one *ingest.Error
			switch {
			case errors.As(b.Err, &es):
				for _, x := range es {
					fmt.Fprintln(&e, x.Error())
				}
			case errors.As(b.Err, &one):
				fmt.Fprintln(&e, one.Error())
			default:
				fmt.Fprintf(&e, "%s: %v\n", b.Name, b.Err)
			}
			continue
		}
		fmt.Fprintf(&o, "# %s\n", b.Name)
		for i := range b.Samples {
			if n := b.Samples[i].Note; n != "" {
				fmt.Fprintf(&o, "# note: %s\n", n)
			}
			var lb strings.Builder
			store.ObservationLine(&lb, &b.Samples[i], 0, Now)
			o.WriteString(lb.String())
			o.WriteByte('\n')
		}
	}
	return o.String(), e.String()
}
