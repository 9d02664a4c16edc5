package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// BenchmarkUsageOutboxCycle is the outbox's work for one full usage push:
// Add 1,000 records in one call, Claim them, Settle them as sent; on
// PostgreSQL over loopback, durable (fsync and synchronous_commit on) and
// not, against the memory outbox as the baseline (building the entries is
// not timed). records/s is what one pusher's outbox could drain, before
// KooGallery's own time.
func BenchmarkUsageOutboxCycle(b *testing.B) {
	ctx := context.Background()
	mu.Lock()
	if durable.pool == nil {
		srv, err := pgtest.NewServer("", "fsync=on", "synchronous_commit=on", "full_page_writes=on")
		require.NoError(b, err)
		closers = append(closers, srv.Close)
		p, err := pgxpool.New(ctx, srv.URL)
		require.NoError(b, err)
		closers = append(closers, p.Close)
		durable.pool = p
	}
	dp := durable.pool
	mu.Unlock()
	outboxes := []struct {
		name string
		o    usage.Outbox
	}{
		{"baseline=memory", usage.NewMemoryOutbox()},
		{"postgres-fsync-off", newUsageOutbox(b)},
		{"postgres-durable", newUsageOutbox(b, dp)},
	}
	end := time.Now().UTC().Truncate(time.Hour)
	for _, bc := range outboxes {
		n := 0
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				entries := make([]usage.Entry, usage.MaxRecords)
				for i := range entries {
					r := usage.Record{InstanceID: "7f141bf1-aec8-4859-8323-fb3a8ad50721", MeteringSN: fmt.Sprintf("bench-%09d", n),
						RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end, UsageValue: usage.MustDecimal("12.5")}
					n++
					entries[i] = usage.Entry{Record: r, Payload: []byte(mustMarshal(b, r)), Deadline: end.Add(2 * time.Hour), Recorded: end}
				}
				b.StartTimer()
				if err := bc.o.Add(ctx, entries); err != nil {
					b.Fatal(err)
				}
				c, err := bc.o.Claim(ctx, end, usage.MaxRecords, time.Minute)
				if err != nil || len(c.Entries) != usage.MaxRecords {
					b.Fatalf("Claim: %d entries, %v", len(c.Entries), err)
				}
				sns := make([]string, len(c.Entries))
				for i := range c.Entries {
					sns[i] = c.Entries[i].Record.MeteringSN
				}
				if err := bc.o.Settle(ctx, c.Token, usage.Settlement{Now: end, Sent: sns}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*usage.MaxRecords)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
