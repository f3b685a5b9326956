package composecheck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestImagesPinned: every image names an exact version, never a floating
// tag such as influxdb:2.7 or latest.
func TestImagesPinned(t *testing.T) {
	_, p := load(t)
	exact := regexp.MustCompile(`:v?\d+\.\d+\.\d+$|@sha256:[0-9a-f]{64}$`)
	// Images whose tags are plain release numbers (no minor/patch).
	releaseNumbered := map[string]bool{"mendhak/http-https-echo": true}
	for name, s := range p.Services {
		if s.Build != nil {
			continue
		}
		repo, tag, _ := strings.Cut(s.Image, ":")
		if exact.MatchString(s.Image) || releaseNumbered[repo] && regexp.MustCompile(`^\d+$`).MatchString(tag) {
			continue
		}
		t.Errorf("service %s: image %q is not pinned to an exact version", name, s.Image)
	}
}

// TestPreflightRefusesPlaceholders: every service that keeps data or a
// secret waits for the preflight job, which checks every secret of
// .env.example; run with .env.example's values the script fails, with real
// ones it passes.
func TestPreflightRefusesPlaceholders(t *testing.T) {
	_, p := load(t)
	pre := service(t, p, "preflight")
	checked := pre.Entrypoint[2:]
	for _, k := range []string{"INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_TOKEN", "GRAFANA_ADMIN_PASSWORD"} {
		if !slices.Contains(checked, k) || env(pre, k) == "" {
			t.Errorf("preflight does not check %s", k)
		}
	}
	for _, name := range []string{"qualitymon", "influxdb", "grafana"} {
		if d, ok := service(t, p, name).DependsOn["preflight"]; !ok || d.Condition != "service_completed_successfully" {
			t.Errorf("service %s does not wait for preflight to succeed", name)
		}
	}
	script := bind(t, pre, "/preflight.sh")
	runScript := func(vals map[string]string) (string, error) {
		cmd := exec.Command("sh", append([]string{script}, checked...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range vals {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	example := map[string]string{}
	for _, k := range checked {
		example[k] = env(pre, k) // as loaded from .env.example
	}
	if out, err := runScript(example); err == nil || !strings.Contains(out, "placeholder") {
		t.Errorf("preflight accepted .env.example's secrets: %v\n%s", err, out)
	}
	good := map[string]string{}
	for _, k := range checked {
		good[k] = "3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5"
	}
	if out, err := runScript(good); err != nil {
		t.Errorf("preflight refused real secrets: %v\n%s", err, out)
	}
	good["GRAFANA_ADMIN_PASSWORD"] = "short"
	if out, err := runScript(good); err == nil || !strings.Contains(out, "GRAFANA_ADMIN_PASSWORD is shorter") {
		t.Errorf("preflight accepted a 5-character password: %v\n%s", err, out)
	}
}

// TestGrafanaTokenReadOnly: the grafana-token job creates a token that can
// only read (influx auth create --read-bucket, no write or all-access
// permission), with the admin token, after InfluxDB is healthy, and Grafana
// waits for it.
func TestGrafanaTokenReadOnly(t *testing.T) {
	root, p := load(t)
	job := service(t, p, "grafana-token")
	script, err := os.ReadFile(bind(t, job, "/grafana-token.sh"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(script)
	if !strings.Contains(text, "influx auth create --read-bucket") {
		t.Error("grafana-token.sh does not create a --read-bucket token")
	}
	for _, bad := range []string{"--write-", "--all-access", "--operator"} {
		if strings.Contains(text, bad) {
			t.Errorf("grafana-token.sh grants %s", bad)
		}
	}
	if env(job, "INFLUX_TOKEN") != env(service(t, p, "influxdb"), "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN") {
		t.Error("grafana-token does not use the admin token to create Grafana's")
	}
	if d := job.DependsOn["influxdb"]; d.Condition != "service_healthy" {
		t.Error("grafana-token does not wait for InfluxDB to be healthy")
	}
	if d := service(t, p, "grafana").DependsOn["grafana-token"]; d.Condition != "service_completed_successfully" {
		t.Error("grafana does not wait for its token")
	}
	if out, err := exec.Command("bash", "-n", filepath.Join(root, "deploy", "grafana-token.sh")).CombinedOutput(); err != nil {
		t.Errorf("bash -n grafana-token.sh: %v\n%s", err, out)
	}
}
