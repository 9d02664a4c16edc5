// Command release releases the repository's modules together, and checks
// that what it releases works for someone outside the repository.
//
// Every module of the repository is released at the same version, in
// lockstep: the root module is tagged vX, a module in a folder DIR is tagged
// DIR/vX. Each module requires its siblings at the release version, and the
// committed go.work resolves those requirements to the folders during
// development, so no go.mod carries a replace (a dependency's replace is
// ignored, and go install refuses a module with one).
//
// Usage, from anywhere in the repository:
//
//	go run ./internal/release check          # the tree: binaries, zip rules and sizes, go versions, licences, requirements
//	go run ./internal/release api            # the public API against the last release's baseline
//	go run ./internal/release tidy           # go mod tidy every module, siblings served from the work tree
//	go run ./internal/release release vX.Y.Z # set every requirement, tidy, build, check, commit, tag (no push)
//	go run ./internal/release dryrun         # release a throwaway version in a temporary clone and use it from outside
//
// See RELEASING.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "check":
		err = cmdCheck(args)
	case "api":
		err = cmdAPI(args)
	case "tidy":
		err = cmdTidy(args)
	case "release":
		err = cmdRelease(args)
	case "dryrun":
		err = cmdDryRun(args)
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "release: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: go run ./internal/release COMMAND
  check            check the tree: no compiled file tracked, every published module zips
                   under 2 MB, one go version, a licence per module, no replace
  api              compare the public API with the last release's baseline
  tidy             tidy every module against the work tree's sibling modules
  release VERSION  set every in-repository requirement to VERSION, tidy, build and vet
                   every module outside the workspace, check, write the API baseline and
                   CHANGELOG.md's heading, commit and tag (no push)
  dryrun           release a throwaway version in a temporary clone, serve its module
                   zips from a file:// proxy and use them from a module outside
`)
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func openRepo() (*repo, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := findRoot(wd)
	if err != nil {
		return nil, err
	}
	return loadRepo(root)
}

func cmdCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	_ = fs.Parse(args)
	r, err := openRepo()
	if err != nil {
		return err
	}
	if problems := r.checkTree(logf); len(problems) > 0 {
		return fmt.Errorf("the tree cannot be released:\n  %s", strings.Join(problems, "\n  "))
	}
	logf("tree ok: %d modules, %d published", len(r.Modules), countPublished(r))
	return nil
}

func countPublished(r *repo) int {
	n := 0
	for _, m := range r.Modules {
		if m.Published {
			n++
		}
	}
	return n
}

func cmdAPI(args []string) error {
	fs := flag.NewFlagSet("api", flag.ExitOnError)
	verbose := fs.Bool("v", false, "print every feature of a module without a baseline")
	_ = fs.Parse(args)
	r, err := openRepo()
	if err != nil {
		return err
	}
	changelog, _ := os.ReadFile(r.Root + "/CHANGELOG.md")
	changes, err := r.compareAPI(unreleasedSection(string(changelog)))
	if err != nil {
		return err
	}
	return reportAPI(r, changes, *verbose)
}

// reportAPI prints each module's API changes and fails on an incompatible
// change CHANGELOG.md's [Unreleased] section does not name.
func reportAPI(r *repo, changes []apiChange, verbose bool) error {
	var bad []string
	for _, c := range changes {
		if c.Baseline == "" {
			fmt.Printf("%s: not released yet (no baseline in %s): %d features\n", c.Module.Path, apiDir, c.CurrentFeatures)
			if verbose {
				feats, err := r.moduleAPI(c.Module)
				if err != nil {
					return err
				}
				for _, f := range feats {
					fmt.Println("  " + f)
				}
			}
			continue
		}
		fmt.Printf("%s: against %s: %d features, %d removed or changed, %d added\n", c.Module.Path, c.Baseline, c.CurrentFeatures, len(c.Removed), len(c.Added))
		for _, f := range c.Removed {
			fmt.Println("  - " + f)
		}
		for _, f := range c.Added {
			fmt.Println("  + " + f)
		}
		for _, f := range c.Unacknowledged {
			bad = append(bad, fmt.Sprintf("%s (name %s in CHANGELOG.md's [Unreleased] section)", f, featureName(f)))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("incompatible API changes not named in CHANGELOG.md:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func cmdTidy(args []string) error {
	fs := flag.NewFlagSet("tidy", flag.ExitOnError)
	_ = fs.Parse(args)
	r, err := openRepo()
	if err != nil {
		return err
	}
	version, err := r.requiredVersion()
	if err != nil {
		return err
	}
	proxy, err := r.tidyAll(version, logf)
	if err != nil {
		return err
	}
	defer os.RemoveAll(proxy.Dir)
	// Between releases the siblings' sums would record whatever the work
	// tree held at the last tidy: keep them out (the workspace does not
	// need them); the release command writes them for the released bytes.
	for _, m := range r.Modules {
		if err := r.dropSiblingSums(filepath.Join(r.Root, filepath.FromSlash(m.Dir))); err != nil {
			return err
		}
	}
	return nil
}

func cmdRelease(args []string) error {
	fs := flag.NewFlagSet("release", flag.ExitOnError)
	date := fs.String("date", time.Now().UTC().Format(time.DateOnly), "the release date CHANGELOG.md records")
	allowDirty := fs.Bool("allow-dirty", false, "release with uncommitted changes (they are committed with the release)")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("release needs one VERSION, such as v0.1.0")
	}
	r, err := openRepo()
	if err != nil {
		return err
	}
	_, err = release(r, fs.Arg(0), *date, *allowDirty, logf)
	return err
}

// release releases every module at version: see the package doc. It
// returns the tags it made, in dependency order.
func release(r *repo, version, date string, allowDirty bool, logf func(string, ...any)) ([]string, error) {
	if err := validVersion(version); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("date %q: want YYYY-MM-DD", date)
	}
	if !allowDirty {
		status, err := git(r.Root, "status", "--porcelain")
		if err != nil {
			return nil, err
		}
		if status != "" {
			return nil, fmt.Errorf("the work tree has uncommitted changes:\n%s", status)
		}
	}
	for _, m := range r.Modules {
		if _, err := git(r.Root, "rev-parse", "-q", "--verify", "refs/tags/"+m.Tag(version)); err == nil {
			return nil, fmt.Errorf("tag %s exists", m.Tag(version))
		}
	}
	changelogPath := r.Root + "/CHANGELOG.md"
	changelog, err := os.ReadFile(changelogPath)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(changelog), "## [Unreleased]") {
		return nil, fmt.Errorf("CHANGELOG.md has no \"## [Unreleased]\" section to release")
	}

	logf("== requirements at %s", version)
	if err := r.setVersion(version); err != nil {
		return nil, err
	}
	if r, err = loadRepo(r.Root); err != nil {
		return nil, err
	}
	// CHANGELOG.md is in the root module's zip, which its dependants'
	// go.sum files record at tidy time: date the release before tidying.
	heading := fmt.Sprintf("## [Unreleased]\n\n## [%s] - %s", strings.TrimPrefix(version, "v"), date)
	updated := strings.Replace(string(changelog), "## [Unreleased]", heading, 1)
	if err := os.WriteFile(changelogPath, []byte(updated), 0o644); err != nil {
		return nil, err
	}
	logf("== tidy")
	proxy, err := r.tidyAll(version, logf)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(proxy.Dir)
	if r, err = loadRepo(r.Root); err != nil {
		return nil, err
	}
	logf("== build")
	if err := r.buildAll(proxy, logf); err != nil {
		return nil, err
	}
	logf("== API")
	changes, err := r.compareAPI(unreleasedSection(string(changelog)))
	if err != nil {
		return nil, err
	}
	if err := reportAPI(r, changes, false); err != nil {
		return nil, err
	}
	for _, c := range changes {
		feats, err := r.moduleAPI(c.Module)
		if err != nil {
			return nil, err
		}
		if err := r.writeBaseline(c.Module, version, feats); err != nil {
			return nil, err
		}
	}
	logf("== check")
	if problems := r.checkTree(logf); len(problems) > 0 {
		return nil, fmt.Errorf("the tree cannot be released:\n  %s", strings.Join(problems, "\n  "))
	}
	if _, err := git(r.Root, "add", "-A"); err != nil {
		return nil, err
	}
	if _, err := git(r.Root, "commit", "-q", "-m", "release "+version); err != nil {
		return nil, err
	}
	var tags []string
	for _, m := range r.Modules {
		if !m.Published {
			continue
		}
		tag := m.Tag(version)
		if _, err := git(r.Root, "tag", "-a", "-m", m.Path+" "+version, tag); err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	logf("== tagged %s (not pushed); to publish: git push origin HEAD %s", strings.Join(tags, " "), strings.Join(tags, " "))
	return tags, nil
}
