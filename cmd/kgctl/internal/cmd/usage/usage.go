// Package usage holds kgctl usage: the operator's console of the
// PostgreSQL usage outbox (store/pgstore's UsageOutbox) that usage.Meter
// pushes from: its status as an alert check, its dead letters, and
// requeueing or discarding them.
package usage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// connHelp ends the long help of every usage command.
const connHelp = `The outbox's database is the seller server's: the connection string (postgres://user:password@host:5432/db,
or keyword/value pairs) comes from KOOGALLERY_DATABASE_URL or --database-url-file, never from the command line,
where every user of the machine could read the password; it is never printed, nor quoted in an error. --table
names the outbox's table when the seller server gives pgstore.WithUsageTable another than koogallery_usage_outbox.`

// NewCmdUsage returns kgctl usage and its commands.
func NewCmdUsage(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Operate the PostgreSQL usage outbox: status, dead letters, requeue, discard",
		Long: `usage is the operator's console of the PostgreSQL usage outbox that usage.Meter pushes pay-per-use
records from (store/pgstore's UsageOutbox): how many records are pending, sent and dead, and how close
the pending ones are to their billing deadline (status, an alert check), what KooGallery refused and why
(dead), and sending dead letters again (requeue) or deleting them once dealt with (discard).

` + connHelp,
		Example: `  export KOOGALLERY_DATABASE_URL=postgres://billing:secret@db.internal:5432/seller
  kgctl usage status
  kgctl usage dead --limit 20
  kgctl usage requeue 2026112708-i-42`,
		Args: cmdutil.ExactArgs(0, "usage takes a command: status, dead, requeue or discard"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		NewCmdStatus(f, nil),
		NewCmdDead(f, nil),
		NewCmdRequeue(f, nil),
		NewCmdDiscard(f, nil),
	)
	return cmd
}

// ctxOr returns ctx, or the background context when it is nil.
func ctxOr(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// nowFunc returns now, or time.Now when it is nil.
func nowFunc(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fmtDuration writes d for people: whole minutes past an hour, whole
// seconds below ("2h5m", "1h", "4m30s", "10m", "12s").
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0 && sec > 0:
		return fmt.Sprintf("%dm%ds", m, sec)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", sec)
}

// safe makes s fit for a table cell on a terminal: control characters,
// escapes and invalid UTF-8 are written as Go escapes (\n, \x1b, \u200b),
// and a string longer than max runes is cut, ending in "…".
func safe(s string, max int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size <= 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == ' ' || (unicode.IsPrint(r) && r != '\\'):
			piece = string(r)
		case r == '\\':
			piece = `\\`
		default:
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
			if piece == string(r) { // printable to strconv but not to us
				piece = fmt.Sprintf(`\u%04x`, r)
			}
		}
		w := utf8.RuneCountInString(piece)
		if max > 0 && n+w > max-1 && i+size < len(s) {
			b.WriteString("…")
			return b.String()
		}
		b.WriteString(piece)
		n += w
		i += size
	}
	return b.String()
}

// or returns s, or "-" when it is empty.
func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural returns "1 record" or "2 records".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
