package plan_test

import (
	"testing"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/targets"
)

// The shipped plans must load and validate.
func TestShippedTargetsLoad(t *testing.T) {
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.Plans {
		t.Logf("%s: %d targets", p.Key, len(p.Targets))
	}
}
