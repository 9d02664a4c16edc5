// Package verify holds kgctl verify: say whether a captured callback
// verifies, and which part fails if not.
package verify

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// VerifyOptions are kgctl verify's inputs.
type VerifyOptions struct {
	IO     *cmdutil.IOStreams // the capture is read from IO.In unless File is set
	Getenv func(string) string
	Now    func() time.Time // the default of --at

	Key      cmdutil.SecretFlags
	Family   string // "": detected
	File     string
	At       string
	Skew     time.Duration
	V1Window time.Duration
	JSON     bool
}

// NewCmdVerify returns kgctl verify; runF replaces the run function in
// tests (nil: verifyRun).
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "verify [--family F] < captured-request",
		Short: "Say whether a captured callback verifies, and which part fails if not",
		Long: `verify reads a callback as captured from an access log, a proxy or a queue, and answers "why did my
handler refuse KooGallery?": it checks each part the way the SDK's handlers do — the signature
parameters, the timestamp's form, the nonce's form, the freshness window, and the signature over each
form of the body KooGallery may have signed (as received, canonical, ...), naming the form that
matches or the mistake it matches (the wrong scheme, still-encoded V1 values, a trailing newline) —
and then runs the SDK's own handler on it and reports its answer.

The capture is HTTP/1.1 wire form:

  POST /isv/produce?signature=…&timestamp=…&nonce=… HTTP/1.1
  Host: seller.example.com
  Content-Type: application/json

  {"activity":"newInstance",…}

(the HTTP version may be missing; a URL may be absolute), or JSON
{"method":"POST","url":"https://…","headers":{"x-sign":"…"},"body":"…"}, which is also what
kgctl callback --json prints.

The window is judged at --at, the time the request was received (default now): pass it for an old
capture. The family is detected from the signature's place unless --family is given; the key is
read as for kgctl callback (KOOGALLERY_ACCESS_KEY, KOOGALLERY_V1_KEY, KOOGALLERY_KIT_KEY).`,
		Example: `  kgctl verify < request.txt
  kgctl verify --family kit --key-file kit.key --at 2026-11-27T08:30:00Z --file request.txt
  kgctl verify --json < request.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(opts)
		},
	}
	opts.Key.Register(cmd, "key", "key", "the family's environment variable")
	cmd.Flags().StringVar(&opts.Family, "family", "", "the family: "+family.Names()+" (default: detected)")
	cmd.Flags().StringVar(&opts.File, "file", "", "read the capture from this file instead of standard input")
	cmd.Flags().StringVar(&opts.At, "at", "", "when the request was received: RFC 3339 or Unix milliseconds (default now)")
	cmd.Flags().DurationVar(&opts.Skew, "skew", 5*time.Second, "clock-skew allowance on top of the 60 s window (the handlers' WithClockSkew)")
	cmd.Flags().DurationVar(&opts.V1Window, "v1-window", 24*time.Hour, "V1 freshness window (the handlers' WithV1Window)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

func verifyRun(opts *VerifyOptions) error {
	c, err := opts.capture()
	if err != nil {
		return err
	}
	var fam *family.Family
	if opts.Family != "" {
		fam, err = family.Lookup(opts.Family)
	} else {
		fam, err = detectFamily(c)
	}
	if err != nil {
		return err
	}
	k, err := opts.Key.Resolve(opts.Getenv, fam.Env)
	if err != nil {
		return err
	}
	when, err := opts.at()
	if err != nil {
		return err
	}
	v := &verifier{c: c, fam: fam, key: k, at: when, skew: opts.Skew, v1window: opts.V1Window}
	v.run()
	return report(opts.IO.Out, opts.JSON, v)
}

// capture reads the captured request from --file or standard input.
func (opts *VerifyOptions) capture() (*captured, error) {
	in := opts.IO.In
	if opts.File != "" {
		b, err := cmdutil.ReadArg("@" + opts.File)
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
	}
	return readCapture(in)
}

// at is --at, or now.
func (opts *VerifyOptions) at() (time.Time, error) {
	if opts.At != "" {
		return parseAt(opts.At)
	}
	if opts.Now != nil {
		return opts.Now(), nil
	}
	return time.Now(), nil
}

// report prints the checks, as text or JSON, and fails when the request
// does not verify.
func report(w io.Writer, asJSON bool, v *verifier) error {
	if asJSON {
		if err := cmdutil.WriteJSON(w, struct {
			Family   string           `json:"family"`
			Verifies bool             `json:"verifies"`
			Checks   []exchange.Check `json:"checks"`
		}{v.fam.Name, v.verifies(), v.checks}); err != nil {
			return cmdutil.RunErr(err)
		}
	} else {
		fmt.Fprintf(w, "kgctl verify: %s %s as %s (%s), judged at %s\n\n", v.c.Method, v.c.URL.Path, v.fam.Name, v.fam.Title, v.at.UTC().Format(time.RFC3339))
		exchange.PrintChecks(w, v.checks)
		if v.verifies() {
			fmt.Fprintln(w, "\nThe request verifies.")
		} else {
			fmt.Fprintln(w, "\nThe request does not verify.")
		}
	}
	if !v.verifies() {
		return cmdutil.ErrFailed
	}
	return nil
}
