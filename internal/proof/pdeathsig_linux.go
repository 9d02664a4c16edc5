package proof

import (
	"os/exec"
	"syscall"
)

// setPdeathsig kills a replica if the driver dies first, so that no
// replica outlives a crashed run.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
