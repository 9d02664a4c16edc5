package pgtest

import (
	"os"
	"syscall"
)

var fastShutdown = os.Interrupt

type account struct{ uid, gid int }

func serverUser() (*account, error) { return nil, nil }

func procAttr(*account, bool) *syscall.SysProcAttr { return nil }
