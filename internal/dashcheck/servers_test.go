//go:build linux

package dashcheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/influxtest"
)

// requireServers reports whether a missing server fails the test instead of
// skipping it (CI=true, as influxtest does for InfluxDB).
func requireServers() bool {
	return os.Getenv("CI") == "true" || os.Getenv("QUALITYMON_REQUIRE_PROMETHEUS") == "1"
}

// prometheusBinary finds Debian's prometheus: $QUALITYMON_PROMETHEUS, then
// $PATH, then /usr/bin/prometheus.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("QUALITYMON_PROMETHEUS"), "prometheus", "/usr/bin/prometheus"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	msg := "prometheus not found (apt-get install prometheus, or set QUALITYMON_PROMETHEUS)"
	if requireServers() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a child the test started; it is stopped (TERM, then KILL after
// 10 s) when the test ends.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitFor polls cond every 200 ms until it holds, the process exits or the
// bound passes; then it fails the test with what was last seen.
func waitFor(t *testing.T, p *process, bound time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(bound)
	last := ""
	for {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		if p != nil && p.exited() {
			t.Fatalf("waiting for %s: the process exited; last seen: %s\nlog:\n%s", what, last, p.tail())
		}
		if time.Now().After(deadline) {
			log := ""
			if p != nil {
				log = p.tail()
			}
			t.Fatalf("waiting for %s: not within %s; last seen: %s\nlog:\n%s", what, bound, last, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func httpGet(u string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// buildQualitymon builds cmd/qualitymon into a temporary directory.
func buildQualitymon(t *testing.T) string {
	t.Helper()
	root, err := influxtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "qualitymon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/qualitymon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/qualitymon: %v\n%s", err, out)
	}
	return bin
}

// prometheus is a running Prometheus with its data in a temporary directory.
type prometheus struct {
	*process
	URL string
}

// startPrometheus scrapes target (host:port) as job "qualitymon" every
// second and evaluates ruleFiles every second.
func startPrometheus(t *testing.T, bin, target string, ruleFiles []string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"global": map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"scrape_configs": []any{map[string]any{
			"job_name": "qualitymon", "static_configs": []any{map[string]any{"targets": []string{target}}},
		}},
		"rule_files": ruleFiles,
	}
	b, _ := json.Marshal(cfg) // JSON is YAML
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startProcess(t, bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	srv := &prometheus{process: p, URL: "http://" + addr}
	waitFor(t, p, 60*time.Second, "prometheus /-/ready", func() (bool, string) {
		code, body := httpGet(srv.URL + "/-/ready")
		return code == 200, fmt.Sprint(code, " ", body)
	})
	return srv
}

// value runs an instant query and returns the first sample's value (-1
// when there is none).
func (p *prometheus) value(q string) (float64, string) {
	code, body := httpGet(p.URL + "/api/v1/query?query=" + url.QueryEscape(q))
	if code != 200 {
		return -1, body
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Data.Result) == 0 {
		return -1, strings.TrimSpace(body)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, _ := strconv.ParseFloat(s, 64)
	return v, s
}
