package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isvkit/koogallery/saas/usage"
)

// RunUsageOutbox checks an implementation of usage.Outbox against the
// contract in that interface's documentation, in parallel subtests: claims
// oldest first, atomic and idempotent Add with conflicts refused, leases
// that exclude other claimers until they run out, disjoint claims among
// concurrent claimers, renewal, settlement (sent even after the lease was
// lost; retry and dead only under the lease), dead letters with their
// reason and raw answer kept byte for byte, requeue and discard, stats,
// deadlines at risk, purge, context cancellation, and metering_sns and
// payloads of every kind.
//
// newOutbox is called once per subtest and must return an empty outbox
// that no other subtest shares (for a database, its own table or schema):
// a queue's claims see every entry in it. The suite passes its own times
// to the outbox and never waits for the wall clock, so an implementation
// must take "now" from its arguments, never from its own clock. Times are
// compared to the microsecond. Run it under -race.
//
//	func TestMyOutbox(t *testing.T) {
//		storetest.RunUsageOutbox(t, func(t *testing.T) usage.Outbox { return newMyOutbox(t) })
//	}
func RunUsageOutbox(t *testing.T, newOutbox func(t *testing.T) usage.Outbox) {
	t.Helper()
	t.Run("UsageOutbox", func(t *testing.T) {
		for _, tc := range outboxCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				o := newOutbox(t)
				if o == nil {
					t.Fatal("newOutbox returned nil")
				}
				tc.f(t, o)
			})
		}
	})
}

var outboxCases = []struct {
	name string
	f    func(t *testing.T, o usage.Outbox)
}{
	{"ClaimsOldestFirst", outboxClaimsOldestFirst},
	{"AddIsIdempotentAndAtomic", outboxAddIdempotentAtomic},
	{"LeaseExcludesOthersUntilItRunsOut", outboxLeaseExcludes},
	{"ConcurrentClaimsAreDisjoint", outboxConcurrentClaims},
	{"Renew", outboxRenew},
	{"SentEvenAfterTheLeaseWasLost", outboxSentAfterLeaseLost},
	{"RetryAndDeadNeedTheLease", outboxRetryDeadNeedLease},
	{"DeadLettersRequeueDiscard", outboxDeadLetters},
	{"StatsAndAtRisk", outboxStatsAtRisk},
	{"Purge", outboxPurge},
	{"ContextCancelled", outboxContextCancelled},
	{"EveryKindOfRecord", outboxEveryKind},
	{"Many", outboxMany},
}

// outboxT0 is the suite's "now". Outboxes take time from their arguments,
// so any date works, whatever the wall clock says.
var outboxT0 = time.Date(2031, 3, 14, 9, 26, 53, 589793000, time.UTC)

const outboxLease = time.Minute

// outboxEntry builds entry i of a test, recorded at outboxT0 + i ms.
func outboxEntry(t *testing.T, prefix string, i int) usage.Entry {
	t.Helper()
	begin := outboxT0.Truncate(time.Hour).Add(-time.Hour)
	r := usage.Record{
		InstanceID: fmt.Sprintf("instance-%d", i%5), MeteringSN: fmt.Sprintf("%s-%05d", prefix, i),
		RecordTime: begin.Add(time.Hour + time.Minute), BeginTime: begin, EndTime: begin.Add(time.Hour),
		UsageValue: usage.MustDecimal(fmt.Sprintf("%d.25", i+1)),
	}
	return outboxEntryOf(t, r, outboxT0.Add(time.Duration(i)*time.Millisecond), begin.Add(3*time.Hour+time.Duration(i)*time.Second))
}

func outboxEntryOf(t *testing.T, r usage.Record, recorded, deadline time.Time) usage.Entry {
	t.Helper()
	payload, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("encode record: %v", err)
	}
	return usage.Entry{Record: r, Payload: payload, Deadline: deadline, Recorded: recorded}
}

func outboxEntries(t *testing.T, prefix string, n int) []usage.Entry {
	t.Helper()
	out := make([]usage.Entry, n)
	for i := range out {
		out[i] = outboxEntry(t, prefix, i)
	}
	return out
}

func outboxAdd(t *testing.T, o usage.Outbox, entries ...usage.Entry) {
	t.Helper()
	if err := o.Add(context.Background(), entries); err != nil {
		t.Fatalf("Add(%d entries): %v", len(entries), err)
	}
}

func outboxClaim(t *testing.T, o usage.Outbox, now time.Time, max int) *usage.Claim {
	t.Helper()
	c, err := o.Claim(context.Background(), now, max, outboxLease)
	if err != nil {
		t.Fatalf("Claim(max %d): %v", max, err)
	}
	if c == nil {
		return &usage.Claim{}
	}
	if len(c.Entries) > max {
		t.Fatalf("Claim(max %d) returned %d entries", max, len(c.Entries))
	}
	if len(c.Entries) > 0 && (c.Token == "" || !c.Until.Equal(now.Add(outboxLease))) {
		t.Fatalf("Claim returned token %q until %v, want a token and until now+lease (%v)", c.Token, c.Until, now.Add(outboxLease))
	}
	return c
}

func outboxSettle(t *testing.T, o usage.Outbox, token string, s usage.Settlement) {
	t.Helper()
	if err := o.Settle(context.Background(), token, s); err != nil {
		t.Fatalf("Settle: %v", err)
	}
}

func outboxStats(t *testing.T, o usage.Outbox, now time.Time) usage.OutboxStats {
	t.Helper()
	st, err := o.Stats(context.Background(), now)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

func outboxSNs(entries []usage.Entry) []string {
	out := make([]string, len(entries))
	for i := range entries {
		out[i] = entries[i].Record.MeteringSN
	}
	return out
}

// outboxSame reports how got differs from the entry that was added, or "".
func outboxSame(got, want usage.Entry) string {
	gw, _ := json.Marshal(got.Record)
	ww, _ := json.Marshal(want.Record)
	switch {
	case !bytes.Equal(gw, ww):
		return fmt.Sprintf("record %s, want %s", gw, ww)
	case !bytes.Equal(got.Payload, want.Payload):
		return fmt.Sprintf("payload %s, want %s", got.Payload, want.Payload)
	case !got.Deadline.Truncate(time.Microsecond).Equal(want.Deadline.Truncate(time.Microsecond)):
		return fmt.Sprintf("deadline %v, want %v", got.Deadline, want.Deadline)
	case !got.Recorded.Truncate(time.Microsecond).Equal(want.Recorded.Truncate(time.Microsecond)):
		return fmt.Sprintf("recorded %v, want %v", got.Recorded, want.Recorded)
	}
	return ""
}

func outboxWantClaimed(t *testing.T, c *usage.Claim, want []usage.Entry, attempts int, why string) {
	t.Helper()
	if !slices.Equal(outboxSNs(c.Entries), outboxSNs(want)) {
		t.Fatalf("%s: claimed %v, want %v", why, outboxSNs(c.Entries), outboxSNs(want))
	}
	for i := range want {
		if d := outboxSame(c.Entries[i], want[i]); d != "" {
			t.Fatalf("%s: entry %s came back with %s", why, want[i].Record.MeteringSN, d)
		}
		if c.Entries[i].Attempts != attempts {
			t.Fatalf("%s: entry %s has %d attempts, want %d", why, want[i].Record.MeteringSN, c.Entries[i].Attempts, attempts)
		}
	}
}

func outboxClaimsOldestFirst(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "oldest", 7)
	outboxAdd(t, o, es[:4]...)
	outboxAdd(t, o, es[4:]...)
	c := outboxClaim(t, o, outboxT0, 3)
	outboxWantClaimed(t, c, es[:3], 1, "first claim")
	c2 := outboxClaim(t, o, outboxT0, 10)
	outboxWantClaimed(t, c2, es[3:], 1, "second claim")
	if c2.Token == c.Token {
		t.Fatalf("two claims share the token %q", c.Token)
	}
	if c3 := outboxClaim(t, o, outboxT0, 10); len(c3.Entries) != 0 {
		t.Fatalf("everything is leased, yet a claim returned %v", outboxSNs(c3.Entries))
	}
	outboxSettle(t, o, c2.Token, usage.Settlement{Now: outboxT0, Sent: outboxSNs(c2.Entries)})
	// Pending entries due later than now are not claimed.
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Retry: outboxSNs(c.Entries), RetryAt: outboxT0.Add(time.Hour), RetryError: "later"})
	if c4 := outboxClaim(t, o, outboxT0.Add(59*time.Minute), 10); len(c4.Entries) != 0 {
		t.Fatalf("entries due in an hour were claimed after 59 minutes: %v", outboxSNs(c4.Entries))
	}
	c5 := outboxClaim(t, o, outboxT0.Add(time.Hour), 10)
	outboxWantClaimed(t, c5, es[:3], 2, "claim once due")
	for _, e := range c5.Entries {
		if e.LastError != "later" {
			t.Fatalf("entry %s: LastError %q, want the retry's error", e.Record.MeteringSN, e.LastError)
		}
	}
}

func outboxAddIdempotentAtomic(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "add", 6)
	outboxAdd(t, o, es[0], es[1])
	outboxAdd(t, o, es[0], es[2]) // es[0] again, unchanged: a no-op
	if st := outboxStats(t, o, outboxT0); st.Pending != 3 {
		t.Fatalf("after adding an entry twice: %d pending, want 3", st.Pending)
	}
	changed := es[0]
	changed.Record.UsageValue = usage.MustDecimal("999")
	changed = outboxEntryOf(t, changed.Record, changed.Recorded, changed.Deadline)
	wantConflict := func(why string, entries ...usage.Entry) {
		t.Helper()
		err := o.Add(context.Background(), entries)
		if !errors.Is(err, usage.ErrConflict) {
			t.Fatalf("%s: Add = %v, want an error wrapping usage.ErrConflict", why, err)
		}
		if !strings.Contains(err.Error(), entries[len(entries)-1].Record.MeteringSN) {
			t.Fatalf("%s: the conflict error does not name the metering_sn: %v", why, err)
		}
	}
	wantConflict("the same metering_sn with other content", es[3], changed)
	wantConflict("one metering_sn twice in one call with different content", es[4], outboxEntryOf(t,
		usage.Record{InstanceID: "x", MeteringSN: es[4].Record.MeteringSN, RecordTime: outboxT0, BeginTime: outboxT0, EndTime: outboxT0, UsageValue: usage.MustDecimal("1")},
		outboxT0, outboxT0))
	if st := outboxStats(t, o, outboxT0); st.Pending != 3 {
		t.Fatalf("a conflicting Add stored something: %d pending, want 3", st.Pending)
	}
	// Conflicts are refused against sent and dead entries too.
	c := outboxClaim(t, o, outboxT0, 2)
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Sent: []string{es[0].Record.MeteringSN},
		Dead: []usage.DeadLetter{{Entry: es[1], Reason: "test"}}})
	wantConflict("a sent metering_sn with other content", changed)
	dead := es[1]
	dead.Record.InstanceID = "another"
	wantConflict("a dead metering_sn with other content", outboxEntryOf(t, dead.Record, dead.Recorded, dead.Deadline))
	outboxAdd(t, o, es[0], es[1]) // unchanged: still fine, and nothing moves
	if st := outboxStats(t, o, outboxT0); st.Pending != 1 || st.Sent != 1 || st.Dead != 1 {
		t.Fatalf("re-adding a sent and a dead entry changed them: %+v", st)
	}
	// One metering_sn twice in one call, unchanged, is stored once.
	outboxAdd(t, o, es[5], es[5])
	if st := outboxStats(t, o, outboxT0); st.Pending != 2 {
		t.Fatalf("an entry given twice in one Add: %d pending, want 2", st.Pending)
	}
}

func outboxLeaseExcludes(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "lease", 3)
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 10)
	outboxWantClaimed(t, c, es, 1, "first claim")
	if c2 := outboxClaim(t, o, outboxT0.Add(outboxLease-time.Millisecond), 10); len(c2.Entries) != 0 {
		t.Fatalf("a claim 1 ms before the lease ran out took %v", outboxSNs(c2.Entries))
	}
	if st := outboxStats(t, o, outboxT0.Add(time.Second)); st.Leased != 3 || st.Pending != 3 {
		t.Fatalf("while leased: %+v, want 3 pending, 3 leased", st)
	}
	c3 := outboxClaim(t, o, outboxT0.Add(outboxLease), 10)
	outboxWantClaimed(t, c3, es, 2, "claim when the lease ran out (a pusher died)")
	if c3.Token == c.Token {
		t.Fatal("the new claim reuses the dead claim's token")
	}
	if st := outboxStats(t, o, outboxT0.Add(outboxLease)); st.Leased != 3 {
		t.Fatalf("after the takeover: %d leased, want 3", st.Leased)
	}
	if st := outboxStats(t, o, outboxT0.Add(3*outboxLease)); st.Leased != 0 || st.Pending != 3 {
		t.Fatalf("once every lease ran out: %+v, want 3 pending, none leased", st)
	}
}

func outboxConcurrentClaims(t *testing.T, o usage.Outbox) {
	const n, workers = 600, 8
	es := outboxEntries(t, "storm", n)
	outboxAdd(t, o, es...)
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, workers)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				c, err := o.Claim(context.Background(), outboxT0, 7, outboxLease)
				if err != nil {
					errs <- err
					return
				}
				if c == nil || len(c.Entries) == 0 {
					return
				}
				mu.Lock()
				for _, e := range c.Entries {
					seen[e.Record.MeteringSN]++
				}
				mu.Unlock()
				if err := o.Settle(context.Background(), c.Token, usage.Settlement{Now: outboxT0, Sent: outboxSNs(c.Entries)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent claims: %v", err)
	}
	for _, e := range es {
		if k := seen[e.Record.MeteringSN]; k != 1 {
			t.Fatalf("%s was claimed %d times by %d concurrent claimers, want exactly once", e.Record.MeteringSN, k, workers)
		}
	}
	if st := outboxStats(t, o, outboxT0); st.Sent != n || st.Pending != 0 {
		t.Fatalf("after draining concurrently: %+v, want %d sent, none pending", st, n)
	}
}

func outboxRenew(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "renew", 2)
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 10)
	if err := o.Renew(context.Background(), c.Token, outboxT0.Add(5*time.Minute)); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if c2 := outboxClaim(t, o, outboxT0.Add(2*time.Minute), 10); len(c2.Entries) != 0 {
		t.Fatalf("a renewed lease was taken over before it ran out: %v", outboxSNs(c2.Entries))
	}
	c3 := outboxClaim(t, o, outboxT0.Add(5*time.Minute), 10)
	outboxWantClaimed(t, c3, es, 2, "claim when the renewed lease ran out")
	// Renewing a lost lease does not take the entries back.
	if err := o.Renew(context.Background(), c.Token, outboxT0.Add(time.Hour)); err != nil {
		t.Fatalf("Renew of a lost lease: %v", err)
	}
	if c4 := outboxClaim(t, o, outboxT0.Add(5*time.Minute+outboxLease), 10); len(c4.Entries) != 2 {
		t.Fatalf("renewing a lost lease kept the entries from the next claim: got %v", outboxSNs(c4.Entries))
	}
}

func outboxSentAfterLeaseLost(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "sent", 2)
	outboxAdd(t, o, es...)
	c1 := outboxClaim(t, o, outboxT0, 10)
	later := outboxT0.Add(outboxLease)
	c2 := outboxClaim(t, o, later, 10)
	outboxWantClaimed(t, c2, es, 2, "takeover")
	// The first pusher's push went through after all: its records are sent.
	outboxSettle(t, o, c1.Token, usage.Settlement{Now: later, Sent: outboxSNs(c1.Entries)})
	// The second holder's outcome cannot make them pending or dead again.
	outboxSettle(t, o, c2.Token, usage.Settlement{Now: later, Retry: []string{es[0].Record.MeteringSN}, RetryAt: later,
		Dead: []usage.DeadLetter{{Entry: es[1], Reason: "too late"}}})
	if st := outboxStats(t, o, later); st.Sent != 2 || st.Pending != 0 || st.Dead != 0 {
		t.Fatalf("records settled as sent by a lost lease: %+v, want 2 sent", st)
	}
}

func outboxRetryDeadNeedLease(t *testing.T, o usage.Outbox) {
	es := outboxEntries(t, "need", 2)
	outboxAdd(t, o, es...)
	c1 := outboxClaim(t, o, outboxT0, 10)
	later := outboxT0.Add(outboxLease)
	c2 := outboxClaim(t, o, later, 10)
	outboxSettle(t, o, c1.Token, usage.Settlement{Now: later, Retry: []string{es[0].Record.MeteringSN}, RetryAt: later,
		Dead: []usage.DeadLetter{{Entry: es[1], Reason: "stale"}}})
	if st := outboxStats(t, o, later); st.Dead != 0 || st.Leased != 2 {
		t.Fatalf("a lost lease's retry or dead letter applied: %+v, want 2 leased, none dead", st)
	}
	if c3 := outboxClaim(t, o, later, 10); len(c3.Entries) != 0 {
		t.Fatalf("a lost lease's retry released %v from the new holder", outboxSNs(c3.Entries))
	}
	outboxSettle(t, o, c2.Token, usage.Settlement{Now: later, Retry: outboxSNs(es), RetryAt: later.Add(10 * time.Minute), RetryError: "HTTP 503"})
	if c4 := outboxClaim(t, o, later.Add(5*time.Minute), 10); len(c4.Entries) != 0 {
		t.Fatalf("records due in 10 minutes claimed after 5: %v", outboxSNs(c4.Entries))
	}
	c5 := outboxClaim(t, o, later.Add(10*time.Minute), 10)
	outboxWantClaimed(t, c5, es, 3, "claim when due")
	if c5.Entries[0].LastError != "HTTP 503" {
		t.Fatalf("LastError %q, want %q", c5.Entries[0].LastError, "HTTP 503")
	}
}

func outboxContextCancelled(t *testing.T, o usage.Outbox) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := outboxEntry(t, "ctx", 0)
	checks := map[string]error{}
	checks["Add"] = o.Add(ctx, []usage.Entry{e})
	_, checks["Claim"] = o.Claim(ctx, outboxT0, 1, outboxLease)
	checks["Renew"] = o.Renew(ctx, "token", outboxT0)
	checks["Settle"] = o.Settle(ctx, "token", usage.Settlement{Now: outboxT0, Sent: []string{"x"}})
	_, checks["Stats"] = o.Stats(ctx, outboxT0)
	_, checks["AtRisk"] = o.AtRisk(ctx, outboxT0, 1)
	_, checks["DeadLetters"] = o.DeadLetters(ctx, "", 1)
	_, checks["Requeue"] = o.Requeue(ctx, outboxT0, []string{"x"})
	_, checks["Discard"] = o.Discard(ctx, []string{"x"})
	_, checks["Purge"] = o.Purge(ctx, outboxT0)
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", name, err)
		}
	}
	if st := outboxStats(t, o, outboxT0); st.Pending != 0 {
		t.Fatalf("Add with a cancelled context stored %d entries", st.Pending)
	}
}

func outboxEveryKind(t *testing.T, o usage.Outbox) {
	begin := outboxT0.Truncate(time.Hour)
	sns := []string{
		strings.Repeat("长", 64),    // 64 characters, 192 bytes
		`quote"back\slash'`,        // SQL and JSON specials
		"a<b>&c %_*?[]{}$1 ; --",   // HTML, LIKE and shell specials
		"emoji-😀-\u2028-\u00a0",    // outside the BMP, JSON line separator
		strings.Repeat("z", 64),    // sorts last
		"UPPER-lower-0123456789-~", // case must be kept
	}
	var es []usage.Entry
	for i, sn := range sns {
		r := usage.Record{InstanceID: "实例-" + fmt.Sprint(i), MeteringSN: sn, RecordTime: begin, BeginTime: begin.Add(-time.Hour), EndTime: begin,
			UsageValue: usage.MustDecimal("12345678901234.5678"), RelatePkgInstance: "pkg-" + fmt.Sprint(i)}
		es = append(es, outboxEntryOf(t, r, outboxT0.Add(time.Duration(i)*time.Microsecond), begin.Add(2*time.Hour)))
	}
	outboxAdd(t, o, es...)
	c := outboxClaim(t, o, outboxT0, 100)
	outboxWantClaimed(t, c, es, 1, "records of every kind")
	dead := make([]usage.DeadLetter, len(es))
	for i := range es {
		dead[i] = usage.DeadLetter{Entry: es[i], Reason: "reason of " + es[i].Record.MeteringSN}
	}
	outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Dead: dead})
	dls, err := o.DeadLetters(context.Background(), "", 100)
	if err != nil || len(dls) != len(es) {
		t.Fatalf("DeadLetters = %d, %v; want %d", len(dls), err, len(es))
	}
	want := slices.Clone(sns)
	slices.Sort(want)
	if got := deadSNs(dls); !slices.Equal(got, want) {
		t.Fatalf("DeadLetters order %q, want byte order %q", got, want)
	}
	for _, d := range dls {
		if d.Reason != "reason of "+d.Record.MeteringSN {
			t.Fatalf("dead letter %q has reason %q", d.Record.MeteringSN, d.Reason)
		}
	}
}

func outboxMany(t *testing.T, o usage.Outbox) {
	const n = 5000
	es := outboxEntries(t, "many", n)
	outboxAdd(t, o, es...)
	var got []string
	for {
		c := outboxClaim(t, o, outboxT0, usage.MaxRecords)
		if len(c.Entries) == 0 {
			break
		}
		got = append(got, outboxSNs(c.Entries)...)
		outboxSettle(t, o, c.Token, usage.Settlement{Now: outboxT0, Sent: outboxSNs(c.Entries)})
	}
	if !slices.Equal(got, outboxSNs(es)) {
		t.Fatalf("%d entries drained in calls of %d: got %d, not all in order", n, usage.MaxRecords, len(got))
	}
	if st := outboxStats(t, o, outboxT0); st.Sent != n || st.Pending != 0 {
		t.Fatalf("after draining %d: %+v", n, st)
	}
}
