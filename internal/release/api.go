package main

import (
	"encoding/json"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The public API of a module is a sorted list of features, one line each,
// in the spirit of the Go project's api/*.txt:
//
//	pkg github.com/isvkit/koogallery/auth, func NewSigner(string, string, ...SignerOption) (*Signer, error)
//	pkg github.com/isvkit/koogallery/auth, method (*Signer) Sign(*net/http.Request) error
//	pkg github.com/isvkit/koogallery/auth, type Signer struct
//	pkg github.com/isvkit/koogallery/auth, type Credentials struct, AccessKey string
//
// A line that disappears is an incompatible change (a removed name, a
// changed signature or type, a constant's new value); a new line is a
// compatible addition. An interface is one line with its whole method set,
// since adding a method breaks its implementations and removing one breaks
// its callers.

// apiDir is where the baselines live, relative to the repository's root:
// in this module, so that no published module's zip carries them.
const apiDir = "internal/release/api"

// baselineName is the file holding the API of the module in dir.
func baselineName(dir string) string {
	if dir == "." {
		return "root.txt"
	}
	return strings.ReplaceAll(dir, "/", "_") + ".txt"
}

// listedPackage is what go list -export tells of a package.
type listedPackage struct {
	ImportPath string
	Name       string
	Export     string
	Module     *struct{ Path string }
	DepOnly    bool
}

// moduleAPI computes the features of every importable package of the
// module: not main, not internal, not a test.
func (r *repo) moduleAPI(m *repoModule) ([]string, error) {
	dir := filepath.Join(r.Root, filepath.FromSlash(m.Dir))
	out, err := goEnv{}.run(dir, "go", "list", "-export", "-deps", "-json=ImportPath,Name,Export,Module,DepOnly", "./...")
	if err != nil {
		return nil, err
	}
	exports := map[string]string{}
	var targets []string
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		exports[p.ImportPath] = p.Export
		if p.DepOnly || p.Name == "main" || p.Module == nil || p.Module.Path != m.Path || isInternal(p.ImportPath) {
			continue
		}
		targets = append(targets, p.ImportPath)
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	var features []string
	for _, path := range targets {
		pkg, err := imp.Import(path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		features = append(features, packageFeatures(pkg)...)
	}
	sort.Strings(features)
	return features, nil
}

// isInternal reports whether an import path has an internal element.
func isInternal(path string) bool {
	for _, e := range strings.Split(path, "/") {
		if e == "internal" {
			return true
		}
	}
	return false
}

// packageFeatures lists one package's exported features.
func packageFeatures(pkg *types.Package) []string {
	qual := func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Path()
	}
	ts := func(t types.Type) string { return types.TypeString(t, qual) }
	prefix := "pkg " + pkg.Path() + ", "
	var out []string
	add := func(s string) { out = append(out, prefix+s) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch o := obj.(type) {
		case *types.Const:
			add(fmt.Sprintf("const %s %s = %s", name, ts(o.Type()), o.Val().ExactString()))
		case *types.Var:
			add(fmt.Sprintf("var %s %s", name, ts(o.Type())))
		case *types.Func:
			add(fmt.Sprintf("func %s%s", name, signature(o.Type(), ts)))
		case *types.TypeName:
			if o.IsAlias() {
				add(fmt.Sprintf("type %s = %s", name, ts(types.Unalias(o.Type()))))
				continue
			}
			named, ok := o.Type().(*types.Named)
			if !ok {
				continue
			}
			head := "type " + name + typeParams(named.TypeParams(), ts)
			switch u := named.Underlying().(type) {
			case *types.Struct:
				add(head + " struct")
				for i := 0; i < u.NumFields(); i++ {
					f := u.Field(i)
					if !f.Exported() {
						continue
					}
					if f.Embedded() {
						add(fmt.Sprintf("%s struct, embedded %s", head, ts(f.Type())))
					} else {
						add(fmt.Sprintf("%s struct, %s %s", head, f.Name(), ts(f.Type())))
					}
				}
			case *types.Interface:
				add(head + " " + interfaceLine(u, ts))
				continue // its methods are in its line
			default:
				add(head + " " + ts(u))
			}
			value := types.NewMethodSet(named)
			inValue := map[string]bool{}
			for i := 0; i < value.Len(); i++ {
				inValue[value.At(i).Obj().Name()] = true
			}
			ptr := types.NewMethodSet(types.NewPointer(named))
			for i := 0; i < ptr.Len(); i++ {
				fn := ptr.At(i).Obj()
				if !fn.Exported() {
					continue
				}
				recv := "*" + name
				if inValue[fn.Name()] {
					recv = name
				}
				add(fmt.Sprintf("method (%s) %s%s", recv, fn.Name(), signature(fn.Type(), ts)))
			}
		}
	}
	return out
}

// signature writes a function type without its parameters' names, which
// a caller never sees: renaming one changes no API.
func signature(t types.Type, ts func(types.Type) string) string {
	sig, ok := t.(*types.Signature)
	if !ok {
		return ts(t)
	}
	unnamed := func(tup *types.Tuple) *types.Tuple {
		vars := make([]*types.Var, tup.Len())
		for i := range vars {
			vars[i] = types.NewParam(token.NoPos, nil, "", tup.At(i).Type())
		}
		return types.NewTuple(vars...)
	}
	plain := types.NewSignatureType(nil, nil, nil, unnamed(sig.Params()), unnamed(sig.Results()), sig.Variadic())
	return typeParams(sig.TypeParams(), ts) + strings.TrimPrefix(ts(plain), "func")
}

// typeParams writes a type's parameter list, or nothing.
func typeParams(tp *types.TypeParamList, ts func(types.Type) string) string {
	if tp == nil || tp.Len() == 0 {
		return ""
	}
	var parts []string
	for i := 0; i < tp.Len(); i++ {
		p := tp.At(i)
		parts = append(parts, p.Obj().Name()+" "+ts(p.Constraint()))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// interfaceLine writes an interface's whole method set, sorted.
func interfaceLine(u *types.Interface, ts func(types.Type) string) string {
	var methods []string
	unexported := false
	for i := 0; i < u.NumMethods(); i++ {
		fn := u.Method(i)
		if !fn.Exported() {
			unexported = true
			continue
		}
		methods = append(methods, fn.Name()+signature(fn.Type(), ts))
	}
	sort.Strings(methods)
	for i := 0; i < u.NumEmbeddeds(); i++ {
		if _, ok := u.EmbeddedType(i).Underlying().(*types.Interface); !ok {
			methods = append(methods, "~constraint "+ts(u.EmbeddedType(i)))
		}
	}
	if unexported {
		methods = append(methods, "// unexported methods")
	}
	if len(methods) == 0 {
		return "interface {}"
	}
	return "interface { " + strings.Join(methods, "; ") + " }"
}

// apiChange is the comparison of a module's API with its baseline.
type apiChange struct {
	Module           *repoModule
	Baseline         string // version of the baseline, "" when there is none
	Removed, Added   []string
	Unacknowledged   []string // removed features the changelog does not name
	BaselineFeatures int
	CurrentFeatures  int
}

// readBaseline returns a baseline's version and features; ok is false
// when the module has never been released.
func (r *repo) readBaseline(m *repoModule) (version string, features []string, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(apiDir), baselineName(m.Dir)))
	if os.IsNotExist(err) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "# version "):
			version = strings.TrimPrefix(line, "# version ")
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			features = append(features, line)
		}
	}
	return version, features, true, nil
}

// writeBaseline records a module's API at version.
func (r *repo) writeBaseline(m *repoModule, version string, features []string) error {
	dir := filepath.Join(r.Root, filepath.FromSlash(apiDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The public API of %s, written by `go run ./internal/release` at the release.\n", m.Path)
	fmt.Fprintf(&b, "# version %s\n", version)
	for _, f := range features {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(dir, baselineName(m.Dir)), []byte(b.String()), 0o644)
}

// compareAPI compares each published module's API with its baseline.
func (r *repo) compareAPI(unreleased string) ([]apiChange, error) {
	var changes []apiChange
	for _, m := range r.Modules {
		if !m.Published {
			continue
		}
		cur, err := r.moduleAPI(m)
		if err != nil {
			return nil, err
		}
		version, base, ok, err := r.readBaseline(m)
		if err != nil {
			return nil, err
		}
		c := apiChange{Module: m, CurrentFeatures: len(cur)}
		if ok {
			c.Baseline = version
			c.BaselineFeatures = len(base)
			c.Removed, c.Added = diffSorted(base, cur)
			for _, f := range c.Removed {
				if !mentions(unreleased, featureName(f)) {
					c.Unacknowledged = append(c.Unacknowledged, f)
				}
			}
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// diffSorted returns what is in a and not in b, and what is in b and not in a.
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	for _, s := range a {
		if !inb[s] {
			onlyA = append(onlyA, s)
		}
	}
	for _, s := range b {
		if !ina[s] {
			onlyB = append(onlyB, s)
		}
	}
	return onlyA, onlyB
}

var featureRE = regexp.MustCompile(`^pkg ([^,]+), (?:const|var|func|type) ([A-Za-z0-9_]+)|^pkg ([^,]+), method \(\*?([A-Za-z0-9_]+)\) ([A-Za-z0-9_]+)`)

// featureName is how the changelog names a feature: package.Name, or
// package.Type.Method (package is the import path's last element); a
// struct field is named by package.Type.Field.
func featureName(f string) string {
	m := featureRE.FindStringSubmatch(f)
	if m == nil {
		return f
	}
	if m[1] != "" {
		name := last(m[1]) + "." + m[2]
		if i := strings.Index(f, " struct, "); i >= 0 {
			field := strings.Fields(f[i+len(" struct, "):])
			if len(field) > 0 && field[0] != "embedded" {
				name += "." + field[0]
			}
		}
		return name
	}
	return last(m[3]) + "." + m[4] + "." + m[5]
}

func last(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// mentions reports whether text names name as a whole word.
func mentions(text, name string) bool {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_.])` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9_])`)
	return re.MatchString(text)
}

// unreleasedSection is the text of CHANGELOG.md's [Unreleased] section.
func unreleasedSection(changelog string) string {
	i := strings.Index(changelog, "## [Unreleased]")
	if i < 0 {
		return ""
	}
	rest := changelog[i+len("## [Unreleased]"):]
	if j := strings.Index(rest, "\n## ["); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
