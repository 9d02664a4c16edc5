package main

import (
	stdzip "archive/zip"
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// consumerProgram imports the root, saas and both store modules, as a
// seller's server does, and serves one request, so that the released
// modules must compile and link together outside the repository.
const consumerProgram = `package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/redisstore"
)

type provider struct{ saas.Provider }

var (
	_ store.Store = (*redisstore.Store)(nil)
	_ store.Store = (*pgstore.Store)(nil)
	_             = redisstore.New
	_             = pgstore.New
)

func main() {
	client, err := koogallery.NewClient(koogallery.WithCredentials("consumer-ak", "consumer-sk"))
	if err != nil || client == nil {
		fmt.Println("client:", err)
		os.Exit(1)
	}
	h := saas.NewHandler("consumer-key", provider{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/isv/produce", nil))
	if rec.Code == 0 || rec.Body.Len() == 0 {
		fmt.Println("the handler answered nothing")
		os.Exit(1)
	}
	fmt.Println("consumer ok: an unsigned call answered", rec.Code)
}
`

func cmdDryRun(args []string) error {
	fs := flag.NewFlagSet("dryrun", flag.ExitOnError)
	version := fs.String("version", "", "the throwaway version (default: the required version, pre-released as -dryrun.<time>)")
	keep := fs.Bool("keep", false, "keep the temporary folder")
	_ = fs.Parse(args)
	src, err := openRepo()
	if err != nil {
		return err
	}
	if *version == "" {
		base, err := src.requiredVersion()
		if err != nil {
			return err
		}
		*version = base + "-dryrun." + time.Now().UTC().Format("20060102150405")
	}
	tmp, err := os.MkdirTemp("", "release-dryrun-")
	if err != nil {
		return err
	}
	if *keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	return dryRun(src.Root, tmp, *version)
}

// dryRun releases version in a clone of srcRoot's HEAD under tmp, builds
// each published module's zip from its tag as a proxy does, serves them
// from a file:// proxy and, from modules outside the repository, gets each
// library, builds a program against four of them, and installs and runs
// every command.
func dryRun(srcRoot, tmp, version string) error {
	clone := filepath.Join(tmp, "repo")
	if _, err := git(tmp, "clone", "-q", srcRoot, clone); err != nil {
		return err
	}
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "release dry run", "GIT_AUTHOR_EMAIL": "dryrun@invalid",
		"GIT_COMMITTER_NAME": "release dry run", "GIT_COMMITTER_EMAIL": "dryrun@invalid"} {
		os.Setenv(k, v)
	}
	r, err := loadRepo(clone)
	if err != nil {
		return err
	}

	logf("=== release %s in a clean clone", version)
	if _, err := release(r, version, time.Now().UTC().Format(time.DateOnly), false, logf); err != nil {
		return err
	}
	if r, err = loadRepo(clone); err != nil {
		return err
	}

	logf("=== module zips from the tags, as a proxy builds them")
	proxy := &fileProxy{Dir: filepath.Join(tmp, "proxy")}
	hashes := map[string]string{}
	type row struct {
		tag         string
		size, files int
	}
	var rows []row
	var libraries []*repoModule
	for _, m := range r.Modules {
		if !m.Published {
			continue
		}
		data, err := r.zipFromTag(m, version)
		if err != nil {
			return err
		}
		if len(data) > maxZipSize {
			return fmt.Errorf("%s: the module zip is %d bytes, over %d", m.Tag(version), len(data), maxZipSize)
		}
		h, err := zipHash(data)
		if err != nil {
			return err
		}
		hashes[m.Path] = h
		gomod, err := git(clone, "show", m.Tag(version)+":"+strings.TrimPrefix(m.TagPrefix()+"go.mod", "./"))
		if err != nil {
			return err
		}
		if err := proxy.add(moduleVersion(m, version), []byte(gomod+"\n"), data); err != nil {
			return err
		}
		n, err := zipFileCount(data)
		if err != nil {
			return err
		}
		rows = append(rows, row{m.Tag(version), len(data), n})
		feats, err := r.moduleAPI(m)
		if err != nil {
			return err
		}
		if len(feats) > 0 {
			libraries = append(libraries, m)
		}
	}
	// What each module's go.sum recorded for its siblings at tidy time must
	// be what the proxy now serves: the same bytes, zipped the same way.
	for _, m := range r.Modules {
		sums, err := os.ReadFile(filepath.Join(clone, filepath.FromSlash(m.Dir), "go.sum"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(string(sums)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[1] == version && hashes[f[0]] != "" && hashes[f[0]] != f[2] {
				return fmt.Errorf("%s/go.sum records %s %s as %s, the proxy serves %s", m.Dir, f[0], version, f[2], hashes[f[0]])
			}
		}
	}

	// The consumers start from an empty module cache of their own, as a
	// new user's machine does (third-party modules still come from the
	// shared cache's files or the configured proxy).
	env, err := proxyEnv(r, proxy, filepath.Join(tmp, "modcache"))
	if err != nil {
		return err
	}
	env["GOFLAGS"] = "-modcacherw"
	env["GOBIN"] = filepath.Join(tmp, "bin")

	logf("=== each library on its own, from a module outside the repository (dependants first)")
	sort.SliceStable(libraries, func(i, j int) bool { return indexOf(r, libraries[i]) > indexOf(r, libraries[j]) })
	for i, m := range libraries {
		dir := filepath.Join(tmp, fmt.Sprintf("consumer-%d", i))
		if err := newConsumer(dir); err != nil {
			return err
		}
		if _, err := env.run(dir, "go", "get", m.Path+"@"+version); err != nil {
			return err
		}
		pkgs, err := env.run(dir, "go", "list", "-e", "-f", "{{if ne .Name \"main\"}}{{.ImportPath}}{{end}}", m.Path+"/...")
		if err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("package main\n\nimport (\n")
		for _, p := range strings.Fields(pkgs) {
			if !isInternal(p) {
				fmt.Fprintf(&b, "\t_ %q\n", p)
			}
		}
		b.WriteString(")\n\nfunc main() {}\n")
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.String()), 0o644); err != nil {
			return err
		}
		if _, err := env.run(dir, "go", "mod", "tidy"); err != nil {
			return err
		}
		if _, err := env.run(dir, "go", "build", "./..."); err != nil {
			return err
		}
		if err := noReplace(dir); err != nil {
			return err
		}
		logf("go get %s@%s: ok, %d packages build", m.Path, version, strings.Count(b.String(), "\t_ "))
	}

	logf("=== a program importing the root, saas and both store modules")
	dir := filepath.Join(tmp, "consumer-program")
	if err := newConsumer(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerProgram), 0o644); err != nil {
		return err
	}
	root := r.rootModule()
	getArgs := []string{"get", root.Path + "@" + version}
	for _, d := range []string{"store/redisstore", "store/pgstore"} {
		if m := moduleInDir(r, d); m != nil {
			getArgs = append(getArgs, m.Path+"@"+version)
		}
	}
	if _, err := env.run(dir, "go", getArgs...); err != nil {
		return err
	}
	if _, err := env.run(dir, "go", "mod", "tidy"); err != nil {
		return err
	}
	if _, err := env.run(dir, "go", "vet", "./..."); err != nil {
		return err
	}
	if _, err := env.run(dir, "go", "build", "-o", filepath.Join(tmp, "consumer"), "."); err != nil {
		return err
	}
	out, err := env.run(dir, filepath.Join(tmp, "consumer"))
	if err != nil {
		return err
	}
	if err := noReplace(dir); err != nil {
		return err
	}
	logf("%s", strings.TrimSpace(out))

	logf("=== go install every command at %s and run its --help", version)
	for _, d := range commandDirs(r) {
		m := moduleInDir(r, d)
		if m == nil {
			return fmt.Errorf("no module in %s", d)
		}
		if _, err := env.run(tmp, "go", "install", m.Path+"@"+version); err != nil {
			return err
		}
		bin := filepath.Join(tmp, "bin", filepath.Base(m.Path))
		help, err := env.run(tmp, bin, "--help")
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(help)) == 0 {
			return fmt.Errorf("%s --help printed nothing", bin)
		}
		logf("go install %s@%s: ok; --help: %s", m.Path, version, firstLine(help))
	}

	logf("=== the API after the release equals its baseline")
	changes, err := r.compareAPI("")
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.Baseline != version || len(c.Removed)+len(c.Added) > 0 {
			return fmt.Errorf("%s: the API baseline written at %s does not match the released code (baseline %q, %d removed, %d added)",
				c.Module.Path, version, c.Baseline, len(c.Removed), len(c.Added))
		}
	}

	fmt.Printf("release dry run %s: ok\n", version)
	fmt.Printf("%-40s %10s %6s\n", "tag", "zip bytes", "files")
	for _, rw := range rows {
		fmt.Printf("%-40s %10d %6d\n", rw.tag, rw.size, rw.files)
	}
	return nil
}

// commandDirs are the published modules whose root is a command.
func commandDirs(r *repo) []string {
	var dirs []string
	for _, m := range r.Modules {
		if !m.Published || m.Dir == "." {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Root, filepath.FromSlash(m.Dir), "main.go")); err == nil {
			dirs = append(dirs, m.Dir)
		}
	}
	return dirs
}

func moduleInDir(r *repo, dir string) *repoModule {
	for _, m := range r.Modules {
		if m.Dir == dir {
			return m
		}
	}
	return nil
}

func indexOf(r *repo, m *repoModule) int {
	for i, o := range r.Modules {
		if o == m {
			return i
		}
	}
	return -1
}

// newConsumer starts a module outside the repository.
func newConsumer(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/consumer\n\ngo 1.25.0\n"), 0o644)
}

// noReplace fails when a consumer's go.mod needed a replace.
func noReplace(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if strings.Contains(string(data), "replace") {
		return fmt.Errorf("%s/go.mod has a replace", dir)
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// zipFileCount counts the files in a zip.
func zipFileCount(data []byte) (int, error) {
	zr, err := stdzip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, err
	}
	return len(zr.File), nil
}
