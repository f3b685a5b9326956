package alerttest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// required reports whether missing tools fail the tests instead of skipping
// them.
func required() bool { return os.Getenv("CI") == "true" }

// tool returns the path of the first of names found on $PATH. When none is
// found the test is skipped, or fails under CI=true.
func tool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found on $PATH (Debian packages prometheus and prometheus-alertmanager)", strings.Join(names, " / "))
	if required() {
		t.Fatal(msg)
	}
	t.Skip(msg + "; set CI=true to fail instead")
	return ""
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

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// proc is a process started by a test, stopped when the test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start starts name with args, its output in a log file under dir, and stops
// it (SIGTERM, then SIGKILL after 10 s) when the test ends.
func start(t testing.TB, dir, label string, env []string, name string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, label+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", label, err)
	}
	logf.Close()
	p := &proc{name: label, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.log)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return fmt.Sprintf("--- last %d lines of %s ---\n%s", n, p.log, strings.Join(lines, "\n"))
}

// waitHTTP waits until GET url answers 200, failing the test with the
// process's log if it exits or the timeout passes.
func waitHTTP(t testing.TB, p *proc, url string, timeout time.Duration) {
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
		if p.exited() {
			t.Fatalf("%s exited before answering %s\n%s", p.name, url, p.tail(40))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s within %s (last error %v)\n%s", p.name, url, timeout, err, p.tail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
