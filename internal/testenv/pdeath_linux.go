package testenv

import "syscall"

// dieWithParent makes the kernel kill the child when the test binary dies (a
// panic or a -timeout), so that no server outlives its test.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
