package composecheck_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/dashcheck"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// services are the ones the README documents; jobs run once and exit.
var (
	services = []string{"qualitymon", "influxdb", "prometheus", "alertmanager", "alert-relay", "grafana"}
	jobs     = []string{"preflight", "grafana-token"}
)

func load(t *testing.T) (string, *types.Project) {
	t.Helper()
	root := testenv.RepoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnvFiles(filepath.Join(root, ".env.example")),
		cli.WithDotEnv,
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml with .env.example: %v", err)
	}
	return root, p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml: no service %q", name)
	}
	return s
}

// bind returns the repository file or directory mounted at target.
func bind(t *testing.T, s types.ServiceConfig, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == target {
			return v.Source
		}
	}
	t.Fatalf("service %s: nothing is mounted at %s", s.Name, target)
	return ""
}

// flag returns the value of --name=value or "--name value" in a command.
func flag(cmd []string, name string) string {
	for i, a := range cmd {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(cmd) {
			return cmd[i+1]
		}
	}
	return ""
}

func env(s types.ServiceConfig, k string) string {
	if v := s.Environment[k]; v != nil {
		return *v
	}
	return ""
}

// containerPort is the port a service publishes from (ports: target).
func containerPort(t *testing.T, s types.ServiceConfig) int {
	t.Helper()
	if len(s.Ports) == 0 {
		t.Fatalf("service %s publishes no port", s.Name)
	}
	return int(s.Ports[0].Target)
}

func hostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%q: %v", rawURL, err)
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}

func TestServicesAndHealthChecks(t *testing.T) {
	_, p := load(t)
	for _, name := range services {
		s := service(t, p, name)
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("service %s has no health check", name)
		}
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
	}
	for name := range p.Services {
		if !slices.Contains(services, name) && !slices.Contains(jobs, name) {
			t.Errorf("service %s is not documented (update this test and the README)", name)
		}
	}
	for _, name := range jobs {
		if s := service(t, p, name); s.Restart != "no" {
			t.Errorf("job %s: restart %q, want \"no\" (it runs once)", name, s.Restart)
		}
	}
	// Each health check asks the endpoint the README names.
	wantHealth := map[string]string{"qualitymon": "/readyz", "prometheus": "/-/healthy", "alertmanager": "/-/healthy", "grafana": "/api/health"}
	for name, path := range wantHealth {
		test := strings.Join(service(t, p, name).HealthCheck.Test, " ")
		if !strings.Contains(test, path) {
			t.Errorf("service %s: health check %q does not ask %s", name, test, path)
		}
	}
	if test := strings.Join(service(t, p, "influxdb").HealthCheck.Test, " "); !strings.Contains(test, "influx ping") && !strings.Contains(test, "/health") {
		t.Errorf("influxdb: health check %q asks neither /health nor influx ping", test)
	}
	// Every published port is distinct and bound to the loopback.
	seen := map[string]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %s on %q, want 127.0.0.1", name, port.Published, port.HostIP)
			}
			if other, dup := seen[port.Published]; dup {
				t.Errorf("services %s and %s both publish host port %s", name, other, port.Published)
			}
			seen[port.Published] = name
		}
	}
}

func TestMountsExist(t *testing.T) {
	root, p := load(t)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeBind:
				rel, err := filepath.Rel(root, v.Source)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("service %s mounts %s from outside the repository", name, v.Source)
					continue
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("service %s mounts %s, which does not exist in the repository", name, rel)
				}
				if !v.ReadOnly {
					t.Errorf("service %s mounts %s writable; repository files are mounted :ro", name, rel)
				}
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("service %s uses volume %s, which is not declared", name, v.Source)
				}
			}
		}
	}
	qm := service(t, p, "qualitymon")
	if qm.Build == nil {
		t.Fatal("qualitymon is not built from the repository")
	}
	dockerfile := filepath.Join(qm.Build.Context, qm.Build.Dockerfile)
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatalf("qualitymon build: %v", err)
	}
	df := string(b)
	if n := strings.Count(df, "\nFROM "); n < 2 && !(strings.HasPrefix(df, "FROM ") && n >= 1) {
		t.Errorf("%s: want a multi-stage build (builder and runtime)", dockerfile)
	}
	if !strings.Contains(df, "./cmd/qualitymon") {
		t.Errorf("%s does not build ./cmd/qualitymon", dockerfile)
	}
	// The builder's Go is the one go.mod asks for.
	gomod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil || !strings.Contains(df, "FROM golang:"+string(m[1])) {
		t.Errorf("%s: builder is not golang:%s (go.mod)", dockerfile, m[1])
	}
}

func TestQualitymonMatchesInfluxAndPrometheus(t *testing.T) {
	_, p := load(t)
	qm := service(t, p, "qualitymon")
	influx := service(t, p, "influxdb")

	cfgPath := flag(qm.Command, "--config")
	if cfgPath == "" {
		cfgPath = env(qm, "QUALITYMON_CONFIG")
	}
	if cfgPath == "" {
		t.Fatal("qualitymon: no --config in command and no QUALITYMON_CONFIG")
	}
	cfg, err := config.LoadFile(bind(t, qm, cfgPath), func(k string) string { return env(qm, k) })
	if err != nil {
		t.Fatalf("qualitymon config as the container sees it: %v", err)
	}
	up, err := upload.ParseConfig(&cfg.Uploads)
	if err != nil {
		t.Errorf("qualitymon config: %v", err)
	}
	// State lives on a named volume, so that it outlives the container.
	for _, dir := range []string{cfg.SpoolDir, up.ArchiveDir, up.AuditLog} {
		onVolume := false
		for _, v := range qm.Volumes {
			onVolume = onVolume || (v.Type == types.VolumeTypeVolume && filepath.IsAbs(dir) && strings.HasPrefix(dir+"/", strings.TrimSuffix(v.Target, "/")+"/"))
		}
		if !onVolume {
			t.Errorf("qualitymon writes %s, which is not on a named volume", dir)
		}
	}

	host, port := hostPort(t, cfg.Influx.URL)
	if _, ok := p.Services[host]; !ok || host != "influxdb" {
		t.Errorf("qualitymon's InfluxDB URL %s does not name the influxdb service", cfg.Influx.URL)
	}
	if want := containerPort(t, influx); port != want {
		t.Errorf("qualitymon's InfluxDB URL %s: port %d, influxdb listens on %d", cfg.Influx.URL, port, want)
	}
	for qk, ik := range map[string]string{
		"QUALITYMON_INFLUX_ORG": "DOCKER_INFLUXDB_INIT_ORG", "QUALITYMON_INFLUX_BUCKET": "DOCKER_INFLUXDB_INIT_BUCKET",
		"QUALITYMON_INFLUX_TOKEN": "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN",
	} {
		if env(qm, qk) == "" || env(qm, qk) != env(influx, ik) {
			t.Errorf("qualitymon %s = %q, influxdb %s = %q: must be set and equal", qk, env(qm, qk), ik, env(influx, ik))
		}
	}
	if cfg.Influx.Org != env(influx, "DOCKER_INFLUXDB_INIT_ORG") || cfg.Influx.Bucket != env(influx, "DOCKER_INFLUXDB_INIT_BUCKET") || string(cfg.Influx.Token) != env(influx, "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN") {
		t.Errorf("qualitymon's effective InfluxDB org/bucket/token differ from influxdb's initialisation")
	}

	lhost, lport, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	if lhost != "0.0.0.0" && lhost != "" && lhost != "::" {
		t.Errorf("qualitymon listens on %s: Prometheus on the compose network cannot reach a loopback address", cfg.Listen)
	}
	listenPort, _ := strconv.Atoi(lport)
	if got := containerPort(t, qm); got != listenPort {
		t.Errorf("qualitymon publishes container port %d but listens on %d", got, listenPort)
	}
	if test := strings.Join(qm.HealthCheck.Test, " "); !strings.Contains(test, ":"+lport+"/readyz") {
		t.Errorf("qualitymon health check %q does not ask /readyz on port %s", test, lport)
	}

	// Prometheus scrapes qualitymon at its listen port and loads the rules.
	prom := service(t, p, "prometheus")
	promCfgPath := bind(t, prom, flag(prom.Command, "--config.file"))
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
		Alerting struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
	}
	testenv.ReadYAML(t, promCfgPath, &pc)
	found := false
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName != "qualitymon" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			found = found || slices.Contains(st.Targets, "qualitymon:"+lport)
		}
	}
	if !found {
		t.Errorf("%s: no job \"qualitymon\" scraping qualitymon:%s", promCfgPath, lport)
	}
	rules := 0
	for _, rf := range pc.RuleFiles {
		dir, pattern := filepath.Split(rf)
		src := bind(t, prom, filepath.Clean(dir))
		matches, _ := filepath.Glob(filepath.Join(src, pattern))
		rules += len(matches)
	}
	if rules == 0 {
		t.Errorf("%s: rule_files %v match no mounted rule file", promCfgPath, pc.RuleFiles)
	}
	am := service(t, p, "alertmanager")
	amTarget := "alertmanager:" + strconv.Itoa(containerPort(t, am))
	found = false
	for _, a := range pc.Alerting.Alertmanagers {
		for _, st := range a.StaticConfigs {
			found = found || slices.Contains(st.Targets, amTarget)
		}
	}
	if !found {
		t.Errorf("%s: alerts are not sent to %s", promCfgPath, amTarget)
	}

	// Alertmanager's config is mounted and its webhooks name services.
	amCfg, err := os.ReadFile(bind(t, am, flag(am.Command, "--config.file")))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`url:\s*https?://([a-zA-Z0-9_.-]+)(?::\d+)?/`).FindAllStringSubmatch(string(amCfg), -1) {
		if _, ok := p.Services[m[1]]; !ok {
			t.Errorf("alertmanager.yml sends to %s, which is not a service", m[1])
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	_, p := load(t)
	g := service(t, p, "grafana")
	influx := service(t, p, "influxdb")
	dsDir := bind(t, g, "/etc/grafana/provisioning/datasources")
	provDir := bind(t, g, "/etc/grafana/provisioning/dashboards")
	grafanaDir := filepath.Dir(filepath.Dir(dsDir))
	if filepath.Dir(provDir) != filepath.Dir(dsDir) {
		t.Errorf("datasource and dashboard provisioning come from different directories: %s, %s", dsDir, provDir)
	}
	set, probs := dashcheck.Load(os.DirFS(grafanaDir))
	for _, pr := range append(probs, set.Check()...) {
		t.Errorf("%s: %s", grafanaDir, pr)
	}
	for _, pv := range set.Providers {
		src := bind(t, g, pv.Options.Path)
		if matches, _ := filepath.Glob(filepath.Join(src, "*.json")); len(matches) != len(set.Dashboards) {
			t.Errorf("provider %s: %s holds %d dashboards, the checked directory %d", pv.Name, src, len(matches), len(set.Dashboards))
		}
	}
	expand := func(s string) string { return os.Expand(s, func(k string) string { return env(g, k) }) }
	for _, ds := range set.Datasources {
		host, port := hostPort(t, ds.URL)
		svc, ok := p.Services[host]
		if !ok {
			t.Errorf("datasource %s: %s is not a service", ds.Name, ds.URL)
			continue
		}
		if want := containerPort(t, svc); port != want {
			t.Errorf("datasource %s: %s, but %s listens on %d", ds.Name, ds.URL, host, want)
		}
		if ds.Type == dashcheck.TypeInflux {
			for k, want := range map[string]string{"organization": "DOCKER_INFLUXDB_INIT_ORG", "defaultBucket": "DOCKER_INFLUXDB_INIT_BUCKET"} {
				got, _ := ds.JSONData[k].(string)
				if expand(got) == "" || expand(got) != env(influx, want) {
					t.Errorf("datasource %s: jsonData.%s %q expands to %q in grafana, influxdb has %q", ds.Name, k, got, expand(got), env(influx, want))
				}
			}
			// The token is the read-only one grafana-token writes, read
			// from the volume both mount; never the admin token.
			tok := ds.SecureJSONData["token"]
			m := fileRef.FindStringSubmatch(tok)
			if m == nil {
				t.Errorf("datasource %s: token %q, want $__file{…} (the read-only token grafana-token writes)", ds.Name, tok)
				continue
			}
			job := service(t, p, "grafana-token")
			if env(job, "GRAFANA_TOKEN_FILE") != m[1] {
				t.Errorf("datasource %s: token file %s, grafana-token writes %s", ds.Name, m[1], env(job, "GRAFANA_TOKEN_FILE"))
			}
			if vg, vj := volumeAt(g, filepath.Dir(m[1])), volumeAt(job, filepath.Dir(m[1])); vg == nil || vj == nil || vg.Source != vj.Source || !vg.ReadOnly {
				t.Errorf("datasource %s: %s must be the same named volume in grafana (read-only) and grafana-token", ds.Name, filepath.Dir(m[1]))
			}
			for k, v := range g.Environment {
				if v != nil && *v == env(influx, "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN") {
					t.Errorf("grafana's environment %s holds InfluxDB's admin token", k)
				}
			}
		}
	}
}

// fileRef is Grafana's provisioning reference to a file's content.
var fileRef = regexp.MustCompile(`^\$__file\{(.+)\}$`)

func volumeAt(s types.ServiceConfig, target string) *types.ServiceVolumeConfig {
	for i, v := range s.Volumes {
		if v.Target == target {
			return &s.Volumes[i]
		}
	}
	return nil
}
