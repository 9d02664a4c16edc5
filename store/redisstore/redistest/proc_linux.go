package redistest

import (
	"os/exec"
	"syscall"
)

var terminate = syscall.SIGTERM

// setPdeathsig kills the server if the test process dies first, so that a
// crashed or killed test run leaves no server behind.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
