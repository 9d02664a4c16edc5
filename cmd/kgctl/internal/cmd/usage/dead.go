package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	saasusage "github.com/isvkit/koogallery/saas/usage"
)

// maxLimit bounds --limit of kgctl usage dead.
const maxLimit = 10000

// DeadOptions are kgctl usage dead's inputs.
type DeadOptions struct {
	IO     *cmdutil.IOStreams
	Getenv func(string) string
	Ctx    context.Context

	DB    DBFlags
	After string // list the dead letters whose metering_sn sorts after this
	Limit int
	JSON  bool
}

// NewCmdDead returns kgctl usage dead; runF replaces the run function in
// tests (nil: deadRun).
func NewCmdDead(f *cmdutil.Factory, runF func(*DeadOptions) error) *cobra.Command {
	opts := &DeadOptions{IO: f.IOStreams, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "dead",
		Short: "List the dead letters: the records KooGallery refused, with its reason, code and answer",
		Long: `dead lists the usage outbox's dead letters, in metering_sn order: the records KooGallery refused for
good (a validation code such as MKT.9004, a begin_time older than 21 days) or reported abnormal, with
its reason, its code and its answer as received. The table shows the answer compacted, with control
characters escaped and cut at 80 characters; --json prints it whole, with the record.

A page holds --limit dead letters; when more follow, kgctl says so on standard error, with the
--after to pass for the next page (in JSON: "more" and "next").

Then: fix the cause and send them again with kgctl usage requeue; or, for a record that was wrong,
record the corrected one under a new metering_sn and delete the dead one with kgctl usage discard.

` + connHelp,
		Example: `  export KOOGALLERY_DATABASE_URL=postgres://billing:secret@db.internal:5432/seller
  kgctl usage dead
  kgctl usage dead --after 2026112708-i-42 --limit 100
  kgctl usage dead --json | jq -r '.deadLetters[] | select(.code == "MKT.9004") | .meteringSn'`,
		Args: cmdutil.ExactArgs(0, "usage dead takes no arguments (--after SN pages on)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return deadRun(opts)
		},
	}
	opts.DB.Register(cmd)
	cmd.Flags().StringVar(&opts.After, "after", "", "list the dead letters whose metering_sn sorts after this one (the next page)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 50, fmt.Sprintf("list at most this many (1 to %d)", maxLimit))
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the dead letters as JSON, with KooGallery's answers whole")
	return cmd
}

// deadList is kgctl usage dead's JSON.
type deadList struct {
	Table       string       `json:"table"`
	DeadLetters []deadLetter `json:"deadLetters"`
	// More says that more dead letters follow: pass Next as --after.
	More bool   `json:"more"`
	Next string `json:"next,omitempty"`
}

// deadLetter is a dead letter in JSON.
type deadLetter struct {
	MeteringSN string    `json:"meteringSn"`
	Died       time.Time `json:"died"`
	Reason     string    `json:"reason"`
	Code       string    `json:"code"`
	// Raw is KooGallery's answer as received, when it is JSON; RawText
	// holds it otherwise.
	Raw       json.RawMessage `json:"raw,omitempty"`
	RawText   string          `json:"rawText,omitempty"`
	Record    json.RawMessage `json:"record"`
	Deadline  time.Time       `json:"deadline"`
	Recorded  time.Time       `json:"recorded"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"lastError,omitempty"`
}

func deadRun(opts *DeadOptions) error {
	if opts.Limit < 1 || opts.Limit > maxLimit {
		return cmdutil.UsageErr("--limit %d: want 1 to %d", opts.Limit, maxLimit)
	}
	ctx := ctxOr(opts.Ctx)
	ob, err := opts.DB.open(ctx, opts.Getenv)
	if err != nil {
		return err
	}
	defer ob.Close()

	dls, err := ob.DeadLetters(ctx, opts.After, opts.Limit+1)
	if err != nil {
		return ob.fail("read the dead letters", err)
	}
	list := deadList{Table: ob.table, DeadLetters: make([]deadLetter, 0, len(dls))}
	if len(dls) > opts.Limit {
		dls, list.More = dls[:opts.Limit], true
		list.Next = dls[len(dls)-1].Record.MeteringSN
	}
	for _, d := range dls {
		list.DeadLetters = append(list.DeadLetters, toJSON(d))
	}
	if opts.JSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, list); err != nil {
			return cmdutil.RunErr(err)
		}
		return nil
	}
	if len(dls) == 0 {
		if opts.After != "" {
			fmt.Fprintf(opts.IO.ErrOut, "No dead letters after %s in %s.\n", safe(opts.After, 64), ob.table)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "No dead letters in %s.\n", ob.table)
		}
		return nil
	}
	printDead(opts.IO.Out, dls)
	if list.More {
		fmt.Fprintf(opts.IO.ErrOut, "More dead letters follow: kgctl usage dead --after %s\n", shellQuote(list.Next))
	}
	return nil
}

func toJSON(d saasusage.DeadLetter) deadLetter {
	j := deadLetter{
		MeteringSN: d.Record.MeteringSN, Died: d.Died.UTC(), Reason: d.Reason, Code: d.Code,
		Record: d.Payload, Deadline: d.Deadline.UTC(), Recorded: d.Recorded.UTC(),
		Attempts: d.Attempts, LastError: d.LastError,
	}
	if len(d.Raw) > 0 {
		if json.Valid(d.Raw) {
			j.Raw = d.Raw
		} else {
			j.RawText = strings.ToValidUTF8(string(d.Raw), "\uFFFD")
		}
	}
	if !json.Valid(j.Record) {
		j.Record = nil
	}
	return j
}

func printDead(w io.Writer, dls []saasusage.DeadLetter) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METERING_SN\tINSTANCE\tDIED\tCODE\tREASON\tANSWER")
	for _, d := range dls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", safe(d.Record.MeteringSN, 64), safe(or(d.Record.InstanceID), 64), fmtTime(d.Died),
			safe(or(d.Code), 24), safe(or(d.Reason), 60), safe(or(compact(d.Raw)), 80))
	}
	tw.Flush()
}

// compact returns raw without the insignificant spaces of JSON, or as it
// is when it is not JSON.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err == nil {
		return b.String()
	}
	return string(raw)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(safe(s, 0), "'", `'\''`) + "'"
}
