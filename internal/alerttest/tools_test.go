package alerttest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// tool finds a Debian Prometheus tool (see testenv.Tool).
func tool(t testing.TB, names ...string) string {
	t.Helper()
	return testenv.Tool(t, "Debian packages prometheus and prometheus-alertmanager", names...)
}

// Paths of the files under test, relative to the repository root.
const (
	rulesFile        = "dashboards/alerts/qualitymon.rules.yml"
	ruleTestsGlob    = "dashboards/alerts/tests/*.yml"
	alertmanagerFile = "dashboards/alertmanager/alertmanager.yml"
	readmeFile       = "dashboards/alerts/README.md"
	receiversFile    = "dashboards/alertmanager/receivers.yml"
	// relayBase is the alert relay every receiver posts to.
	relayBase = "http://alert-relay:9099/"
)

// run runs a command and returns its combined output; a non-zero exit fails
// the test with that output.
func run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
