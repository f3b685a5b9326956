// Package proctest runs real programs for tests: it finds a tool on $PATH
// (skipping the test, or failing it under CI=true), picks free loopback
// ports, starts a child process with its output in a log file and stops it
// when the test ends, and builds the qualitymon binary. The end-to-end tests
// of alerting and dashboards share it; internal/influxtest does the same for
// InfluxDB.
package proctest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/influxtest"
)

// Required reports whether a missing tool or server fails the test instead
// of skipping it: CI=true, QUALITYMON_REQUIRE_SERVERS=1 or (as before)
// QUALITYMON_REQUIRE_PROMETHEUS=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("QUALITYMON_REQUIRE_SERVERS") == "1" ||
		os.Getenv("QUALITYMON_REQUIRE_PROMETHEUS") == "1"
}

// Tool returns the path of the first of names found ($PATH or an absolute
// path). When none is found the test is skipped, or fails when Required;
// hint tells the reader how to install it.
func Tool(tb testing.TB, hint string, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if n == "" {
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (%s)", strings.Join(names, " / "), hint)
	if Required() {
		tb.Fatal(msg)
	}
	tb.Skip(msg + "; set CI=true to fail instead")
	return ""
}

// FreeAddr returns a loopback address with a port nobody listens on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Process is a program a test started.
type Process struct {
	Name string // label used in messages and the log file name
	Log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs name with args in dir, with env added to the environment and
// its output in dir/label.log, and stops it (SIGTERM, then SIGKILL after
// 10 s) when the test ends. On Linux it also dies with the test binary.
func Start(tb testing.TB, dir, label string, env []string, name string, args ...string) *Process {
	tb.Helper()
	logPath := filepath.Join(dir, label+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("starting %s: %v", label, err)
	}
	logf.Close()
	p := &Process{Name: label, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(p.Stop)
	return p
}

// Stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Tail returns the last n lines of the process's log, with a heading.
func (p *Process) Tail(n int) string {
	b, _ := os.ReadFile(p.Log)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return fmt.Sprintf("--- last %d lines of %s ---\n%s", n, p.Log, strings.Join(lines, "\n"))
}

// BuildQualitymon builds ./cmd/qualitymon of this repository into dir.
func BuildQualitymon(tb testing.TB, dir string) string {
	tb.Helper()
	root, err := influxtest.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(dir, "qualitymon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/qualitymon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/qualitymon: %v\n%s", err, out)
	}
	return bin
}
