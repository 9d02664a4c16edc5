package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Without the binaries, starting a server fails and says what to install.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianBinGlob
	debianBinGlob = filepath.Join(t.TempDir(), "*", "bin")
	defer func() { debianBinGlob = old }()
	_, err := NewServer("")
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("NewServer without PostgreSQL binaries: %v, want an error naming the package to install", err)
	}
}

// A server starts on a loopback port, answers queries, and is gone, with
// its directory, after Close.
func TestServerLifecycle(t *testing.T) {
	s := Start(t)
	if !strings.Contains(s.URL, "@127.0.0.1:") {
		t.Fatalf("URL %q is not on the loopback interface", s.URL)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := c.QueryRow(ctx, "SELECT 1 + 1").Scan(&v); err != nil || v != 2 {
		t.Fatalf("SELECT 1 + 1 = %d, %v", v, err)
	}
	c.Close(ctx)
	s.Close()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Close: %v", s.Dir, err)
	}
	if c, err := pgx.Connect(ctx, s.URL); err == nil {
		c.Close(ctx)
		t.Fatal("the server still accepts connections after Close")
	}
	s.Close()
}
