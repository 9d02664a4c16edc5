package koogallery_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layers is docs/architecture.md's table of the root module: a package may
// import only packages in lower rows. A new package must be given a row
// here (and there).
var layers = map[string]int{
	"auth": 0, "store": 0, "internal/wire": 0, "internal/canonjson": 0, "internal/fieldcrypt": 0,
	"internal/rsaoaep": 0, "internal/testcert": 0, "internal/benchtest": 0, "internal/storeurl": 0,
	"": 1, "internal/v1sign": 1, "internal/idempotency": 1,
	"internal/callback": 2, "internal/callbacktest": 2,
	"callback": 3,
	"order":    4, "license": 4, "saas/kit": 4, "saas/usage": 4,
	"saas":           5,
	"koogallerytest": 6, "internal/vectors": 6,
	"koogallerytest/storetest": 7,
	"examples/quickstart":      8, "examples/signrequest": 8, "internal/vectors/gen": 8,
}

// TestLayers checks that no package of the root module imports one that
// stands above it or beside it, so that the harnesses stay out of the
// published packages and the contracts stay at the bottom.
func TestLayers(t *testing.T) {
	const mod = "github.com/isvkit/koogallery"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	require.NoError(t, err)
	rel := func(p string) (string, bool) {
		if p == mod {
			return "", true
		}
		r, ok := strings.CutPrefix(p, mod+"/")
		return r, ok
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, _ := rel(f[0])
		row, ok := layers[pkg]
		if !assert.True(t, ok, "package %q has no row in layers (docs/architecture.md)", f[0]) {
			continue
		}
		seen++
		for _, imp := range f[1:] {
			dep, ours := rel(imp)
			if !ours {
				continue
			}
			assert.Less(t, layers[dep], row, "%s (row %d) imports %s (row %d)", f[0], row, imp, layers[dep])
		}
	}
	assert.Equal(t, len(layers), seen, "a package in layers no longer exists")
}
