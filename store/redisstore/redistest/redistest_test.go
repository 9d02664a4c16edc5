package redistest

import (
	"strings"
	"testing"
)

// Without the binaries, starting a server fails and says what to install.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for name, start := range map[string]func() error{
		"server":   func() error { _, err := NewServer(t.TempDir()); return err },
		"sentinel": func() error { _, err := NewSentinel(t.TempDir()); return err },
		"cluster":  func() error { _, err := NewCluster(t.TempDir()); return err },
	} {
		err := start()
		if err == nil || !strings.Contains(err.Error(), "apt-get install -y redis-server") {
			t.Errorf("%s without redis binaries: %v, want an error naming the package to install", name, err)
		}
	}
}

// A server starts on a loopback port, answers, and is gone after Close.
func TestServerLifecycle(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Fatalf("Addr %q is not on the loopback interface", s.Addr)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("PING: %v", err)
	}
	s.Close()
	if err := ping(s.Addr); err == nil {
		t.Fatal("the server still answers after Close")
	}
	s.Close() // twice is fine
}
