package usage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// changeChunk bounds the metering_sns of one Requeue or Discard, and the
// dead letters read per page for --all-dead.
const changeChunk = 1000

// ChangeOptions are the inputs of kgctl usage requeue and kgctl usage
// discard, which change dead letters.
type ChangeOptions struct {
	IO     *cmdutil.IOStreams
	Getenv func(string) string
	Now    func() time.Time
	Ctx    context.Context

	Discard     bool // discard (delete) instead of requeue
	DB          DBFlags
	MeteringSNs []string
	AllDead     bool // every dead letter, instead of MeteringSNs
	Yes         bool // do not ask
}

// verb returns "requeue" or "discard".
func (o *ChangeOptions) verb() string {
	if o.Discard {
		return "discard"
	}
	return "requeue"
}

// NewCmdRequeue returns kgctl usage requeue; runF replaces the run
// function in tests (nil: changeRun).
func NewCmdRequeue(f *cmdutil.Factory, runF func(*ChangeOptions) error) *cobra.Command {
	return newCmdChange(f, runF, false, &cobra.Command{
		Use:   "requeue {METERING_SN... | --all-dead}",
		Short: "Make dead letters pending again, to be sent to KooGallery at once",
		Long: `requeue makes dead letters pending again, due at once: the next Meter to drain the outbox sends
them to KooGallery again, with the same metering_sn (KooGallery's idempotency key, so nothing is
billed twice). Requeue once the cause of the refusal is fixed (the product's usage items, the
instance); a record that was itself wrong is refused again: record the corrected one under a new
metering_sn and discard the dead one. Records that are not dead letters (pending, sent, or unknown)
are left as they are, and counted.

It asks for confirmation on a terminal; --yes confirms in advance, and is required when standard
input is not a terminal (a script). It exits 1 when a named metering_sn was not a dead letter, or
when the confirmation was declined.

` + connHelp,
		Example: `  export KOOGALLERY_DATABASE_URL=postgres://billing:secret@db.internal:5432/seller
  kgctl usage requeue 2026112708-i-42 2026112709-i-42
  kgctl usage requeue --all-dead --yes
  kgctl usage dead --json | jq -r '.deadLetters[] | select(.code == "MKT.0999") | .meteringSn' | xargs kgctl usage requeue --yes`,
	})
}

// NewCmdDiscard returns kgctl usage discard; runF replaces the run
// function in tests (nil: changeRun).
func NewCmdDiscard(f *cmdutil.Factory, runF func(*ChangeOptions) error) *cobra.Command {
	return newCmdChange(f, runF, true, &cobra.Command{
		Use:   "discard {METERING_SN... | --all-dead}",
		Short: "Delete dead letters the seller has dealt with: they are never billed",
		Long: `discard deletes dead letters from the outbox, for good: KooGallery never bills them. Discard a dead
letter once it is dealt with: its usage recorded again, corrected, under a new metering_sn, or
known not to be billable. Records that are not dead letters (pending, sent, or unknown) are left
as they are, and counted.

It asks for confirmation on a terminal; --yes confirms in advance, and is required when standard
input is not a terminal (a script). It exits 1 when a named metering_sn was not a dead letter, or
when the confirmation was declined.

` + connHelp,
		Example: `  export KOOGALLERY_DATABASE_URL=postgres://billing:secret@db.internal:5432/seller
  kgctl usage discard 2026112708-i-42
  kgctl usage dead --json | jq -r '.deadLetters[] | select(.code == "MKT.9004") | .meteringSn' | xargs kgctl usage discard --yes`,
	})
}

func newCmdChange(f *cmdutil.Factory, runF func(*ChangeOptions) error, discard bool, cmd *cobra.Command) *cobra.Command {
	opts := &ChangeOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now, Discard: discard}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Ctx, opts.MeteringSNs = cmd.Context(), args
		if runF != nil {
			return runF(opts)
		}
		return changeRun(opts)
	}
	opts.DB.Register(cmd)
	cmd.Flags().BoolVar(&opts.AllDead, "all-dead", false, "every dead letter in the outbox")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	return cmd
}

func changeRun(opts *ChangeOptions) error {
	verb := opts.verb()
	switch {
	case opts.AllDead && len(opts.MeteringSNs) > 0:
		return cmdutil.UsageErr("%s takes METERING_SNs or --all-dead, not both", verb)
	case !opts.AllDead && len(opts.MeteringSNs) == 0:
		return cmdutil.UsageErr("%s takes the METERING_SNs of dead letters (kgctl usage dead lists them), or --all-dead", verb)
	case !opts.Yes && !opts.IO.IsStdinTTY():
		return cmdutil.UsageErr("%s changes the outbox: pass --yes to confirm (standard input is not a terminal to ask on)", verb)
	}
	sns := dedupe(opts.MeteringSNs)
	for _, sn := range sns {
		if strings.TrimSpace(sn) == "" {
			return cmdutil.UsageErr("%s: an empty METERING_SN", verb)
		}
	}

	ctx := ctxOr(opts.Ctx)
	ob, err := opts.DB.open(ctx, opts.Getenv)
	if err != nil {
		return err
	}
	defer ob.Close()

	if opts.AllDead {
		if sns, err = allDead(ctx, ob); err != nil {
			return err
		}
		if len(sns) == 0 {
			fmt.Fprintf(opts.IO.Out, "No dead letters in %s: nothing to %s.\n", ob.table, verb)
			return nil
		}
	}
	if !opts.Yes {
		ok, err := opts.IO.Confirm(question(opts, ob.table, sns))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.FailedErr(fmt.Errorf("not confirmed: nothing was %sed", strings.TrimSuffix(verb, "e")))
		}
	}

	done := 0
	for i := 0; i < len(sns); i += changeChunk {
		chunk := sns[i:min(i+changeChunk, len(sns))]
		var n int
		if opts.Discard {
			n, err = ob.UsageOutbox.Discard(ctx, chunk)
		} else {
			n, err = ob.Requeue(ctx, nowFunc(opts.Now)().UTC(), chunk)
		}
		if err != nil {
			if done > 0 {
				fmt.Fprintf(opts.IO.Out, "%s before the error.\n", doneText(opts.Discard, done))
			}
			return ob.fail(verb, err)
		}
		done += n
	}
	fmt.Fprintf(opts.IO.Out, "%s.\n", doneText(opts.Discard, done))
	if skipped := len(sns) - done; skipped > 0 {
		if opts.AllDead {
			fmt.Fprintf(opts.IO.Out, "%s changed meanwhile (requeued or discarded by someone else).\n", plural(skipped, "dead letter", "dead letters"))
			return nil
		}
		fmt.Fprintf(opts.IO.Out, "%s of %d named %s not a dead letter (pending, sent, or unknown): left as %s.\n",
			plural(skipped, "metering_sn", "metering_sns"), len(sns), isAre(skipped), itThey(skipped))
		return cmdutil.ErrFailed
	}
	return nil
}

func doneText(discard bool, n int) string {
	if discard {
		return "Discarded " + plural(n, "dead letter", "dead letters") + " (deleted; never billed)"
	}
	return "Requeued " + plural(n, "dead letter", "dead letters") + " (pending, due at once)"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThey(n int) string {
	if n == 1 {
		return "it was"
	}
	return "they were"
}

// question is the confirmation asked before changing sns.
func question(opts *ChangeOptions, table string, sns []string) string {
	var b strings.Builder
	if opts.Discard {
		b.WriteString("Discard ")
	} else {
		b.WriteString("Requeue ")
	}
	if opts.AllDead {
		b.WriteString("all ")
	}
	b.WriteString(plural(len(sns), "dead letter", "dead letters"))
	const show = 5
	shown := make([]string, 0, show)
	for _, sn := range sns[:min(show, len(sns))] {
		shown = append(shown, safe(sn, 64))
	}
	b.WriteString(" (" + strings.Join(shown, ", "))
	if len(sns) > show {
		fmt.Fprintf(&b, " and %d more", len(sns)-show)
	}
	b.WriteString(") in " + table + "?")
	if opts.Discard {
		b.WriteString(" They are deleted, and never billed.")
	} else {
		b.WriteString(" They will be sent to KooGallery again.")
	}
	return b.String()
}

// allDead returns the metering_sns of every dead letter.
func allDead(ctx context.Context, ob *outbox) ([]string, error) {
	var sns []string
	after := ""
	for {
		page, err := ob.DeadLetters(ctx, after, changeChunk)
		if err != nil {
			return nil, ob.fail("read the dead letters", err)
		}
		for _, d := range page {
			sns = append(sns, d.Record.MeteringSN)
		}
		if len(page) < changeChunk {
			return sns, nil
		}
		after = page[len(page)-1].Record.MeteringSN
		if err := ctx.Err(); err != nil {
			return nil, cmdutil.RunErr(errors.Join(errors.New("read the dead letters"), err))
		}
	}
}

// dedupe returns sns without repeats, in their first order.
func dedupe(sns []string) []string {
	seen := make(map[string]bool, len(sns))
	out := make([]string, 0, len(sns))
	for _, sn := range sns {
		if !seen[sn] {
			seen[sn] = true
			out = append(out, sn)
		}
	}
	return out
}
