package redistest

import (
	"fmt"
	"runtime"
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

// fatalTB records Fatalf instead of ending the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// A malformed KOOGALLERY_TEST_REDIS_URL is refused without quoting it, or
// the piece of the password go-redis's parser took for a port.
func TestOptionsNeverQuoteTheURL(t *testing.T) {
	const pw = "Qz7/Vk9#mWp4"
	t.Setenv(EnvURL, "redis://:"+pw+"@127.0.0.1:1/0")
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Options(f) }()
	<-done
	if !strings.Contains(f.msg, EnvURL) {
		t.Fatalf("Options did not refuse the URL: %q", f.msg)
	}
	for i := range len(pw) {
		for j := i + 4; j <= len(pw); j++ {
			if strings.Contains(f.msg, pw[i:j]) {
				t.Fatalf("the error quotes %q of the password: %s", pw[i:j], f.msg)
			}
		}
	}
}
