package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/isvkit/koogallery/saas/usage"
)

// The cases of RunUsageOutbox that an operator's calls rely on: dead
// letters, statistics and deadlines at risk, purging.

func outboxDeadLetters(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "dead", 4)
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 10)
	raw := json.RawMessage(`{"metering_sn": "dead-00002",  "error_msg":"实例已冻结", "z":[1, 2.50]}`)
	died := outboxT0.Add(time.Second)
	outboxSettle(t, o, c.Token, usage.Settlement{Now: died, Sent: []string{es[0].Record.MeteringSN},
		Dead: []usage.DeadLetter{
			{Entry: es[2], Reason: "abnormal: 实例已冻结", Code: "MKT.9002", Raw: raw},
			{Entry: es[1], Reason: "refused: HTTP 500 MKT.9004", Code: "MKT.9004"},
		},
		Retry: []string{es[3].Record.MeteringSN}, RetryAt: died})
	dls, err := o.DeadLetters(context.Background(), "", 10)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(dls) != 2 || dls[0].Record.MeteringSN != es[1].Record.MeteringSN || dls[1].Record.MeteringSN != es[2].Record.MeteringSN {
		t.Fatalf("DeadLetters = %d entries (%v), want %s and %s in metering_sn order", len(dls), deadSNs(dls),
			es[1].Record.MeteringSN, es[2].Record.MeteringSN)
	}
	d := dls[1]
	if diff := outboxSame(d.Entry, es[2]); diff != "" {
		t.Fatalf("dead letter's entry: %s", diff)
	}
	if d.Reason != "abnormal: 实例已冻结" || d.Code != "MKT.9002" || !bytes.Equal(d.Raw, raw) || !d.Died.Equal(died) || d.Attempts != 1 {
		t.Fatalf("dead letter = {Reason:%q Code:%q Raw:%s Died:%v Attempts:%d}, want the settlement's, raw byte for byte, died %v",
			d.Reason, d.Code, d.Raw, d.Died, d.Attempts, died)
	}
	if len(dls[0].Raw) != 0 {
		t.Fatalf("a dead letter without a raw answer came back with %q", dls[0].Raw)
	}
	page, err := o.DeadLetters(context.Background(), es[1].Record.MeteringSN, 10)
	if err != nil || len(page) != 1 || page[0].Record.MeteringSN != es[2].Record.MeteringSN {
		t.Fatalf("DeadLetters after %s = %v, %v; want only %s", es[1].Record.MeteringSN, deadSNs(page), err, es[2].Record.MeteringSN)
	}
	if page, err := o.DeadLetters(context.Background(), "", 1); err != nil || len(page) != 1 {
		t.Fatalf("DeadLetters(max 1) = %v, %v", deadSNs(page), err)
	}
	// Requeue moves only dead letters.
	n, err := o.Requeue(context.Background(), died, []string{es[2].Record.MeteringSN, es[0].Record.MeteringSN, es[3].Record.MeteringSN, "no-such-sn"})
	if err != nil || n != 1 {
		t.Fatalf("Requeue(dead, sent, pending, unknown) = %d, %v; want 1", n, err)
	}
	c2 := outboxClaim(t, o, died, 10)
	if got := outboxSNs(c2.Entries); !slices.Equal(got, []string{es[2].Record.MeteringSN, es[3].Record.MeteringSN}) {
		t.Fatalf("after requeue, claimed %v; want the requeued and the retried entry, oldest first", got)
	}
	if st := outboxStats(t, o, died); st.Dead != 1 || st.Sent != 1 || st.Pending != 2 {
		t.Fatalf("after requeue: %+v", st)
	}
	// Discard deletes only dead letters; the metering_sn is then free.
	n, err = o.Discard(context.Background(), []string{es[1].Record.MeteringSN, es[2].Record.MeteringSN, es[0].Record.MeteringSN})
	if err != nil || n != 1 {
		t.Fatalf("Discard(dead, pending, sent) = %d, %v; want 1", n, err)
	}
	if dls, err := o.DeadLetters(context.Background(), "", 10); err != nil || len(dls) != 0 {
		t.Fatalf("after discard, DeadLetters = %v, %v", deadSNs(dls), err)
	}
	if st := outboxStats(t, o, died); st.Dead != 0 || st.Sent != 1 || st.Pending != 2 {
		t.Fatalf("after discard: %+v", st)
	}
	fixed := es[1]
	fixed.Record.UsageValue = usage.MustDecimal("7")
	outboxAdd(t, o, outboxEntryOf(t, fixed.Record, died, fixed.Deadline))
}

func deadSNs(dls []usage.DeadLetter) []string {
	out := make([]string, len(dls))
	for i := range dls {
		out[i] = dls[i].Record.MeteringSN
	}
	return out
}

func outboxStatsAtRisk(t *testing.T, o usage.Outbox) {
	if st := outboxStats(t, o, outboxT0); st != (usage.OutboxStats{}) {
		t.Fatalf("an empty outbox has stats %+v", st)
	}
	es := outboxEntries(t, "risk", 5)
	// Deadlines out of order: 4 is the earliest, then 2.
	es[4].Deadline = outboxT0.Add(time.Minute)
	es[2].Deadline = outboxT0.Add(2 * time.Minute)
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 2) // 0 and 1 leased
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Sent: []string{es[0].Record.MeteringSN}})
	st := outboxStats(t, o, outboxT0)
	want := usage.OutboxStats{Pending: 4, Leased: 1, Sent: 1, OldestPending: es[1].Recorded, NextDeadline: es[4].Deadline}
	if st.Pending != want.Pending || st.Leased != want.Leased || st.Sent != want.Sent || st.Dead != 0 ||
		!st.OldestPending.Equal(want.OldestPending.Truncate(time.Microsecond)) || !st.NextDeadline.Equal(want.NextDeadline.Truncate(time.Microsecond)) {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	risk, err := o.AtRisk(context.Background(), outboxT0.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatalf("AtRisk: %v", err)
	}
	if got := outboxSNs(risk); !slices.Equal(got, []string{es[4].Record.MeteringSN, es[2].Record.MeteringSN}) {
		t.Fatalf("AtRisk(deadline by +2m) = %v, want %s then %s (earliest deadline first)", got, es[4].Record.MeteringSN, es[2].Record.MeteringSN)
	}
	if diff := outboxSame(risk[0], es[4]); diff != "" {
		t.Fatalf("AtRisk entry: %s", diff)
	}
	all, err := o.AtRisk(context.Background(), outboxT0.Add(24*time.Hour), 10)
	if err != nil || len(all) != 4 {
		t.Fatalf("AtRisk(far) = %v, %v; want the 4 pending entries, the leased one included, the sent one not", outboxSNs(all), err)
	}
	if some, err := o.AtRisk(context.Background(), outboxT0.Add(24*time.Hour), 3); err != nil || len(some) != 3 {
		t.Fatalf("AtRisk(max 3) = %v, %v", outboxSNs(some), err)
	}
}

func outboxPurge(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "purge", 3)
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 10)
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Sent: []string{es[0].Record.MeteringSN}})
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0.Add(time.Hour), Sent: []string{es[1].Record.MeteringSN},
		Dead: []usage.DeadLetter{{Entry: es[2], Reason: "kept"}}})
	n, err := o.Purge(context.Background(), outboxT0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1 (the entry sent before the cut)", n, err)
	}
	if st := outboxStats(t, o, outboxT0); st.Sent != 1 || st.Dead != 1 {
		t.Fatalf("after purge: %+v; want 1 sent and the dead letter kept", st)
	}
	again := func(e usage.Entry) usage.Entry {
		e.Record.UsageValue = usage.MustDecimal("42")
		return outboxEntryOf(t, e.Record, e.Recorded, e.Deadline)
	}
	outboxAdd(t, o, again(es[0])) // purged: its metering_sn is free again
	if err := o.Add(context.Background(), []usage.Entry{again(es[1])}); !errors.Is(err, usage.ErrConflict) {
		t.Fatalf("a sent entry not yet purged, re-added with other content: %v, want ErrConflict", err)
	}
}
