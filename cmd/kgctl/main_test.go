package main

// The end-to-end tests (e2e_*_test.go) build kgctl and the example seller
// server and drive the binaries as a seller would; the commands' run
// functions are tested without cobra in their own packages under
// internal/cmd.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// The binaries under test, built once.
var (
	kgctlBin, sellerBin string
	buildFlags          []string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kgctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kgctlBin = filepath.Join(dir, "kgctl")
	sellerBin = filepath.Join(dir, "seller-server")
	for _, b := range []struct{ dir, out string }{{".", kgctlBin}, {"../../examples/seller-server", sellerBin}} {
		cmd := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", b.out, ".")...)
		cmd.Dir = b.dir
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", b.dir, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run is one finished kgctl run.
type runResult struct {
	stdout, stderr string
	code           int
}

func (r runResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// baseEnv is the environment of every run: the test's own, without any
// KooGallery or Huawei Cloud credential, and a private state directory.
func baseEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KOOGALLERY_") || strings.HasPrefix(kv, "HUAWEICLOUD_") || strings.HasPrefix(kv, "KGCTL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, cmdutil.EnvStateDir+"="+t.TempDir())
}

// kgctl runs the binary with env added to baseEnv and stdin, and checks
// that none of the secrets appears in its output.
func kgctl(t *testing.T, env []string, stdin string, secrets []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kgctlBin, args...)
	cmd.Env = append(baseEnv(t), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := runResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	for _, s := range secrets {
		require.NotContains(t, r.stdout+r.stderr, s, "a secret leaked into the output")
	}
	return r
}

// process is a long-running binary (kgctl fake, seller-server).
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	lines  chan string
	done   chan error
}

func start(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), lines: make(chan string, 1024), done: make(chan error, 1)}
	p.cmd.Env = append(baseEnv(t), env...)
	outPipe, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(outPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitLine returns the first stdout line matching re.
func (p *process) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before printing %v; stderr: %s", re, p.errText())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %v; stderr: %s", re, p.errText())
		}
	}
}

func (p *process) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *process) outText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// stop sends sig and returns the exit error.
func (p *process) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	for range p.lines {
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("process did not stop")
		return nil
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(s), v), s)
}

func TestEveryCommandHasHelpWithExampleAndExitCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"call", "order", "callback", "probe", "verify", "fake", "encrypt", "decrypt",
		"usage", "usage status", "usage dead", "usage requeue", "usage discard"} {
		r := kgctl(t, nil, "", nil, append(strings.Fields(c), "--help")...)
		require.Equal(t, 0, r.code, r)
		assert.Contains(t, r.stdout, "Examples:", c)
		assert.Contains(t, r.stdout, "kgctl "+c, c)
		assert.Contains(t, r.stdout, "Exit codes:", c)
	}
	r := kgctl(t, nil, "", nil, "--help")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "KOOGALLERY_ACCESS_KEY")
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"callback", "saas"},
		{"callback", "nosuch", "newInstance", "--url", "http://127.0.0.1:1/x", "--key", "k"},
		{"callback", "saas", "nosuch", "--url", "http://127.0.0.1:1/x", "--key", "k"},
		{"callback", "saas", "newInstance", "--key", "k"},
		{"callback", "saas", "newInstance", "--url", "http://127.0.0.1:1/x"}, // no key anywhere
		{"callback", "saas", "newInstance", "--url", "http://127.0.0.1:1/x", "--key", "k", "--stale", "--replay"},
		{"probe", "--url", "http://127.0.0.1:1/x", "--key", "k"},
		{"probe", "--family", "saas", "--url", "http://127.0.0.1:1/x", "--key", "k", "--skip", "nosuch"},
		{"order"},
		{"call", "https://example.com/x", "--nosuchflag"},
		{"encrypt", "--type", "3", "--key", "k", "x"},
		{"usage", "status"}, // no database
		{"usage", "status", "extra"},
		{"usage", "dead", "--limit", "0"},
		{"usage", "requeue"},
		{"usage", "discard", "sn-1"}, // stdin is not a terminal, and no --yes
	} {
		r := kgctl(t, nil, "", nil, args...)
		assert.Equal(t, 2, r.code, "%v\n%s", args, r)
		assert.NotEmpty(t, r.stderr, args)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }

// TestRunMapsErrorsToExitCodes runs kgctl in-process: run prints the error
// after "kgctl:", adds the usage hint to usage errors only, and returns the
// exit code.
func TestRunMapsErrorsToExitCodes(t *testing.T) {
	t.Setenv(cmdutil.EnvV1Key, "")
	var out, errb bytes.Buffer
	code := run([]string{"encrypt", "--type", "3", "--key", "k", "x"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, cmdutil.ExitUsage, code)
	assert.Equal(t, "kgctl: --type \"3\": want 1 (AES-256) or 2 (AES-128)\nRun 'kgctl --help' for usage.\n", errb.String())
	assert.Empty(t, out.String())

	out.Reset()
	errb.Reset()
	code = run([]string{"decrypt", "--key", "the-wrong-key-123", "short"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, cmdutil.ExitFailed, code)
	assert.Contains(t, errb.String(), "kgctl: not an encrypted field")
	assert.NotContains(t, errb.String(), "Run 'kgctl --help'")
	assert.NotContains(t, errb.String(), "the-wrong-key-123")

	out.Reset()
	errb.Reset()
	assert.Equal(t, cmdutil.ExitOK, run([]string{"--help"}, strings.NewReader(""), &out, &errb))
	assert.Contains(t, out.String(), "KOOGALLERY_ACCESS_KEY")
}
