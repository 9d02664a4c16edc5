//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

var fastShutdown os.Signal = syscall.SIGINT

// account is the unprivileged user the server runs as.
type account struct{ uid, gid int }

// serverUser is the postgres user when running as root (initdb and
// postgres refuse root), nil otherwise.
func serverUser() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the unprivileged user postgres to run the server (the postgresql packages create it): %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: user postgres has uid %q gid %q", u.Uid, u.Gid)
	}
	return &account{uid, gid}, nil
}

// procAttr runs a process as a (if not nil) and, for the server, kills it
// if the test process dies first (Linux), so that no server outlives a
// crashed test run.
func procAttr(a *account, server bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if a != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), NoSetGroups: true}
	}
	if server {
		setPdeathsig(attr)
	}
	return attr
}
