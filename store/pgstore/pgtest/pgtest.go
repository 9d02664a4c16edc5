// Package pgtest starts throwaway PostgreSQL servers for tests, on a free
// loopback port with the data in a temporary directory, stopped when the
// test ends. It runs the server binaries (initdb, postgres) of the newest
// /usr/lib/postgresql/<version>/bin, or those on PATH (Debian: apt-get
// install -y postgresql). Run as root, it runs them as the postgres user,
// since initdb refuses root.
//
//	func TestMyHandler(t *testing.T) {
//		pool, err := pgxpool.New(ctx, pgtest.URL(t))
//		...
//	}
//
// URL uses the database named by KOOGALLERY_TEST_DATABASE_URL when it is
// set, instead of starting a server.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable of an existing database to test
// against (postgres://user:password@host:port/db), used by URL instead of
// starting a server.
const EnvURL = "KOOGALLERY_TEST_DATABASE_URL"

const installHint = "install them with `apt-get install -y postgresql` (Debian, Ubuntu), or set " + EnvURL

const startTimeout = 60 * time.Second

// URL returns a connection string for a test database: the one named by
// KOOGALLERY_TEST_DATABASE_URL if set, else that of a server Start starts
// for tb.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return Start(tb).URL
}

// Server is a PostgreSQL server process.
type Server struct {
	// URL connects to the server's postgres database as the superuser
	// postgres, without a password.
	URL string
	// Dir holds the data directory (Dir/data) and the server log.
	Dir string

	cmd       *exec.Cmd
	done      chan struct{}
	once      sync.Once
	removeDir bool
	port      int
	settings  []string
}

// Start starts a server for tb and stops it when tb ends. Missing server
// binaries fail tb, naming the package to install.
func Start(tb testing.TB, settings ...string) *Server {
	tb.Helper()
	s, err := NewServer("", settings...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// NewServer initialises a cluster in dir (a new temporary directory if dir
// is empty, removed by Close) and starts a server on it with durability
// off (fsync, synchronous_commit and full_page_writes off: a crash loses
// the data, which a test does not keep) and the extra settings
// ("name=value"), which may turn it back on. The caller must Close it.
func NewServer(dir string, settings ...string) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, done: make(chan struct{}), settings: settings}
	if dir == "" {
		if s.Dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		s.removeDir = true
	}
	data := filepath.Join(s.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, s.fail(fmt.Errorf("pgtest: %w", err))
	}
	if cred != nil {
		for _, d := range []string{s.Dir, data} {
			if err := os.Chown(d, cred.uid, cred.gid); err != nil {
				return nil, s.fail(fmt.Errorf("pgtest: %w", err))
			}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = procAttr(cred, false)
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, s.fail(fmt.Errorf("pgtest: initdb: %w\n%s", err, out))
	}
	var last error
	for range 5 { // another process may take the free port first
		port, err := freePort()
		if err != nil {
			return nil, s.fail(err)
		}
		if last = s.launch(bin, data, port, cred, settings); last == nil {
			return s, nil
		}
	}
	return nil, s.fail(last)
}

func (s *Server) launch(bin, data string, port int, cred *account, settings []string) error {
	logf := filepath.Join(s.Dir, "postgres.log")
	args := []string{"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + s.Dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200",
	}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	log, err := os.OpenFile(logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procAttr(cred, true)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd, s.port = cmd, port
	s.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := s.waitReady(); err != nil {
		s.stop()
		return fmt.Errorf("%w; log %s:\n%s", err, logf, tail(logf))
	}
	return nil
}

func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("pgtest: postgres exited at start")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL)
		if err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pgtest: postgres did not accept connections within %v", startTimeout)
}

// Restart starts the server again on its data directory, port and
// settings, as after a crash: a test kills the server's processes
// (SIGKILL to the postmaster and its children) and calls Restart, which
// waits for the postmaster to exit (or stops it with a fast shutdown if it
// still runs), starts it, lets it recover, and waits until it accepts
// connections. Clients keep the same URL. It must not run concurrently
// with Close.
func (s *Server) Restart() error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	cred, err := serverUser()
	if err != nil {
		return err
	}
	s.stop()
	return s.launch(bin, filepath.Join(s.Dir, "data"), s.port, cred, s.settings)
}

// Close stops the server (a fast shutdown, then SIGKILL after 10 s) and
// removes its directory if NewServer made it.
func (s *Server) Close() {
	s.once.Do(func() {
		s.stop()
		if s.removeDir {
			os.RemoveAll(s.Dir)
		}
	})
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(fastShutdown)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// fail cleans up after a failed NewServer.
func (s *Server) fail(err error) error {
	s.Close()
	return err
}

// debianBinGlob matches the server binaries of Debian's packages.
var debianBinGlob = "/usr/lib/postgresql/*/bin"

// binDir finds the directory holding initdb and postgres.
func binDir() (string, error) {
	dirs, _ := filepath.Glob(debianBinGlob)
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or PATH: %s", installHint)
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: no free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}
