package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBinaryKind(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"\x7fELF\x02\x01\x01", true},
		{"\xcf\xfa\xed\xfe\x07", true},
		{"MZ\x90\x00....PE\x00\x00", true},
		{"!<arch>\n__.PKGDEF", true},
		{"\x00asm\x01", true},
		{"package main\n", false},
		{"MZ but no header", false},
		{"", false},
	} {
		if got := binaryKind([]byte(tc.head)) != ""; got != tc.want {
			t.Errorf("binaryKind(%q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestFeatureName(t *testing.T) {
	for f, want := range map[string]string{
		"pkg github.com/isvkit/koogallery/auth, func WithVerifierClock(func() time.Time) VerifierOption": "auth.WithVerifierClock",
		"pkg github.com/isvkit/koogallery, type Client struct":                                           "koogallery.Client",
		"pkg github.com/isvkit/koogallery, type Client struct, Timeout time.Duration":                    "koogallery.Client.Timeout",
		"pkg github.com/isvkit/koogallery/auth, method (*Signer) Sign(*net/http.Request) error":          "auth.Signer.Sign",
		"pkg github.com/isvkit/koogallery/saas, const MaxUsageRecords untyped int = 100":                 "saas.MaxUsageRecords",
		"pkg github.com/isvkit/koogallery/store, type Store interface { Add(...) }":                      "store.Store",
	} {
		if got := featureName(f); got != want {
			t.Errorf("featureName(%q) = %q, want %q", f, got, want)
		}
	}
}

func TestMentionsWholeNames(t *testing.T) {
	text := "### Removed\n- `auth.WithVerifierClock`: use auth.WithClock.\n"
	if !mentions(text, "auth.WithVerifierClock") || !mentions(text, "auth.WithClock") {
		t.Error("a named feature is not found")
	}
	if mentions(text, "auth.With") || mentions(text, "WithClock") {
		t.Error("a prefix or an unqualified name counts as naming a feature")
	}
}

func TestUnreleasedSection(t *testing.T) {
	c := "# Changelog\n\n## [Unreleased]\n\n- removed `a.B`\n\n## [0.1.0] - 2026-12-07\n\n- `a.C`\n"
	got := unreleasedSection(c)
	if !strings.Contains(got, "a.B") || strings.Contains(got, "a.C") {
		t.Errorf("unreleasedSection = %q", got)
	}
	if unreleasedSection("# Changelog\n") != "" {
		t.Error("a changelog without the section has one")
	}
}

func TestValidVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v0.1.0": true, "v1.2.3": true, "v0.1.0-dryrun.1": true,
		"0.1.0": false, "v2.0.0": false, "v0.1": false, "v0.0.0-20261207000000-abcdefabcdef": false,
	} {
		if err := validVersion(v); (err == nil) != ok {
			t.Errorf("validVersion(%q) = %v, want ok %v", v, err, ok)
		}
	}
}

// fixture makes a git repository with a library at its root and a module
// in lib/sub requiring it, and returns its root.
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":          "module example.com/fx\n\ngo 1.25.0\n",
		"LICENSE.md":      "licence\n",
		"README.md":       "Requires Go 1.25 or newer.\n",
		"CHANGELOG.md":    "# Changelog\n\n## [Unreleased]\n\n- first\n",
		"fx.go":           "package fx\n\n// Hello greets.\nfunc Hello(name string) string { return name }\n\n// Greeter greets.\ntype Greeter interface{ Greet() string }\n\n// Config configures.\ntype Config struct{ Name string }\n",
		"internal/x/x.go": "package x\n\nfunc Hidden() {}\n",
		"sub/go.mod":      "module example.com/fx/sub\n\ngo 1.25.0\n\nrequire example.com/fx v0.1.0\n",
		"sub/LICENSE.md":  "licence\n",
		"sub/sub.go":      "package sub\n\nimport \"example.com/fx\"\n\n// Hi greets.\nfunc Hi() string { return fx.Hello(\"x\") }\n",
		"go.work":         "go 1.25.0\n\nuse (\n\t.\n\t./sub\n)\n\nreplace example.com/fx v0.1.0 => ./\n",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@invalid", "commit", "-qm", "fixture"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return root
}

func TestLoadRepoOrdersAndClassifies(t *testing.T) {
	r, err := loadRepo(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Modules) != 2 || r.Modules[0].Dir != "." || r.Modules[1].Dir != "sub" {
		t.Fatalf("modules = %+v, want the root before sub", r.Modules)
	}
	if got := r.Modules[1].Tag("v0.2.0"); got != "sub/v0.2.0" {
		t.Errorf("tag = %q", got)
	}
	if v, err := r.requiredVersion(); err != nil || v != "v0.1.0" {
		t.Errorf("requiredVersion = %q, %v", v, err)
	}
}

func TestCheckTreeFindsWhatCannotBeReleased(t *testing.T) {
	root := fixture(t)
	r, err := loadRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	if problems := r.checkTree(t.Logf); len(problems) != 0 {
		t.Fatalf("a releasable fixture has problems: %v", problems)
	}
	// A build output, a replace, another go version and a file the zip
	// rules refuse, each committed.
	must := func(name, body string) {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("sub/sub-bin", "\x7fELF\x02\x01\x01\x00")
	must("sub/go.mod", "module example.com/fx/sub\n\ngo 1.24\n\nrequire example.com/fx v0.1.0\n\nreplace example.com/fx => ../\n")
	must("Fx.go", "package fx\n")
	must("fx.Go", "package fx\n")
	cmd := exec.Command("git", "add", "-A")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if r, err = loadRepo(root); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.checkTree(t.Logf), "\n")
	for _, want := range []string{"tracked compiled file: sub/sub-bin", "replace example.com/fx", "go 1.24", "case-insensitive"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

func TestCompareAPIFlagsUnnamedIncompatibleChanges(t *testing.T) {
	root := fixture(t)
	r, err := loadRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := r.compareAPI("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Baseline != "" {
			t.Fatalf("a baseline before any release: %+v", c)
		}
		feats, err := r.moduleAPI(c.Module)
		if err != nil {
			t.Fatal(err)
		}
		if c.Module.Dir == "." {
			want := []string{
				"pkg example.com/fx, func Hello(string) string",
				"pkg example.com/fx, type Config struct",
				"pkg example.com/fx, type Config struct, Name string",
				"pkg example.com/fx, type Greeter interface { Greet() string }",
			}
			if strings.Join(feats, "\n") != strings.Join(want, "\n") {
				t.Errorf("API =\n%s\nwant\n%s", strings.Join(feats, "\n"), strings.Join(want, "\n"))
			}
		}
		if err := r.writeBaseline(c.Module, "v0.1.0", feats); err != nil {
			t.Fatal(err)
		}
	}
	// Remove Hello, change Greeter, add a field and a function.
	src := "package fx\n\n// Greeter greets.\ntype Greeter interface{ Greet() string; Wave() }\n\n// Config configures.\ntype Config struct{ Name, Place string }\n\n// Bye parts.\nfunc Bye() {}\n"
	if err := os.WriteFile(filepath.Join(root, "fx.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sub", "sub.go"), []byte("package sub\n\n// Hi greets.\nfunc Hi() string { return \"x\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes, err = r.compareAPI("")
	if err != nil {
		t.Fatal(err)
	}
	root0 := changes[0]
	if root0.Module.Dir != "." || root0.Baseline != "v0.1.0" {
		t.Fatalf("first change is %+v", root0)
	}
	if len(root0.Removed) != 2 || len(root0.Unacknowledged) != 2 || len(root0.Added) != 3 {
		t.Fatalf("removed %v, unacknowledged %v, added %v", root0.Removed, root0.Unacknowledged, root0.Added)
	}
	if err := reportAPI(r, changes, false); err == nil {
		t.Fatal("incompatible changes the changelog does not name pass")
	}
	changes, err = r.compareAPI("### Removed\n- `fx.Hello`\n### Changed\n- `fx.Greeter` has Wave.\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := reportAPI(r, changes, false); err != nil {
		t.Fatalf("named incompatible changes still fail: %v", err)
	}
}
