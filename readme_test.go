package koogallery_test

import (
	"bufio"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's two programs, each marked with <!-- snippet: NAME --> before
// its ```go block. Each is a complete program; its lines after the imports
// are the lines of a runnable Example, in the same order, apart from those
// that only make sense in production (listed here).
var readmeSnippets = []struct {
	name      string
	example   string // the file of the Example that runs the same code
	exampleFn string
	prodOnly  []string // lines of the README program that the Example replaces
}{
	{
		name: "provider", example: "saas/example_provider_test.go", exampleFn: "Example_provider",
		prodOnly: []string{`log.Fatal(http.ListenAndServe(":8080", mux))`},
	},
	{
		name: "queryorder", example: "order/example_test.go", exampleFn: "ExampleClient_QueryOrder",
		prodOnly: []string{`kg, err := koogallery.NewClient() // HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or WithCredentials(ak, sk)`},
	},
}

// readmeSnippet returns the Go block after <!-- snippet: name --> and the
// README line it starts on.
func readmeSnippet(t *testing.T, readme []string, name string) (string, int) {
	t.Helper()
	marker := "<!-- snippet: " + name + " -->"
	for i, line := range readme {
		if strings.TrimSpace(line) != marker {
			continue
		}
		if i+1 >= len(readme) || readme[i+1] != "```go" {
			t.Fatalf("README.md:%d: %s is not followed by a ```go block", i+1, marker)
		}
		var b strings.Builder
		for j := i + 2; j < len(readme); j++ {
			if readme[j] == "```" {
				return b.String(), i + 2
			}
			b.WriteString(readme[j] + "\n")
		}
		t.Fatalf("README.md:%d: the block after %s does not end", i+1, marker)
	}
	t.Fatalf("README.md has no %s", marker)
	return "", 0
}

// codeLines are the trimmed, non-blank lines of src after its import block.
func codeLines(src string) []string {
	var out []string
	inImports, pastImports := false, false
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !pastImports && line == "import (":
			inImports = true
		case inImports:
			if line == ")" {
				inImports, pastImports = false, true
			}
		case pastImports && line != "":
			out = append(out, line)
		}
	}
	return out
}

// exampleLines are the code lines of the Example file up to the Output
// comment of fn.
func exampleLines(t *testing.T, file, fn string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := codeLines(string(src))
	seen := false
	for i, l := range lines {
		if strings.HasPrefix(l, "func "+fn+"() {") {
			seen = true
		}
		if seen && strings.HasPrefix(l, "// Output:") {
			return lines[:i]
		}
	}
	t.Fatalf("%s: no %s with an Output comment", file, fn)
	return nil
}

// TestReadmeSnippets: the README's programs come early, compile as they are,
// and are the code of their Examples, which run and check their output.
func TestReadmeSnippets(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(readme) > 300 {
		t.Errorf("README.md has %d lines; the front door stays within 300 (the rest belongs in docs/)", len(readme))
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the README's programs with")
	}
	for _, s := range readmeSnippets {
		t.Run(s.name, func(t *testing.T) {
			src, start := readmeSnippet(t, readme, s.name)
			if start >= 100 {
				t.Errorf("README.md: the %s program starts on line %d, not within the first 100", s.name, start+1)
			}
			if !strings.HasPrefix(src, "package main\n") || !strings.Contains(src, "\nfunc main() {\n") {
				t.Errorf("the README's %s snippet is not a complete program (package main, func main)", s.name)
			}

			if formatted, err := format.Source([]byte(src)); err != nil || string(formatted) != src {
				t.Errorf("the README's %s program is not gofmt'ed (%v); gofmt'ed it reads:\n%s", s.name, err, formatted)
			}

			// The same code as the Example: every line of the program after
			// its imports, but func main's first and last lines and the
			// production-only ones, appears in the Example, in this order.
			want := exampleLines(t, s.example, s.exampleFn)
			skip := map[string]bool{"func main() {": true}
			for _, l := range s.prodOnly {
				skip[l] = true
			}
			got := codeLines(src)
			if n := len(got); n > 0 && got[n-1] == "}" {
				got = got[:n-1] // main's closing brace; the Example's comes after its Output
			}
			k := 0
			for _, l := range got {
				if skip[l] {
					delete(skip, l)
					continue
				}
				for k < len(want) && want[k] != l {
					k++
				}
				if k == len(want) {
					t.Errorf("the README's %s line %q is not in %s's %s (in this order); change both together", s.name, l, s.example, s.exampleFn)
					return
				}
				k++
			}
			delete(skip, "func main() {")
			for l := range skip {
				t.Errorf("the README's %s program no longer has the production-only line %q: update readme_test.go", s.name, l)
			}

			// Compiles as it is, inside this module. A directory starting
			// with "_" is left out of ./... patterns run meanwhile.
			dir, err := os.MkdirTemp(".", "_readme-snippet-")
			if err != nil {
				t.Skipf("cannot build the README's %s program here (a read-only module cache?): %v", s.name, err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, "./"+filepath.ToSlash(dir))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("the README's %s program does not build: %v\n%s", s.name, err, out)
			}
			cmd = exec.Command(goBin, "vet", "./"+filepath.ToSlash(dir))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go vet on the README's %s program: %v\n%s", s.name, err, out)
			}
		})
	}
}
