package proctest

import "syscall"

// dieWithParent kills the child when the test binary dies (a panic or a
// -timeout), so no server outlives its test.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
