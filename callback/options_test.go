package callback_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsThatDoNotApplyDoNotCompile builds a program that gives each
// constructor an option that does not apply to it, and checks that the
// compiler refuses every such line and nothing else: misuse is a compile
// error, not a panic at start-up.
func TestOptionsThatDoNotApplyDoNotCompile(t *testing.T) {
	misuse := []string{
		`saas.NewHandler("k", nil, saas.WithEncryptType(saas.AES128))`,
		`saas.NewHandler("k", nil, callback.WithV1Window(time.Hour))`,
		`saas.NewV1Handler("k", nil, callback.WithReplayCache(nil))`,
		`license.NewHandler("k", nil, callback.WithClaimLease(time.Second))`,
		`license.NewHandler("k", nil, kit.WithPrivateKey(nil))`,
		`order.NewNotificationHandler("k", nil, callback.WithStore(nil, 0))`,
		`callback.NewV1Verifier("k", callback.WithReplayCacheSize(10))`,
		`callback.NewV2Verifier("k", callback.WithLogger(nil))`,
	}
	fine := []string{
		`saas.NewHandler("k", p, callback.WithLogger(nil), callback.WithStore(nil, 0), callback.WithReplayCache(nil), callback.WithClock(nil))`,
		`saas.NewV1Handler("k", v1, saas.WithEncryptType(saas.AES128), callback.WithV1Window(time.Hour), callback.WithClaimLease(time.Minute))`,
		`kit.NewHandler("k", kp, kit.WithPrivateKey(nil), callback.WithV1Window(0), callback.WithReplayCacheSize(1))`,
		`callback.NewV2Verifier("k", callback.WithReplayCache(nil), callback.WithMaxBodyBytes(1))`,
	}
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"time\"\n\n\t\"github.com/isvkit/koogallery/callback\"\n\t\"github.com/isvkit/koogallery/license\"\n" +
		"\t\"github.com/isvkit/koogallery/order\"\n\t\"github.com/isvkit/koogallery/saas\"\n\t\"github.com/isvkit/koogallery/saas/kit\"\n)\n\n" +
		"var (\n\tp  saas.Provider\n\tv1 saas.V1Provider\n\tkp kit.Provider\n)\n\nfunc main() {\n")
	lineOf := map[int]string{}
	line := strings.Count(b.String(), "\n") + 1
	for _, c := range append(misuse, fine...) {
		fmt.Fprintf(&b, "\t_ = %s\n", c)
		lineOf[line] = c
		line++
	}
	b.WriteString("}\n")

	dir, err := os.MkdirTemp("..", "_options-misuse-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.String()), 0o644))
	cmd := exec.Command("go", "build", "-gcflags=-e", "-o", os.DevNull, "./"+filepath.Base(dir))
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a program giving constructors options that do not apply compiled")
	refused := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		for n, c := range lineOf {
			if strings.Contains(l, fmt.Sprintf("main.go:%d:", n)) {
				assert.Contains(t, l, "does not implement", c)
				refused[c] = true
			}
		}
	}
	for _, c := range misuse {
		assert.True(t, refused[c], "compiles: %s", c)
	}
	for _, c := range fine {
		assert.False(t, refused[c], "refused: %s\n%s", c, out)
	}
}
