package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// moduleVersion names m at version.
func moduleVersion(m *repoModule, version string) module.Version {
	return module.Version{Path: m.Path, Version: version}
}

// binaryKind names the kind of compiled file whose first bytes are head,
// or returns "" for anything else.
func binaryKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "ELF executable or object"
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}),
		bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}),
		bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}):
		return "Mach-O executable"
	case bytes.HasPrefix(head, []byte("MZ")) && bytes.Contains(head, []byte("PE\x00\x00")):
		return "Windows executable"
	case bytes.HasPrefix(head, []byte("!<arch>\n")):
		return "archive (Go package or C library)"
	case bytes.HasPrefix(head, []byte("\x00asm")):
		return "WebAssembly module"
	}
	return ""
}

// trackedBinaries lists tracked files that are compiled programs or
// libraries: build outputs, which never belong in the repository.
func trackedBinaries(root string) ([]string, error) {
	out, err := git(root, "ls-files", "-z")
	if err != nil {
		return nil, err
	}
	var found []string
	for _, f := range strings.Split(out, "\x00") {
		if f == "" {
			continue
		}
		fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f)))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(fh, head)
		fh.Close()
		if kind := binaryKind(head[:n]); kind != "" {
			found = append(found, f+" ("+kind+")")
		}
	}
	return found, nil
}

var readmeGo = regexp.MustCompile(`Go (1\.[0-9]+(?:\.[0-9]+)?) or newer`)

// checkTree runs the checks a release needs of the work tree; it returns
// every problem found, not only the first.
func (r *repo) checkTree(logf func(string, ...any)) []string {
	var problems []string
	bins, err := trackedBinaries(r.Root)
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, b := range bins {
		problems = append(problems, "tracked compiled file: "+b)
	}
	root := r.rootModule()
	if root == nil {
		return append(problems, "no module at the repository's root")
	}
	license, err := os.ReadFile(filepath.Join(r.Root, "LICENSE.md"))
	if err != nil {
		problems = append(problems, "the root module has no LICENSE.md")
	}
	for _, m := range r.Modules {
		if m.Go != root.Go {
			problems = append(problems, fmt.Sprintf("%s/go.mod says go %s, the root module go %s: one minimum Go version for every module", m.Dir, m.Go, root.Go))
		}
		for _, rp := range m.Replaces {
			problems = append(problems, fmt.Sprintf("%s/go.mod has replace %s: development replaces live in go.work, since a dependency's replace is ignored and go install refuses a module with one", m.Dir, rp))
		}
		if !m.Published {
			continue
		}
		if m.Dir != "." {
			l, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(m.Dir), "LICENSE.md"))
			if err != nil || !bytes.Equal(l, license) {
				problems = append(problems, fmt.Sprintf("%s: LICENSE.md missing or not the root's (each published module carries the licence at its root)", m.Dir))
			}
		}
		data, err := r.zipFromTree(m, "v0.0.0-check")
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if len(data) > maxZipSize {
			problems = append(problems, fmt.Sprintf("%s: module zip is %d bytes, over the %d-byte limit", m.Dir, len(data), maxZipSize))
		}
		logf("zip %-24s %8d bytes", m.Dir, len(data))
	}
	if work, err := os.ReadFile(filepath.Join(r.Root, "go.work")); err == nil {
		wf, err := modfile.ParseWork("go.work", work, nil)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case wf.Go == nil || wf.Go.Version != root.Go:
			problems = append(problems, fmt.Sprintf("go.work's go line is not the root module's go %s", root.Go))
		}
	}
	if _, err := r.requiredVersion(); err != nil {
		problems = append(problems, err.Error())
	}
	readme, err := os.ReadFile(filepath.Join(r.Root, "README.md"))
	if err == nil {
		want := strings.TrimSuffix(root.Go, ".0")
		mm := readmeGo.FindAllStringSubmatch(string(readme), -1)
		if len(mm) == 0 {
			problems = append(problems, fmt.Sprintf("README.md does not say \"Go %s or newer\"", want))
		}
		for _, m := range mm {
			if strings.TrimSuffix(m[1], ".0") != want {
				problems = append(problems, fmt.Sprintf("README.md says Go %s, go.mod says go %s", m[1], root.Go))
			}
		}
	}
	return problems
}
