package proctest

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartTailStop(t *testing.T) {
	sh := Tool(t, "POSIX shell", "sh")
	p := Start(t, t.TempDir(), "echoer", []string{"PROCTEST_WORD=hello"}, sh, "-c", `echo one; echo "$PROCTEST_WORD"; exec sleep 60`)
	for i := 0; i < 100 && !strings.Contains(p.Tail(5), "hello"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
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

func TestMissingToolFailsWhenRequired(t *testing.T) {
	if os.Getenv("CI") != "true" {
		t.Setenv("CI", "true")
	}
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Tool(ft, "nowhere", "qualitymon-no-such-tool")
	}()
	if !ft.fataled || ft.skipped {
		t.Fatalf("fatal %v skip %v: a missing tool must fail under CI=true", ft.fataled, ft.skipped)
	}
}

type fakeTB struct {
	testing.TB
	fataled, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatal(args ...any)     { f.fataled = true; panic("fatal") }
func (f *fakeTB) Skip(args ...any)      { f.skipped = true; panic("skip") }
func (f *fakeTB) Fatalf(string, ...any) { f.fataled = true; panic("fatal") }
