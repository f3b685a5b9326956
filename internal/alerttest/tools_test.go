package alerttest

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/proctest"
)

// tool finds a Debian Prometheus tool (see proctest.Tool).
func tool(t testing.TB, names ...string) string {
	t.Helper()
	return proctest.Tool(t, "Debian packages prometheus and prometheus-alertmanager", names...)
}

// repoRoot is the directory holding go.mod, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
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

// waitHTTP waits until GET url answers 200, failing the test with the
// process's log if it exits or the timeout passes.
func waitHTTP(t testing.TB, p *proctest.Process, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if p.Exited() {
			t.Fatalf("%s exited before answering %s\n%s", p.Name, url, p.Tail(40))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s within %s (last error %v)\n%s", p.Name, url, timeout, err, p.Tail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
