package proof

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// redisProc is the redis-server holding the handlers' state, which the
// store faults kill and restart on the same port and directory
// (store/redisstore/redistest picks a new port for every server).
type redisProc struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
	done     chan struct{}
}

// startRedis starts redis-server on a free loopback port with its data in
// dir and the extra configuration args.
func startRedis(dir string, args ...string) (*redisProc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("proof: redis-server not found in PATH: apt-get install -y redis-server")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var last error
	for range 5 { // another process may take the free port first
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		p := &redisProc{bin: bin, dir: dir, port: port}
		if last = p.start(args...); last == nil {
			return p, nil
		}
	}
	return nil, last
}

func (p *redisProc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *redisProc) pid() int { return p.cmd.Process.Pid }

// start runs the server with args on p's port and directory and waits
// until it answers PING (after loading its AOF, if any).
func (p *redisProc) start(args ...string) error {
	logf := filepath.Join(p.dir, "redis.log")
	argv := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir, "--logfile", logf,
		"--save", "", "--daemonize", "no"}, args...)
	cmd := exec.Command(p.bin, argv...)
	cmd.Dir = p.dir
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("proof: start redis-server: %w", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("proof: redis-server on port %d exited at start; see %s", p.port, logf)
		default:
		}
		if redisPing(p.addr()) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()
	return fmt.Errorf("proof: redis-server on port %d did not answer within %v", p.port, startTimeout)
}

// kill kills the server with SIGKILL, as a crash would, and waits for it.
func (p *redisProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// close stops the server (SIGTERM, then SIGKILL after 5 s).
func (p *redisProc) close() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}
