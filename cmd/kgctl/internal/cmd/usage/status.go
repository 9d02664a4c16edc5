package usage

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// riskCap bounds the pending records status reads to count those at risk
// and past their deadline; beyond it, the counts say "at least".
const riskCap = 10000

// showRisky is how many of the records at risk status lists.
const showRisky = 10

// StatusOptions are kgctl usage status's inputs.
type StatusOptions struct {
	IO     *cmdutil.IOStreams
	Getenv func(string) string
	Now    func() time.Time
	Ctx    context.Context

	DB     DBFlags
	Within time.Duration // a record is at risk when its deadline is this close
	JSON   bool
}

// NewCmdStatus returns kgctl usage status; runF replaces the run function
// in tests (nil: statusRun).
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Count the outbox's records and check their billing deadlines (an alert check)",
		Long: `status counts the usage outbox's records: pending (with those a pusher holds, leased), sent (not yet
purged) and dead (see kgctl usage dead), says how long the oldest pending record has waited, and
checks the pending records' billing deadlines (usage.Deadline: two hours after the metered hour for
hourly items, 01:00 of the next day for daily ones, and 21 days after the window's start in any
case): how many are past their deadline, and how many are at risk, within --within of it. It lists
the ten with the earliest deadlines. --json prints the same for machines.

It exits 1 when a pending record is past its billing deadline or at risk, so that it can be an
alert check (a cron job, a Nagios or Kubernetes probe); dead letters alone do not fail it.
Counts of records at risk stop at 10000 ("at least" in the table, countsCapped in JSON).

` + connHelp,
		Example: `  export KOOGALLERY_DATABASE_URL=postgres://billing:secret@db.internal:5432/seller
  kgctl usage status
  kgctl usage status --within 30m --json
  kgctl usage status --database-url-file /run/secrets/billing-db --table billing.usage_outbox || page-oncall`,
		Args: cmdutil.ExactArgs(0, "usage status takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
	opts.DB.Register(cmd)
	cmd.Flags().DurationVar(&opts.Within, "within", time.Hour, "a pending record is at risk when its billing deadline is this close")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the status as JSON")
	return cmd
}

// statusReport is what status prints, and its JSON.
type statusReport struct {
	Table         string     `json:"table"`
	Now           time.Time  `json:"now"`
	Pending       int        `json:"pending"`
	Leased        int        `json:"leased"`
	Sent          int        `json:"sent"`
	Dead          int        `json:"dead"`
	OldestPending *time.Time `json:"oldestPending,omitempty"`
	// OldestPendingAgeSeconds is how long the oldest pending record has
	// waited, in whole seconds.
	OldestPendingAgeSeconds *int64     `json:"oldestPendingAgeSeconds,omitempty"`
	NextDeadline            *time.Time `json:"nextDeadline,omitempty"`
	WithinSeconds           int64      `json:"withinSeconds"`
	// AtRisk counts the pending records whose deadline is ahead, within
	// Within; PastDeadline those whose deadline has passed.
	AtRisk       int          `json:"atRisk"`
	PastDeadline int          `json:"pastDeadline"`
	CountsCapped bool         `json:"countsCapped,omitempty"`
	Earliest     []riskyEntry `json:"earliest"`
	OK           bool         `json:"ok"`
}

// riskyEntry is a pending record at risk or past its deadline.
type riskyEntry struct {
	MeteringSN string    `json:"meteringSn"`
	InstanceID string    `json:"instanceId"`
	Deadline   time.Time `json:"deadline"`
	Recorded   time.Time `json:"recorded"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lastError,omitempty"`
}

func statusRun(opts *StatusOptions) error {
	if opts.Within <= 0 {
		return cmdutil.UsageErr("--within %v: want a positive duration such as 1h or 30m", opts.Within)
	}
	ctx := ctxOr(opts.Ctx)
	ob, err := opts.DB.open(ctx, opts.Getenv)
	if err != nil {
		return err
	}
	defer ob.Close()

	now := nowFunc(opts.Now)().UTC()
	st, err := ob.Stats(ctx, now)
	if err != nil {
		return ob.fail("read the outbox's counts", err)
	}
	risky, err := ob.AtRisk(ctx, now.Add(opts.Within), riskCap+1)
	if err != nil {
		return ob.fail("read the records at risk", err)
	}
	r := statusReport{
		Table: ob.table, Now: now,
		Pending: st.Pending, Leased: st.Leased, Sent: st.Sent, Dead: st.Dead,
		WithinSeconds: int64(opts.Within / time.Second),
		Earliest:      []riskyEntry{},
	}
	if !st.OldestPending.IsZero() {
		t := st.OldestPending.UTC()
		age := int64(now.Sub(t) / time.Second)
		r.OldestPending, r.OldestPendingAgeSeconds = &t, &age
	}
	if !st.NextDeadline.IsZero() {
		t := st.NextDeadline.UTC()
		r.NextDeadline = &t
	}
	if len(risky) > riskCap {
		risky, r.CountsCapped = risky[:riskCap], true
	}
	for i, e := range risky {
		if e.Deadline.After(now) {
			r.AtRisk++
		} else {
			r.PastDeadline++
		}
		if i < showRisky {
			r.Earliest = append(r.Earliest, riskyEntry{
				MeteringSN: e.Record.MeteringSN, InstanceID: e.Record.InstanceID,
				Deadline: e.Deadline.UTC(), Recorded: e.Recorded.UTC(),
				Attempts: e.Attempts, LastError: e.LastError,
			})
		}
	}
	r.OK = r.AtRisk == 0 && r.PastDeadline == 0

	if opts.JSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, r); err != nil {
			return cmdutil.RunErr(err)
		}
	} else {
		printStatus(opts.IO.Out, &r, opts.Within)
	}
	if !r.OK {
		return cmdutil.ErrFailed
	}
	return nil
}

func printStatus(w io.Writer, r *statusReport, within time.Duration) {
	atLeast := ""
	if r.CountsCapped {
		atLeast = "at least "
	}
	fmt.Fprintf(w, "Usage outbox %s at %s\n", r.Table, fmtTime(r.Now))
	var rows [][3]string
	pending := [3]string{"pending", fmt.Sprint(r.Pending)}
	if r.Leased > 0 {
		pending[2] = fmt.Sprintf("(%d leased by a pusher)", r.Leased)
	}
	rows = append(rows, pending)
	if r.OldestPending != nil {
		rows = append(rows, [3]string{"oldest pending", fmtDuration(time.Duration(*r.OldestPendingAgeSeconds)*time.Second) + " ago", "(recorded " + fmtTime(*r.OldestPending) + ")"})
	}
	if r.NextDeadline != nil {
		rel := "in " + fmtDuration(r.NextDeadline.Sub(r.Now))
		if !r.NextDeadline.After(r.Now) {
			rel = fmtDuration(r.Now.Sub(*r.NextDeadline)) + " ago"
		}
		rows = append(rows, [3]string{"next deadline", rel, "(" + fmtTime(*r.NextDeadline) + ")"})
	}
	rows = append(rows,
		[3]string{"past deadline", atLeast + fmt.Sprint(r.PastDeadline)},
		[3]string{"at risk", atLeast + fmt.Sprint(r.AtRisk), "(deadline within " + fmtDuration(within) + ")"},
		[3]string{"sent", fmt.Sprint(r.Sent), "(not yet purged)"},
	)
	dead := [3]string{"dead", fmt.Sprint(r.Dead)}
	if r.Dead > 0 {
		dead[2] = "(kgctl usage dead lists them)"
	}
	rows = append(rows, dead)
	var width [2]int
	for _, row := range rows {
		width[0], width[1] = max(width[0], len(row[0])), max(width[1], len(row[1]))
	}
	for _, row := range rows {
		line := fmt.Sprintf("  %-*s  %-*s  %s", width[0], row[0], width[1], row[1], row[2])
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}

	if len(r.Earliest) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Earliest deadlines:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  METERING_SN\tINSTANCE\tDEADLINE\tLEFT\tATTEMPTS\tLAST ERROR")
		for _, e := range r.Earliest {
			left := fmtDuration(e.Deadline.Sub(r.Now))
			if !e.Deadline.After(r.Now) {
				left = "passed " + left + " ago"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", safe(e.MeteringSN, 64), safe(or(e.InstanceID), 64), fmtTime(e.Deadline), left, e.Attempts, safe(or(e.LastError), 60))
		}
		tw.Flush()
		if n := r.AtRisk + r.PastDeadline; n > len(r.Earliest) {
			fmt.Fprintf(w, "  … and %s%d more\n", atLeast, n-len(r.Earliest))
		}
	}
	fmt.Fprintln(w)
	switch {
	case r.OK:
		fmt.Fprintf(w, "OK: no pending record is past its billing deadline or within %s of it\n", fmtDuration(within))
	default:
		fmt.Fprintf(w, "FAIL: %s%s past the billing deadline, %s%s within %s of it; is the Meter running and KooGallery reachable? (exit 1)\n",
			atLeast, plural(r.PastDeadline, "pending record", "pending records"), atLeast, plural(r.AtRisk, "record", "records"), fmtDuration(within))
	}
}
