package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckDashboardsOffline(t *testing.T) {
	run := func(dir string) (error, string, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Ctx: context.Background()}
		err := (&checkDashboardsCmd{Dir: dir}).Run(&globals{}, env)
		return err, out.String(), errb.String()
	}
	err, out, stderr := run(filepath.Join("..", "..", "dashboards", "grafana"))
	if err != nil || !strings.HasPrefix(out, "ok: 5 dashboards,") || !strings.Contains(out, "offline") {
		t.Errorf("repository dashboards: err %v\nstdout %s\nstderr %s", err, out, stderr)
	}

	// A copy with a panel pointing at an unprovisioned datasource fails with exit 1.
	bad := t.TempDir()
	for _, sub := range []string{"dashboards", "provisioning/datasources", "provisioning/dashboards"} {
		os.MkdirAll(filepath.Join(bad, sub), 0o755)
		src := filepath.Join("..", "..", "dashboards", "grafana", sub)
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(src, e.Name()))
			if e.Name() == "overview.json" {
				b = bytes.Replace(b, []byte(`"uid": "${ds_prometheus}"`), []byte(`"uid": "prometheus-gone"`), 1)
			}
			os.WriteFile(filepath.Join(bad, sub, e.Name()), b, 0o644)
		}
	}
	err, _, stderr = run(bad)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(stderr, `datasource uid "prometheus-gone" is not provisioned`) {
		t.Errorf("broken copy: err %v, stderr:\n%s", err, stderr)
	}
}
