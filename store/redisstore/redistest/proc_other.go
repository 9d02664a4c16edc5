//go:build !linux

package redistest

import (
	"os"
	"os/exec"
)

var terminate = os.Interrupt

func setPdeathsig(*exec.Cmd) {}
