package cmdutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// IOStreams are a command's standard input, output and error.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY *bool // set by SetStdinTTY
}

// IsStdinTTY reports whether In is a terminal, where a command may ask a
// question: an *os.File on a terminal, unless SetStdinTTY said otherwise.
func (s *IOStreams) IsStdinTTY() bool {
	if s.stdinTTY != nil {
		return *s.stdinTTY
	}
	f, ok := s.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// SetStdinTTY makes IsStdinTTY report tty, for tests.
func (s *IOStreams) SetStdinTTY(tty bool) { s.stdinTTY = &tty }

// Confirm asks question on ErrOut, followed by " [y/N] ", and reads the
// answer, a line of In: only "y" or "yes" (any case) is a yes; end of input
// is a no.
func (s *IOStreams) Confirm(question string) (bool, error) {
	fmt.Fprint(s.ErrOut, question+" [y/N] ")
	line, err := bufio.NewReader(io.LimitReader(s.In, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, RunErr(fmt.Errorf("read the answer: %w", err))
	}
	if err != nil && line == "" {
		fmt.Fprintln(s.ErrOut)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// TestIOStreams returns streams over buffers, for tests: stdin reads in,
// stdout and stderr are safe for concurrent writes.
func TestIOStreams(in string) (ios *IOStreams, out, errOut *SyncBuffer) {
	out, errOut = &SyncBuffer{}, &SyncBuffer{}
	return &IOStreams{In: bytes.NewBufferString(in), Out: out, ErrOut: errOut}, out, errOut
}

// SyncBuffer is a bytes.Buffer safe for concurrent use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p under the buffer's lock.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Factory is what every command is built from: where it reads and writes,
// how it looks up the environment, and its clock.
type Factory struct {
	IOStreams *IOStreams
	Getenv    func(string) string
	Now       func() time.Time
}

// New returns the Factory of the running process.
func New() *Factory {
	return &Factory{IOStreams: System(), Getenv: os.Getenv, Now: time.Now}
}

// Env returns a Getenv over a fixed set of variables, for tests.
func Env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}
