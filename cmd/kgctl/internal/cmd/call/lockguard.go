package call

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// lockGuard counts consecutive signature failures per AK across runs, so
// that kgctl stops before the fifth, which locks the AK for five minutes.
type lockGuard struct {
	path string
	id   string // a hash of the AK: the AK itself is not written down
}

type lockState struct {
	Failures int       `json:"failures"`
	Last     time.Time `json:"last"`
}

const (
	lockAfter  = 5
	lockWindow = 5 * time.Minute
)

func newLockGuard(ak string, getenv func(string) string) *lockGuard {
	dir := getenv(cmdutil.EnvStateDir)
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "kgctl")
		}
	}
	sum := sha256.Sum256([]byte(ak))
	g := &lockGuard{id: hex.EncodeToString(sum[:8])}
	if dir != "" {
		g.path = filepath.Join(dir, "signature-failures.json")
	}
	return g
}

func (g *lockGuard) load() map[string]lockState {
	m := map[string]lockState{}
	if g.path == "" {
		return m
	}
	if b, err := os.ReadFile(g.path); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func (g *lockGuard) save(m map[string]lockState) {
	if g.path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(g.path), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(m)
	_ = os.WriteFile(g.path, b, 0o600)
}

func (g *lockGuard) current(now time.Time) lockState {
	s := g.load()[g.id]
	if now.Sub(s.Last) > lockWindow {
		return lockState{}
	}
	return s
}

func (g *lockGuard) before(now time.Time) error {
	s := g.current(now)
	if s.Failures < lockAfter-1 {
		return nil
	}
	until := s.Last.Add(lockWindow)
	if s.Failures >= lockAfter {
		return &cmdutil.ExitError{Code: cmdutil.ExitLockout, Err: fmt.Errorf("the AK is locked after %d signature failures in a row; wait until %s, fix the cause (kgctl call --dry-run), then send once",
			lockAfter, until.Local().Format("15:04:05"))}
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitLockout, Err: fmt.Errorf("stopped: %d signature failures in a row for this AK; one more locks it for five minutes.\n"+
		"Fix the cause first (see the diagnosis of the last failure, kgctl call --dry-run), wait until %s, or pass --force",
		s.Failures, until.Local().Format("15:04:05"))}
}

func (g *lockGuard) failed(now time.Time, msg string) {
	m := g.load()
	s := g.current(now)
	s.Failures++
	if strings.Contains(strings.ToLower(msg), "reach the limit") {
		s.Failures = lockAfter
	}
	s.Last = now
	m[g.id] = s
	g.save(m)
}

func (g *lockGuard) succeeded() {
	m := g.load()
	if _, ok := m[g.id]; ok {
		delete(m, g.id)
		g.save(m)
	}
}

func (g *lockGuard) status(now time.Time) string {
	s := g.current(now)
	if s.Failures >= lockAfter {
		return "\nThe AK is locked for five minutes.\n"
	}
	left := lockAfter - s.Failures
	return fmt.Sprintf("\nSignature failure %d in a row for this AK: %d more lock it for five minutes; kgctl stops before the last one.\n", s.Failures, left)
}
