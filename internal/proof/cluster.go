package proof

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// replica is one seller process.
type replica struct {
	slot int
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed once the process exited and its output was read
}

// halfMade is a replica's announcement of a half-made KILL instance.
type halfMade struct {
	slot     int
	line, id string
	at       time.Time
}

// cluster runs the replicas behind the proxy.
type cluster struct {
	exe      string
	base     replicaConfig
	dir      string
	proxy    *proxy
	halfMade chan halfMade

	mu    sync.Mutex
	procs []*replica
	// restarts counts the processes started after the first ones.
	restarts int
}

const startTimeout = 30 * time.Second

// start starts the replica of slot and waits until it listens.
func (c *cluster) start(slot int) (*replica, error) {
	cfg := c.base
	cfg.Slot = slot
	cfg.LogFile = filepath.Join(c.dir, fmt.Sprintf("replica-%d.log", slot))
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(c.exe)
	cmd.Env = append(os.Environ(), EnvReplica+"="+string(raw))
	cmd.Stderr, err = os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("replica-%d.stderr", slot)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica %d: %w", slot, err)
	}
	r := &replica{slot: slot, cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(r.done)
		defer cmd.Stderr.(*os.File).Close()
		defer func() { _ = cmd.Wait() }()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, lineListening):
				ready <- strings.TrimPrefix(line, lineListening)
			case strings.HasPrefix(line, lineHalfMade):
				f := strings.Fields(strings.TrimPrefix(line, lineHalfMade))
				if len(f) == 2 {
					select {
					case c.halfMade <- halfMade{slot: slot, line: f[0], id: f[1], at: time.Now()}:
					default: // nobody waits for it
					}
				}
			}
		}
	}()
	select {
	case r.addr = <-ready:
	case <-r.done:
		return nil, fmt.Errorf("replica %d exited at start; see %s", slot, filepath.Join(c.dir, fmt.Sprintf("replica-%d.stderr", slot)))
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-r.done
		return nil, fmt.Errorf("replica %d did not listen within %v", slot, startTimeout)
	}
	c.mu.Lock()
	for len(c.procs) <= slot {
		c.procs = append(c.procs, nil)
	}
	c.procs[slot] = r
	c.mu.Unlock()
	c.proxy.set(slot, r.addr)
	return r, nil
}

// kill kills slot's replica with SIGKILL, as a crash would, after taking
// it out of the proxy's rotation.
func (c *cluster) kill(slot int) (pid int) {
	c.proxy.set(slot, "")
	c.mu.Lock()
	r := c.procs[slot]
	c.mu.Unlock()
	pid = r.cmd.Process.Pid
	_ = r.cmd.Process.Kill()
	<-r.done
	return pid
}

// restart starts a new process for slot: empty memory, a new port.
func (c *cluster) restart(slot int) (*replica, error) {
	c.mu.Lock()
	c.restarts++
	c.mu.Unlock()
	return c.start(slot)
}

// stop stops every replica gracefully (SIGTERM), killing those that do
// not exit within 10 s.
func (c *cluster) stop() {
	c.mu.Lock()
	procs := append([]*replica(nil), c.procs...)
	c.mu.Unlock()
	for _, r := range procs {
		if r != nil {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, r := range procs {
		if r == nil {
			continue
		}
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	}
}

func (c *cluster) addr(slot int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[slot].addr
}

// headerPin asks the proxy for a replica (its slot), if it is up: the
// driver uses it to make retries and duplicates land on another replica
// than the first delivery.
const headerPin = "X-Proof-Pin"

// proxy is a round-robin reverse proxy, the load balancer in front of the
// replicas.
type proxy struct {
	mu       sync.RWMutex
	backends []*url.URL // nil: down
	next     atomic.Uint64

	transport *http.Transport
	rp        *httputil.ReverseProxy
	srv       *http.Server
	url       string
	served    chan struct{}
}

type targetKey struct{}

func newProxy(n int) (*proxy, error) {
	p := &proxy{backends: make([]*url.URL, n), served: make(chan struct{})}
	p.transport = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 2048,
		IdleConnTimeout:     30 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(targetKey{}).(*url.URL))
			pr.Out.Header.Del(headerPin)
		},
		Transport: p.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway) // a replica died or hung up: KooGallery retries
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// set points slot at addr ("" takes it out of the rotation).
func (p *proxy) set(slot int, addr string) {
	var u *url.URL
	if addr != "" {
		u = &url.URL{Scheme: "http", Host: addr}
	}
	p.mu.Lock()
	p.backends[slot] = u
	p.mu.Unlock()
}

// pick returns the pinned replica if it is up, else the next one up.
func (p *proxy) pick(pin string) *url.URL {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s, err := strconv.Atoi(pin); err == nil && s >= 0 && s < len(p.backends) && p.backends[s] != nil {
		return p.backends[s]
	}
	for range p.backends {
		if u := p.backends[p.next.Add(1)%uint64(len(p.backends))]; u != nil {
			return u
		}
	}
	return nil
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := p.pick(r.Header.Get(headerPin))
	if u == nil {
		http.Error(w, "proxy: no replica up", http.StatusServiceUnavailable)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, u)))
}

func (p *proxy) close() {
	_ = p.srv.Close()
	<-p.served
	p.transport.CloseIdleConnections()
}

// pauser makes a store server unreachable (SIGSTOP: its connections stay
// open and nothing answers, as with a network partition or a stalled
// host) and reachable again (SIGCONT).
type pauser struct {
	pids func() ([]int, error)
}

func (p pauser) signal(sig syscall.Signal) (int, error) {
	pids, err := p.pids()
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil {
			errs = append(errs, fmt.Errorf("signal %d: %w", pid, err))
		}
	}
	return len(pids), errors.Join(errs...)
}

// postgresPIDs returns the postmaster's PID (from postmaster.pid in data)
// followed by its children's (backends, checkpointer, ...), read from /proc.
func postgresPIDs(data string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pm}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) >= 2 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == pm {
				pids = append(pids, pid)
			}
		}
	}
	return pids, nil
}
