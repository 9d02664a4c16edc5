// Package probe holds kgctl probe: run against a seller's production
// interface what KooGallery's probing and interface debugging run, and what
// production does.
package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// ProbeOptions are kgctl probe's inputs.
type ProbeOptions struct {
	IO         *cmdutil.IOStreams
	Getenv     func(string) string
	Now        func() time.Time // the generated fields' clock
	Ctx        context.Context
	HTTPClient *http.Client // nil: see exchange.NewTarget

	Call       exchange.CallFlags
	Family     string
	Skip       []string
	Concurrent int
}

// NewCmdProbe returns kgctl probe; runF replaces the run function in tests
// (nil: probeRun).
func NewCmdProbe(f *cmdutil.Factory, runF func(*ProbeOptions) error) *cobra.Command {
	opts := &ProbeOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "probe --family FAMILY --url URL",
		Short: "Run what KooGallery's probing and interface debugging run, and what production does",
		Long: `probe runs locally what KooGallery runs against a product on sale: the automatic probing
(twice a day; five failing days in a row freeze trading) and the seller console's interface
debugging send the testFlag=1 call of every activity of the family. probe adds what production
does: the same newInstance retried and duplicated (the same instanceId must come back), concurrent
duplicates, idempotent repeats, and forged, stale, tampered, unsigned and replayed calls, each of
which must be refused with 000001. Every answer is checked as KooGallery reads it (HTTP 200, a
documented resultCode, V1 Body-Sign and decryptable credentials) and timed against KooGallery's
timeout.

It prints a PASS or FAIL line per check with the reason and a fix, and exits 1 when any check
fails, so it can run in CI (--json for machines). The calls carry testFlag=1 and made-up IDs;
point it at a test deployment or make sure testFlag=1 calls touch no real data.

Families: saas, saas-v1, kit, kit-v1, license, order (see kgctl callback --help).`,
		Example: `  export KOOGALLERY_ACCESS_KEY=...   # 卖家中心 › 应用工具 › 密钥管理
  kgctl probe --family saas --url https://seller.example.com/isv/produce
  kgctl probe --family saas-v1 --url https://seller.example.com/isv/v1 --key-file v1.key --skip upgrade
  kgctl probe --family order --url https://seller.example.com/isv/order --json > probe.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return probeRun(opts)
		},
	}
	opts.Call.Register(cmd)
	cmd.Flags().StringVar(&opts.Family, "family", "", "the family to probe: "+family.Names())
	cmd.Flags().StringSliceVar(&opts.Skip, "skip", nil, "activities your product does not use (e.g. upgrade,instanceStatus)")
	cmd.Flags().IntVar(&opts.Concurrent, "concurrent", 5, "how many concurrent duplicates to send")
	return cmd
}

func probeRun(opts *ProbeOptions) error {
	if opts.Family == "" {
		return cmdutil.UsageErr("--family is required (one of %s)", family.Names())
	}
	fam, err := family.Lookup(opts.Family)
	if err != nil {
		return err
	}
	skipped, err := skipSet(fam, opts.Skip)
	if err != nil {
		return err
	}
	if opts.Concurrent < 2 {
		return cmdutil.UsageErr("--concurrent must be at least 2")
	}
	t, err := opts.Call.Target(fam, opts.Getenv, opts.HTTPClient)
	if err != nil {
		return err
	}
	p := &prober{t: t, ctx: opts.Ctx, now: opts.Now, id: family.NewIDs(), skip: skipped, dups: opts.Concurrent}
	if p.ctx == nil {
		p.ctx = context.Background()
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.run()
	return report(opts.IO.Out, opts.Call.JSON, t, p.checks)
}

// skipSet reads --skip: activities, each flag value a comma-separated list.
func skipSet(fam *family.Family, skip []string) (map[string]bool, error) {
	skipped := map[string]bool{}
	for _, s := range skip {
		for _, a := range strings.Split(s, ",") {
			act, err := fam.Activity(strings.TrimSpace(a))
			if err != nil {
				return nil, err
			}
			skipped[act] = true
		}
	}
	return skipped, nil
}

// report prints the checks, as text or JSON, and fails when one failed.
func report(w io.Writer, asJSON bool, t *exchange.Target, checks []exchange.Check) error {
	failed := 0
	for _, c := range checks {
		if !c.Pass && !c.Skipped {
			failed++
		}
	}
	if asJSON {
		if err := cmdutil.WriteJSON(w, struct {
			Family    string           `json:"family"`
			URL       string           `json:"url"`
			TimeoutMS int64            `json:"timeoutMs"`
			Passed    bool             `json:"passed"`
			Failed    int              `json:"failed"`
			Checks    []exchange.Check `json:"checks"`
		}{t.Fam.Name, t.URL, t.Timeout.Milliseconds(), failed == 0, failed, checks}); err != nil {
			return cmdutil.RunErr(err)
		}
	} else {
		fmt.Fprintf(w, "kgctl probe: %s (%s) at %s; KooGallery waits %v\n\n", t.Fam.Name, t.Fam.Title, t.URL, t.Timeout)
		exchange.PrintChecks(w, checks)
		passed, skippedN := 0, 0
		for _, c := range checks {
			switch {
			case c.Skipped:
				skippedN++
			case c.Pass:
				passed++
			}
		}
		fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", passed, failed, skippedN)
	}
	if failed > 0 {
		return cmdutil.ErrFailed
	}
	return nil
}
