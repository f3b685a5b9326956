package testenv

import (
	"testing"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/targets"
)

// Targets loads the shipped catalogue (targets/catalogue) and region table
// (targets/regions.yaml).
func Targets(tb testing.TB) (*catalog.Catalog, *region.Table) {
	tb.Helper()
	cat, err := catalog.Load(targets.FS, "catalogue")
	if err != nil {
		tb.Fatal(err)
	}
	regs, err := region.Load(targets.FS, "regions.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return cat, regs
}

// Plans loads the shipped plans with their catalogue and regions.
func Plans(tb testing.TB) *plan.Set {
	tb.Helper()
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}
