// Package redistest starts throwaway Redis servers for tests: a single
// node, a Sentinel setup (master, replica, sentinel) or a three-master
// Cluster, each on free loopback ports with its data in a temporary
// directory, stopped when the test ends. It runs the redis-server and
// redis-cli binaries (Debian: apt-get install -y redis-server).
//
//	func TestMyHandler(t *testing.T) {
//		rdb := redis.NewClient(redistest.Options(t))
//		s, err := redisstore.New(rdb)
//		require.NoError(t, err)
//		h := saas.NewHandler(key, p, callback.WithStore(s, saas.DefaultKeep))
//		...
//	}
//
// Options uses the server named by KOOGALLERY_TEST_REDIS_URL when it is set,
// instead of starting one.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable of an existing Redis to test
// against (redis://host:port/db), used by Options instead of starting one.
const EnvURL = "KOOGALLERY_TEST_REDIS_URL"

// installHint ends every error about a missing binary.
const installHint = "install it with `apt-get install -y redis-server` (Debian, Ubuntu) or your system's redis package"

// startTimeout bounds how long a server may take to answer.
const startTimeout = 20 * time.Second

// Options returns client options for a single Redis node: the one named by
// KOOGALLERY_TEST_REDIS_URL if set, else a server Start starts for t. The
// options enable ContextTimeoutEnabled and short timeouts.
func Options(tb testing.TB) *redis.Options {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		o, err := redis.ParseURL(u)
		if err != nil {
			// Not err: go-redis's error quotes the URL, password and all.
			tb.Fatalf("redistest: %s is not a valid redis:// URL (percent-encode the password)", EnvURL)
		}
		tune(o)
		return o
	}
	return Start(tb).Options()
}

func tune(o *redis.Options) {
	o.ContextTimeoutEnabled = true
	o.DialTimeout = 2 * time.Second
	o.ReadTimeout = 2 * time.Second
	o.WriteTimeout = 2 * time.Second
}

// Server is a redis-server process.
type Server struct {
	// Addr is the server's host:port on the loopback interface.
	Addr string
	// Dir holds the server's data and its log.
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start starts a single Redis node for tb and stops it when tb ends. A
// missing redis-server binary fails tb, naming the package to install.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s, err := NewServer(tb.TempDir(), args...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewServer starts redis-server on a free loopback port with its data in
// dir, with the extra configuration args ("--name", "value", ...). The
// caller must Close it.
func NewServer(dir string, args ...string) (*Server, error) {
	return startServer(dir, false, args...)
}

func startServer(dir string, cluster bool, args ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found in PATH: %s", installHint)
	}
	var last error
	for range 5 { // another process may take the free port first
		port, err := freePort(cluster)
		if err != nil {
			return nil, err
		}
		s, err := launch(bin, dir, port, args)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func launch(bin, dir string, port int, args []string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	logf := filepath.Join(dir, "redis.log")
	base := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--logfile", logf,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
	}
	return run(bin, dir, port, append(base, args...), logf)
}

func run(bin, dir string, port int, argv []string, logf string) (*Server, error) {
	cmd := exec.Command(bin, argv...)
	cmd.Dir = dir
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: start %s: %w", bin, err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w; log %s:\n%s", err, logf, tail(logf))
	}
	return s, nil
}

// waitReady waits until the server answers PING.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("redistest: redis-server on %s exited at start", s.Addr)
		default:
		}
		if ping(s.Addr) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redistest: redis-server on %s did not answer within %v", s.Addr, startTimeout)
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
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

// Options returns client options for s, with ContextTimeoutEnabled and
// short timeouts.
func (s *Server) Options() *redis.Options {
	o := &redis.Options{Addr: s.Addr}
	tune(o)
	return o
}

// Close stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(terminate)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Kill stops the server at once, as a crash would.
func (s *Server) Kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// freePort returns a loopback port nothing listens on; for a cluster node,
// port+10000 (its cluster bus) is free too.
func freePort(cluster bool) (int, error) {
	for range 100 {
		port := 0 // any
		if cluster {
			port = 20000 + rand.IntN(30000)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		port = l.Addr().(*net.TCPAddr).Port
		if cluster {
			bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
			if err != nil {
				l.Close()
				continue
			}
			bus.Close()
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("redistest: no free loopback port")
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Sentinel is a Redis master, one replica and one sentinel monitoring them
// under MasterName.
type Sentinel struct {
	MasterName    string
	Master        *Server
	Replica       *Server
	SentinelAddrs []string

	sentinel *Server
}

// StartSentinel starts a Sentinel setup for tb and stops it when tb ends.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	s, err := NewSentinel(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// NewSentinel starts a master, a replica and a sentinel with their data
// under dir. The caller must Close it.
func NewSentinel(dir string) (*Sentinel, error) {
	s := &Sentinel{MasterName: "koogallery"}
	// Either may be master after a failover: both sync a new replica at
	// once instead of after Redis's default 5 s delay.
	fast := []string{"--repl-diskless-sync-delay", "0"}
	var err error
	if s.Master, err = NewServer(filepath.Join(dir, "master"), fast...); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(s.Master.Addr)
	if s.Replica, err = NewServer(filepath.Join(dir, "replica"), append(fast, "--replicaof", host, port)...); err != nil {
		s.Close()
		return nil, err
	}
	if s.sentinel, err = startSentinel(filepath.Join(dir, "sentinel"), s.MasterName, host, port); err != nil {
		s.Close()
		return nil, err
	}
	s.SentinelAddrs = []string{s.sentinel.Addr}
	if err := s.waitMonitoring(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func startSentinel(dir, name, host, port string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found in PATH: %s", installHint)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	var last error
	for range 5 {
		p, err := freePort(false)
		if err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "sentinel.conf")
		logf := filepath.Join(dir, "sentinel.log")
		cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s %s %s 1\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n",
			p, dir, logf, name, host, port, name, name)
		if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		s, err := run(bin, dir, p, []string{conf, "--sentinel"}, logf)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

// waitMonitoring waits until the sentinel names the master and knows the
// replica, and the replica has synchronised with the master.
func (s *Sentinel) waitMonitoring() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.Addr})
	defer sc.Close()
	rc := redis.NewClient(&redis.Options{Addr: s.Replica.Addr})
	defer rc.Close()
	for {
		addr, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		info, _ := rc.Info(ctx, "replication").Result()
		replicas, _ := sc.Replicas(ctx, s.MasterName).Result()
		// The sentinel must itself have seen the replica up, or it refuses
		// a failover (NOGOODSLAVE).
		seen := len(replicas) == 1 && replicas[0]["flags"] == "slave" && replicas[0]["master-link-status"] == "ok"
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == s.Master.Addr &&
			strings.Contains(info, "master_link_status:up") && seen && s.replicaAcks(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: sentinel not monitoring %s with its replica in sync (last: %v %v)", s.Master.Addr, addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// replicaAcks reports whether the master counts the replica as
// acknowledging its writes: the replica reports its link up a moment before
// the master moves it online, and a WAIT in that moment (what
// redisstore.WithWait sends) counts no replica.
func (s *Sentinel) replicaAcks(ctx context.Context) bool {
	mc := redis.NewClient(&redis.Options{Addr: s.Master.Addr})
	defer mc.Close()
	if err := mc.Set(ctx, "redistest:sync", "1", 0).Err(); err != nil {
		return false
	}
	n, err := mc.Do(ctx, "WAIT", 1, 1000).Int()
	return err == nil && n >= 1
}

// FailoverOptions returns client options reaching the master through the
// sentinel, with ContextTimeoutEnabled and short timeouts.
func (s *Sentinel) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:            s.MasterName,
		SentinelAddrs:         s.SentinelAddrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
	}
}

// Close stops the sentinel, the replica and the master.
func (s *Sentinel) Close() {
	for _, srv := range []*Server{s.sentinel, s.Replica, s.Master} {
		if srv != nil {
			srv.Close()
		}
	}
}

// Cluster is a Redis Cluster of three masters without replicas, every hash
// slot assigned.
type Cluster struct {
	Addrs []string
	Nodes []*Server
}

// StartCluster starts a three-master Cluster for tb and stops it when tb
// ends. It needs redis-cli as well as redis-server.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := NewCluster(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// NewCluster starts three cluster-enabled nodes with their data under dir
// and joins them with redis-cli --cluster create. The caller must Close it.
func NewCluster(dir string) (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-cli not found in PATH: %s", installHint)
	}
	c := &Cluster{}
	for i := range 3 {
		d := filepath.Join(dir, fmt.Sprintf("node%d", i))
		n, err := startServer(d, true,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(d, "nodes.conf"),
			"--cluster-node-timeout", "5000")
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
		c.Addrs = append(c.Addrs, n.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := c.waitOK(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitOK waits until every node reports cluster_state:ok and knows all
// three masters.
func (c *Cluster) waitOK(ctx context.Context) error {
	for _, addr := range c.Addrs {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := rc.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			select {
			case <-ctx.Done():
				rc.Close()
				return fmt.Errorf("redistest: cluster node %s not ready: %v %q", addr, err, info)
			case <-time.After(50 * time.Millisecond):
			}
		}
		rc.Close()
	}
	return nil
}

// ClusterOptions returns client options for the cluster, with
// ContextTimeoutEnabled and short timeouts.
func (c *Cluster) ClusterOptions() *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                 c.Addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
	}
}

// Close stops every node.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
}
