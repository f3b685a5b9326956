package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tool returns the path of the first of names found ($PATH or an absolute
// path; empty names are passed over). When none is found it calls Missing;
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
	Missing(tb, fmt.Sprintf("%s not found (%s)", strings.Join(names, " / "), hint))
	return ""
}

// FreeAddr returns a loopback address ("127.0.0.1:PORT") with a port nobody
// listens on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Process is a program a test started.
type Process struct {
	Name string // label used in messages and the log file name
	Log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

// StartProcess runs name with args in dir, with env added to the
// environment and its output in dir/label.log, and stops it (SIGTERM, then
// SIGKILL after 10 s) when the test ends. On Linux it also dies with the test
// binary.
func StartProcess(tb testing.TB, dir, label string, env []string, name string, args ...string) *Process {
	tb.Helper()
	logPath := filepath.Join(dir, label+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p, err := start(label, logPath, logf, cmd)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// start starts cmd with its output in logf, which it closes (the child
// keeps its own descriptor), and watches for its exit.
func start(label, logPath string, logf *os.File, cmd *exec.Cmd) (*Process, error) {
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", label, err)
	}
	p := &Process{Name: label, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's id (its /proc/PID/status holds its peak RSS).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop ends the process: SIGTERM, then SIGKILL after 10 s. It waits for the
// exit and does nothing if the process has ended.
func (p *Process) Stop() { p.signal(syscall.SIGTERM, 10*time.Second) }

// Kill kills the process with SIGKILL, as a crash would, and waits for it to
// exit.
func (p *Process) Kill() { p.signal(syscall.SIGKILL, 0) }

func (p *Process) signal(sig syscall.Signal, grace time.Duration) {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		select {
		case <-p.done:
			return
		case <-time.After(grace):
			p.cmd.Process.Kill()
		}
	}
	<-p.done
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
	return fmt.Sprintf("--- last %d lines of %s ---\n%s", n, p.Log, tailFile(p.Log, n))
}

// tailFile returns the last n lines of a file ("" when it cannot be read).
func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	if runtime.GOOS == "windows" {
		return true // signal 0 is not supported; never take a live one for dead
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// BuildQualitymon builds ./cmd/qualitymon of this repository into dir and
// returns the binary's path.
func BuildQualitymon(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "qualitymon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/qualitymon")
	cmd.Dir = RepoRoot(tb)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/qualitymon: %v\n%s", err, out)
	}
	return bin
}
