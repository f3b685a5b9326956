package testenv

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartTailStop(t *testing.T) {
	sh := Tool(t, "POSIX shell", "sh")
	p := StartProcess(t, t.TempDir(), "echoer", []string{"PROCTEST_WORD=hello"}, sh, "-c", `echo one; echo "$PROCTEST_WORD"; exec sleep 60`)
	WaitFor(t, p, 2*time.Second, "hello in the log", func() (bool, string) {
		tail := p.Tail(5)
		return strings.Contains(tail, "hello"), tail
	})
	if tail := p.Tail(1); !strings.HasSuffix(tail, "\nhello") {
		t.Fatalf("Tail(1) = %q", tail)
	}
	if p.Exited() {
		t.Fatal("exited early")
	}
	p.Stop()
	if !p.Exited() {
		t.Fatal("still running after Stop")
	}
}

func TestFreeAddrIsFree(t *testing.T) {
	addr := FreeAddr(t)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s not free: %v", addr, err)
	}
	l.Close()
}

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"CI": "true"}, true},
		{map[string]string{"CI": "false"}, false},
		{map[string]string{RequireVar: "1"}, true},
		{map[string]string{"QUALITYMON_REQUIRE_INFLUX": "1"}, true},
		{map[string]string{"QUALITYMON_REQUIRE_PROMETHEUS": "1"}, true},
	} {
		for _, v := range []string{"CI", RequireVar, "QUALITYMON_REQUIRE_INFLUX", "QUALITYMON_REQUIRE_PROMETHEUS"} {
			t.Setenv(v, tc.env[v])
		}
		if got := Required(); got != tc.want {
			t.Errorf("Required() with %v = %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestMissingToolFailsWhenRequired(t *testing.T) {
	t.Setenv("CI", "true")
	ft := outcome(t, func(tb testing.TB) { Tool(tb, "nowhere", "qualitymon-no-such-tool") })
	if !ft.fataled || ft.skipped {
		t.Fatalf("fatal %v skip %v: a missing tool must fail under CI=true", ft.fataled, ft.skipped)
	}
}

func TestMissingToolSkipsOtherwise(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(RequireVar, "")
	t.Setenv("QUALITYMON_REQUIRE_INFLUX", "")
	t.Setenv("QUALITYMON_REQUIRE_PROMETHEUS", "")
	ft := outcome(t, func(tb testing.TB) { Tool(tb, "nowhere", "qualitymon-no-such-tool") })
	if ft.fataled || !ft.skipped {
		t.Fatalf("fatal %v skip %v: a missing tool must skip without CI", ft.fataled, ft.skipped)
	}
}

// Missing ../shared data fails under CI=true.
func TestMissingSharedDataFailsWhenRequired(t *testing.T) {
	t.Setenv("CI", "true")
	ft := outcome(t, func(tb testing.TB) { SharedData(tb, "no-such-data-set") })
	if !ft.fataled || ft.skipped || !strings.Contains(ft.msg, "shared") {
		t.Fatalf("fatal %v skip %v (%s): missing shared data must fail under CI=true", ft.fataled, ft.skipped, ft.msg)
	}
}

// Tests never build influxd: without one they are told how to install it.
func TestNoInfluxdSaysHowToInstall(t *testing.T) {
	t.Chdir(t.TempDir()) // no go.mod above: no .tools/bin
	t.Setenv("PATH", "")
	t.Setenv("QUALITYMON_INFLUXD", "")
	_, err := InfluxBinary()
	if err == nil || !strings.Contains(err.Error(), "scripts/influxdb.sh install") || !strings.Contains(err.Error(), "scripts/test.sh") {
		t.Fatalf("InfluxBinary() error = %v, want one naming scripts/influxdb.sh install and scripts/test.sh", err)
	}
	t.Setenv("CI", "true")
	ft := outcome(t, func(tb testing.TB) { StartInflux(tb) })
	if !ft.fataled || ft.skipped || !strings.Contains(ft.msg, "scripts/influxdb.sh install") {
		t.Fatalf("fatal %v skip %v (%s): a missing influxd must fail under CI=true", ft.fataled, ft.skipped, ft.msg)
	}
}

func TestRepoRootAndTargets(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	cat, regs := Targets(t)
	if _, ok := cat.Get("food_sampling_pass_rate"); !ok {
		t.Error("catalogue lacks food_sampling_pass_rate")
	}
	if _, ok := regs.Get("370200"); !ok {
		t.Error("regions lack 370200")
	}
	if set := Plans(t); len(set.Targets("")) == 0 {
		t.Error("no targets in the shipped plans")
	}
}

// outcome runs f with a testing.TB that records Fatal and Skip instead of
// ending the test.
func outcome(t *testing.T, f func(testing.TB)) *fakeTB {
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		f(ft)
	}()
	return ft
}

type fakeTB struct {
	testing.TB
	fataled, skipped bool
	msg              string
}

func (f *fakeTB) Helper()                  {}
func (f *fakeTB) TempDir() string          { return f.TB.TempDir() }
func (f *fakeTB) Cleanup(func())           {}
func (f *fakeTB) Fatal(args ...any)        { f.fataled, f.msg = true, sprint(args); panic("fatal") }
func (f *fakeTB) Fatalf(string, ...any)    { f.fataled = true; panic("fatal") }
func (f *fakeTB) Skip(args ...any)         { f.skipped, f.msg = true, sprint(args); panic("skip") }
func (f *fakeTB) Skipf(s string, _ ...any) { f.skipped, f.msg = true, s; panic("skip") }

func sprint(args []any) string {
	var b strings.Builder
	for _, a := range args {
		if s, ok := a.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}
