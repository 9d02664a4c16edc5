package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// repoModule is one Go module of the repository.
type repoModule struct {
	Dir       string   // slash-separated, relative to the repository root; "." for the root module
	Path      string   // module path
	Go        string   // the go line
	Published bool     // released and tagged: every module outside internal/
	Requires  []string // in-repository module paths it requires
	Replaces  []string // replace directives, as "old => new"
}

// TagPrefix is what precedes the version in the module's tags: "" for the
// root module, "store/redisstore/" for the module in that folder.
func (m *repoModule) TagPrefix() string {
	if m.Dir == "." {
		return ""
	}
	return m.Dir + "/"
}

// Tag is the tag that releases the module at version.
func (m *repoModule) Tag(version string) string { return m.TagPrefix() + version }

// repo is the repository being released, its modules in dependency order
// (a module after every module it requires).
type repo struct {
	Root    string
	Modules []*repoModule
}

// git runs git in dir and returns its trimmed standard output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// findRoot returns the top of the git work tree holding dir.
func findRoot(dir string) (string, error) {
	return git(dir, "rev-parse", "--show-toplevel")
}

// loadRepo reads every tracked go.mod under root.
func loadRepo(root string) (*repo, error) {
	out, err := git(root, "ls-files", "--", "go.mod", "*/go.mod")
	if err != nil {
		return nil, err
	}
	r := &repo{Root: root}
	byPath := map[string]*repoModule{}
	var all []*modfile.File
	for _, f := range strings.Fields(out) {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		mf, err := modfile.Parse(f, data, nil)
		if err != nil {
			return nil, err
		}
		if mf.Module == nil {
			return nil, fmt.Errorf("%s: no module line", f)
		}
		dir := path.Dir(f)
		m := &repoModule{Dir: dir, Path: mf.Module.Mod.Path,
			Published: dir != "internal" && !strings.HasPrefix(dir, "internal/") && !strings.Contains(dir, "/internal/") && !strings.HasSuffix(dir, "/internal")}
		if mf.Go != nil {
			m.Go = mf.Go.Version
		}
		for _, rp := range mf.Replace {
			m.Replaces = append(m.Replaces, rp.Old.String()+" => "+rp.New.String())
		}
		if byPath[m.Path] != nil {
			return nil, fmt.Errorf("module %s declared twice", m.Path)
		}
		byPath[m.Path] = m
		r.Modules = append(r.Modules, m)
		all = append(all, mf)
	}
	for i, mf := range all {
		for _, req := range mf.Require {
			if byPath[req.Mod.Path] != nil {
				r.Modules[i].Requires = append(r.Modules[i].Requires, req.Mod.Path)
			}
		}
	}
	sorted, err := topoSort(r.Modules)
	if err != nil {
		return nil, err
	}
	r.Modules = sorted
	return r, nil
}

// topoSort orders modules so that each follows the modules it requires;
// among modules free at the same time, by folder.
func topoSort(mods []*repoModule) ([]*repoModule, error) {
	byPath := map[string]*repoModule{}
	for _, m := range mods {
		byPath[m.Path] = m
	}
	done := map[string]bool{}
	var out []*repoModule
	for len(out) < len(mods) {
		var ready []*repoModule
		for _, m := range mods {
			if done[m.Path] {
				continue
			}
			ok := true
			for _, req := range m.Requires {
				if byPath[req] != nil && !done[req] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, m)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("the repository's modules require each other in a cycle")
		}
		sort.Slice(ready, func(i, j int) bool { return ready[i].Dir < ready[j].Dir })
		for _, m := range ready {
			done[m.Path] = true
		}
		out = append(out, ready...)
	}
	return out, nil
}

// module returns the module with path p, or nil.
func (r *repo) module(p string) *repoModule {
	for _, m := range r.Modules {
		if m.Path == p {
			return m
		}
	}
	return nil
}

// rootModule is the module at the repository's root.
func (r *repo) rootModule() *repoModule {
	for _, m := range r.Modules {
		if m.Dir == "." {
			return m
		}
	}
	return nil
}

// requiredVersion is the version at which the modules require each other;
// they must all agree, since the repository releases in lockstep.
func (r *repo) requiredVersion() (string, error) {
	seen := map[string][]string{}
	for _, m := range r.Modules {
		mf, err := r.modFile(m)
		if err != nil {
			return "", err
		}
		for _, req := range mf.Require {
			if r.module(req.Mod.Path) != nil {
				seen[req.Mod.Version] = append(seen[req.Mod.Version], m.Dir+" requires "+req.Mod.Path)
			}
		}
	}
	if len(seen) != 1 {
		var lines []string
		for v, who := range seen {
			lines = append(lines, v+": "+strings.Join(who, ", "))
		}
		sort.Strings(lines)
		return "", fmt.Errorf("in-repository requirements disagree (the modules release in lockstep):\n  %s", strings.Join(lines, "\n  "))
	}
	for v := range seen {
		return v, nil
	}
	return "", nil
}

func (r *repo) modFile(m *repoModule) (*modfile.File, error) {
	name := filepath.Join(r.Root, filepath.FromSlash(m.Dir), "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return modfile.Parse(name, data, nil)
}

// setVersion makes every in-repository requirement, and go.work's
// versioned replacements, name version.
func (r *repo) setVersion(version string) error {
	for _, m := range r.Modules {
		mf, err := r.modFile(m)
		if err != nil {
			return err
		}
		changed := false
		for _, req := range mf.Require {
			if r.module(req.Mod.Path) != nil && req.Mod.Version != version {
				if err := mf.AddRequire(req.Mod.Path, version); err != nil {
					return err
				}
				changed = true
			}
		}
		if !changed {
			continue
		}
		mf.Cleanup()
		data, err := mf.Format()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.Root, filepath.FromSlash(m.Dir), "go.mod"), data, 0o644); err != nil {
			return err
		}
	}
	return r.writeWork(version)
}

// writeWork rewrites go.work: every module used, and each published
// library replaced at version by its folder, so that a requirement of a
// version not yet on any proxy resolves inside the workspace.
func (r *repo) writeWork(version string) error {
	var b strings.Builder
	root := r.rootModule()
	goVersion := ""
	if root != nil {
		goVersion = root.Go
	}
	fmt.Fprintf(&b, "// Development across the repository's modules: each module requires its\n")
	fmt.Fprintf(&b, "// siblings at the release version, which this workspace resolves to their\n")
	fmt.Fprintf(&b, "// folders. Written by `go run ./internal/release`; see RELEASING.md.\n\n")
	fmt.Fprintf(&b, "go %s\n\nuse (\n", goVersion)
	dirs := make([]string, 0, len(r.Modules))
	for _, m := range r.Modules {
		dirs = append(dirs, m.Dir)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if d == "." {
			fmt.Fprintf(&b, "\t.\n")
		} else {
			fmt.Fprintf(&b, "\t./%s\n", d)
		}
	}
	fmt.Fprintf(&b, ")\n\nreplace (\n")
	required := map[string]bool{}
	for _, m := range r.Modules {
		for _, p := range m.Requires {
			required[p] = true
		}
	}
	for _, m := range r.Modules {
		if !required[m.Path] {
			continue
		}
		target := "./"
		if m.Dir != "." {
			target = "./" + m.Dir
		}
		fmt.Fprintf(&b, "\t%s %s => %s\n", m.Path, version, target)
	}
	fmt.Fprintf(&b, ")\n")
	if _, err := modfile.ParseWork("go.work", []byte(b.String()), nil); err != nil {
		return fmt.Errorf("go.work as written does not parse: %w", err)
	}
	return os.WriteFile(filepath.Join(r.Root, "go.work"), []byte(b.String()), 0o644)
}

// validVersion reports whether v can release every module: a canonical
// semantic version below v2 (the module paths carry no major suffix).
func validVersion(v string) error {
	if err := module.Check("github.com/isvkit/koogallery", v); err != nil {
		return fmt.Errorf("version %q: %w", v, err)
	}
	if semver.Canonical(v) != v {
		return fmt.Errorf("version %q is not canonical (want %s)", v, semver.Canonical(v))
	}
	if module.IsPseudoVersion(v) {
		return fmt.Errorf("version %q is a pseudo-version", v)
	}
	if !strings.HasPrefix(v, "v0.") && !strings.HasPrefix(v, "v1.") {
		return fmt.Errorf("version %q: the module paths carry no /vN suffix, so only v0 and v1 versions can be released", v)
	}
	return nil
}
