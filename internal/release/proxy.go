package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// maxZipSize is the largest module zip the release accepts: a proxy serves
// up to 500 MB, but a library that weighs more than this carries something
// that is not source.
const maxZipSize = 2 << 20

// fileProxy is a folder laid out as a GOPROXY serves modules, for a
// file:// URL: <escaped path>/@v/list, <version>.info, .mod and .zip.
type fileProxy struct{ Dir string }

// URL is the proxy's GOPROXY entry.
func (p *fileProxy) URL() string { return "file://" + filepath.ToSlash(p.Dir) }

// add stores a module version: its go.mod and its zip.
func (p *fileProxy) add(mv module.Version, gomod, zipData []byte) error {
	ep, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return err
	}
	dir := filepath.Join(p.Dir, filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, time.Now().UTC().Truncate(time.Second)})
	for name, data := range map[string][]byte{ev + ".info": info, ev + ".mod": gomod, ev + ".zip": zipData} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	list := filepath.Join(dir, "list")
	old, _ := os.ReadFile(list)
	for _, l := range strings.Fields(string(old)) {
		if l == mv.Version {
			return nil
		}
	}
	return os.WriteFile(list, append(old, []byte(mv.Version+"\n")...), 0o644)
}

// treeFile is a file of a module in the work tree, for zip.Create.
type treeFile struct {
	rel, abs string
	info     fs.FileInfo
}

func (f treeFile) Path() string                 { return f.rel }
func (f treeFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f treeFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// trackedFiles lists the files git tracks in m's folder, less those of
// modules nested in it, as they are on disk now (edits included).
func (r *repo) trackedFiles(m *repoModule) ([]zip.File, error) {
	args := []string{"ls-files", "-z"}
	if m.Dir != "." {
		args = append(args, "--", m.Dir)
	}
	out, err := git(r.Root, args...)
	if err != nil {
		return nil, err
	}
	var files []zip.File
	for _, f := range strings.Split(out, "\x00") {
		if f == "" || r.nestedIn(m, f) {
			continue
		}
		rel := f
		if m.Dir != "." {
			rel = strings.TrimPrefix(f, m.Dir+"/")
		}
		abs := filepath.Join(r.Root, filepath.FromSlash(f))
		info, err := os.Lstat(abs)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in the index
		}
		if err != nil {
			return nil, err
		}
		files = append(files, treeFile{rel: rel, abs: abs, info: info})
	}
	return files, nil
}

// nestedIn reports whether file (relative to the root) belongs to a module
// nested inside m rather than to m.
func (r *repo) nestedIn(m *repoModule, file string) bool {
	for _, o := range r.Modules {
		if o == m || o.Dir == "." {
			continue
		}
		if m.Dir != "." && !strings.HasPrefix(o.Dir, m.Dir+"/") {
			continue
		}
		if strings.HasPrefix(file, o.Dir+"/") {
			return true
		}
	}
	return false
}

// zipFromTree builds m's zip at version from the work tree, with the rules
// the go command and the proxies apply (zip.Create refuses what they refuse).
func (r *repo) zipFromTree(m *repoModule, version string) ([]byte, error) {
	files, err := r.trackedFiles(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := zip.Create(&buf, module.Version{Path: m.Path, Version: version}, files); err != nil {
		return nil, fmt.Errorf("zip %s: %w", m.Dir, err)
	}
	return buf.Bytes(), nil
}

// zipFromTag builds m's zip from a tag, as a module proxy does.
func (r *repo) zipFromTag(m *repoModule, version string) ([]byte, error) {
	var buf bytes.Buffer
	subdir := ""
	if m.Dir != "." {
		subdir = m.Dir
	}
	if err := zip.CreateFromVCS(&buf, module.Version{Path: m.Path, Version: version}, r.Root, m.Tag(version), subdir); err != nil {
		return nil, fmt.Errorf("zip %s at %s: %w", m.Dir, m.Tag(version), err)
	}
	return buf.Bytes(), nil
}

// zipHash is the h1: hash go.sum records for a module zip.
func zipHash(data []byte) (string, error) {
	f, err := os.CreateTemp("", "release-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return dirhash.HashZip(f.Name(), dirhash.Hash1)
}
