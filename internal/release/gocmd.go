package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goEnv is an environment for the go command: the caller's, with some
// variables set.
type goEnv map[string]string

// environ is the process environment with e's variables replacing any of
// the same name.
func (e goEnv) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := e[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// run runs a command in dir and returns its combined output; an error
// carries the output's tail.
func (e goEnv) run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = e.environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, tail(out.String(), 40))
	}
	return out.String(), nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// goValue reads one go env variable.
func goValue(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// proxyEnv resolves the repository's modules from proxy and everything
// else from the shared module cache's download folder (itself a GOPROXY)
// or the configured proxy, into a module cache of its own in cacheDir,
// outside any workspace, and does not ask the checksum database about
// modules it has never seen. A private cache cannot hold an older build of
// the same version, nor race another tidy of another work tree.
func proxyEnv(r *repo, proxy *fileProxy, cacheDir string) (goEnv, error) {
	upstream, err := goValue("GOPROXY")
	if err != nil {
		return nil, err
	}
	nosum, err := goValue("GONOSUMDB")
	if err != nil {
		return nil, err
	}
	shared, err := goValue("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	root := r.rootModule()
	if root == nil {
		return nil, fmt.Errorf("no module at the repository's root")
	}
	if nosum != "" {
		nosum += ","
	}
	local := "file://" + filepath.ToSlash(filepath.Join(shared, "cache", "download"))
	return goEnv{
		"GOWORK":     "off",
		"GOPROXY":    proxy.URL() + "," + local + "," + upstream,
		"GONOSUMDB":  nosum + root.Path,
		"GOMODCACHE": cacheDir,
		"GOFLAGS":    "-mod=mod -modcacherw",
	}, nil
}

// newCache makes a private module cache; remove it with os.RemoveAll
// (the go command writes it writable under -modcacherw).
func newCache() (string, error) { return os.MkdirTemp("", "release-modcache-") }

// tidyAll tidies every module outside the workspace, in dependency order,
// against a file proxy holding the repository's modules at version as the
// work tree has them (each added once it is tidied). It returns the proxy.
func (r *repo) tidyAll(version string, logf func(string, ...any)) (*fileProxy, error) {
	dir, err := os.MkdirTemp("", "release-proxy-")
	if err != nil {
		return nil, err
	}
	proxy := &fileProxy{Dir: dir}
	cache, err := newCache()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	env, err := proxyEnv(r, proxy, cache)
	if err != nil {
		return nil, err
	}
	for _, m := range r.Modules {
		dir := filepath.Join(r.Root, filepath.FromSlash(m.Dir))
		logf("tidy %s", m.Dir)
		// The sums of the siblings are the work tree's as last tidied: they
		// change with every edit, and the go command would refuse the new
		// zips as a checksum mismatch.
		if err := r.dropSiblingSums(dir); err != nil {
			return nil, err
		}
		if _, err := env.run(dir, "go", "mod", "tidy"); err != nil {
			return nil, err
		}
		zipData, err := r.zipFromTree(m, version)
		if err != nil {
			return nil, err
		}
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		if err := proxy.add(moduleVersion(m, version), gomod, zipData); err != nil {
			return nil, err
		}
	}
	return proxy, nil
}

// buildAll builds and vets every module outside the workspace against
// proxy: what a consumer of the release compiles.
func (r *repo) buildAll(proxy *fileProxy, logf func(string, ...any)) error {
	cache, err := newCache()
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	env, err := proxyEnv(r, proxy, cache)
	if err != nil {
		return err
	}
	env["GOFLAGS"] = "-mod=readonly -modcacherw"
	for _, m := range r.Modules {
		dir := filepath.Join(r.Root, filepath.FromSlash(m.Dir))
		logf("build and vet %s outside the workspace", m.Dir)
		if _, err := env.run(dir, "go", "build", "./..."); err != nil {
			return err
		}
		if _, err := env.run(dir, "go", "vet", "./..."); err != nil {
			return err
		}
	}
	return nil
}

// dropSiblingSums removes the go.sum lines of the repository's modules
// from the go.sum in dir.
func (r *repo) dropSiblingSums(dir string) error {
	name := filepath.Join(dir, "go.sum")
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && r.module(f[0]) != nil {
			continue
		}
		keep = append(keep, line)
	}
	return os.WriteFile(name, []byte(strings.Join(keep, "")), 0o644)
}
