// Command kgctl is the KooGallery seller's command line: it signs and explains
// open-API calls, queries orders, plays KooGallery against a seller's
// production interfaces (one call, or the whole probe KooGallery runs twice a
// day), tells why a captured callback does not verify, runs the fake
// marketplace for local development, does the SaaS V1 field encryption, and
// operates the PostgreSQL usage outbox (kgctl usage).
//
//	go install github.com/isvkit/koogallery/cmd/kgctl@latest
//	kgctl --help
//
// Exit codes: 0 success; 1 the call, check or verification failed (the
// output says which and why); 2 usage error; 3 could not run (network, file,
// missing credentials); 4 kgctl stopped before a call that would lock the AK.
//
// Secrets (the SK, callback keys, security tokens) come from the environment,
// a file or a flag and are never printed, logged or put in an error; the
// usage outbox's connection string comes from KOOGALLERY_DATABASE_URL or a
// file, never from a flag.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/root"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs kgctl with args and the given streams and returns the exit code:
// it builds the Factory and the root command, executes it, and prints the
// error, if any, with a usage hint for a usage error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := cmdutil.New()
	f.IOStreams = &cmdutil.IOStreams{In: stdin, Out: stdout, ErrOut: stderr}
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.Execute()
	code, usageHint := cmdutil.ExitCode(err)
	if err == nil {
		return code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "kgctl:", msg)
	}
	if usageHint {
		fmt.Fprintln(stderr, "Run 'kgctl --help' for usage.")
	}
	return code
}
