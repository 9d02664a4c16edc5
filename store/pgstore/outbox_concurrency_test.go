package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
)

// concurrentRecorders is how many callers record overlapping records at
// once in the concurrency tests.
const concurrentRecorders = 8

// overlappingBatches returns, for each of n recorders, a random subset of
// 0..total-1 (at least half of it) in a random order; the first recorder
// takes them all in reverse order, so that every pair of recorders
// overlaps and at least two orders disagree. With dups, a batch also
// repeats some of its own indexes.
func overlappingBatches(rng *rand.Rand, n, total int, dups bool) [][]int {
	out := make([][]int, n)
	for r := range out {
		var b []int
		if r == 0 {
			for i := total - 1; i >= 0; i-- {
				b = append(b, i)
			}
		} else {
			for _, i := range rng.Perm(total) {
				if rng.IntN(4) != 0 { // about three quarters of them
					b = append(b, i)
				}
			}
		}
		if dups && len(b) > 0 {
			for range len(b) / 10 {
				b = append(b, b[rng.IntN(len(b))])
			}
			rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		}
		out[r] = b
	}
	return out
}

// pick returns entries[i] for each i of idx, in idx's order.
func pick[T any](all []T, idx []int) []T {
	out := make([]T, len(idx))
	for k, i := range idx {
		out[k] = all[i]
	}
	return out
}

// union returns the distinct indexes of batches.
func union(batches [][]int) map[int]bool {
	u := map[int]bool{}
	for _, b := range batches {
		for _, i := range b {
			u[i] = true
		}
	}
	return u
}

// failures reports the calls that failed, how many were deadlocks, and
// fails t if any did.
func failures(t *testing.T, what string, errs []error) {
	t.Helper()
	failed, deadlocks := 0, 0
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		failed++
		if first == nil {
			first = err
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" {
			deadlocks++
		}
	}
	if failed > 0 {
		t.Errorf("%s: %d of %d calls failed (%d with deadlock_detected 40P01); the first: %v", what, failed, len(errs), deadlocks, first)
	}
}

// storedOnce checks that the outbox's table holds exactly the metering_sns
// of want, each once, with its payload.
func storedOnce(t *testing.T, o *pgstore.UsageOutbox, entries []usage.Entry, want map[int]bool) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool(t).Query(ctx, `SELECT metering_sn, payload FROM `+o.Table())
	require.NoError(t, err)
	stored := map[string]int{}
	payloads := map[string]string{}
	var sn, payload string
	_, err = pgx.ForEachRow(rows, []any{&sn, &payload}, func() error {
		stored[sn]++
		payloads[sn] = payload
		return nil
	})
	require.NoError(t, err)
	var missing, wrong []string
	for i := range want {
		e := entries[i]
		switch sn := e.Record.MeteringSN; {
		case stored[sn] == 0:
			missing = append(missing, sn)
		case payloads[sn] != string(e.Payload):
			wrong = append(wrong, sn)
		}
	}
	slices.Sort(missing)
	slices.Sort(wrong)
	if len(missing) > 0 || len(wrong) > 0 || len(stored) != len(want) {
		t.Errorf("stored %d distinct records, want %d: %d missing (first: %q), %d with another payload (first: %q)",
			len(stored), len(want), len(missing), missing[:min(3, len(missing))], len(wrong), wrong[:min(3, len(wrong))])
	}
}

// rounds is how many times each concurrency test races its recorders, on
// a fresh table each time.
const rounds = 3

func newRNG(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed>>1))
}

// Concurrent Adds of overlapping entries, in any order and with repeats
// within a call, never deadlock and never fail: an entry already stored
// with the same payload is left as it is.
func TestUsageOutboxConcurrentAddOverlapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := newRNG(t)
	for round := range rounds {
		outbox := newUsageOutbox(t)
		meter, _ := usageMeter(t, outbox)
		entries, err := meter.Prepare(usageRecords(fmt.Sprintf("add%d", round), 1000)...)
		require.NoError(t, err)
		batches := overlappingBatches(rng, concurrentRecorders, len(entries), true)
		errs := make([]error, len(batches))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, b := range batches {
			wg.Go(func() {
				<-start
				errs[r] = outbox.Add(ctx, pick(entries, b))
			})
		}
		close(start)
		wg.Wait()
		failures(t, fmt.Sprintf("round %d: Add", round), errs)
		storedOnce(t, outbox, entries, union(batches))
	}
}

// The same inside the callers' own transactions: AddTx never deadlocks
// with another AddTx of overlapping entries, so it never aborts the
// caller's transaction, and the callers' own work commits with them.
func TestUsageOutboxConcurrentAddTxOverlapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	rng := newRNG(t)
	for round := range rounds {
		outbox := newUsageOutbox(t)
		work := outbox.Table()[:len(outbox.Table())-1] + `_work"`
		_, err := p.Exec(ctx, `CREATE TABLE `+work+` (id int PRIMARY KEY)`)
		require.NoError(t, err)
		meter, _ := usageMeter(t, outbox)
		entries, err := meter.Prepare(usageRecords(fmt.Sprintf("addtx%d", round), 1000)...)
		require.NoError(t, err)
		batches := overlappingBatches(rng, concurrentRecorders, len(entries), true)
		errs := make([]error, len(batches))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, b := range batches {
			wg.Go(func() {
				<-start
				errs[r] = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO `+work+` VALUES ($1)`, r); err != nil {
						return err
					}
					return outbox.AddTx(ctx, tx, pick(entries, b))
				})
			})
		}
		close(start)
		wg.Wait()
		failures(t, fmt.Sprintf("round %d: AddTx", round), errs)
		storedOnce(t, outbox, entries, union(batches))
		var done int
		require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM `+work).Scan(&done))
		assert.Equal(t, len(batches), done, "the callers' own work committed")
	}
}

// Meters sharing one outbox record overlapping records in any order:
// every Record succeeds, each record is stored once and pushed once.
func TestUsageMetersRecordOverlapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := newRNG(t)
	for round := range rounds {
		outbox := newUsageOutbox(t)
		recs := usageRecords(fmt.Sprintf("meter%d", round), 500)
		meters := make([]*usage.Meter, concurrentRecorders)
		for i := range meters {
			meters[i], _ = usageMeter(t, outbox)
		}
		batches := overlappingBatches(rng, concurrentRecorders, len(recs), false)
		errs := make([]error, len(batches))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, b := range batches {
			wg.Go(func() {
				<-start
				errs[r] = meters[r].Record(ctx, pick(recs, b)...)
			})
		}
		close(start)
		wg.Wait()
		failures(t, fmt.Sprintf("round %d: Meter.Record", round), errs)
		entries, err := meters[0].Prepare(recs...)
		require.NoError(t, err)
		storedOnce(t, outbox, entries, union(batches))
		if t.Failed() {
			return
		}
		m, fake := usageMeter(t, outbox)
		require.NoError(t, m.Flush(ctx))
		pushed := map[string]int{}
		for _, r := range fake.UsageRecords() {
			pushed[r.MeteringSN]++
		}
		assert.Len(t, pushed, len(union(batches)), "records pushed")
		for sn, n := range pushed {
			assert.Equal(t, 1, n, "pushes of %s", sn)
		}
	}
}

// One Add's entries are claimed in the order they were added, whatever
// order the outbox takes their locks in.
func TestUsageOutboxAddKeepsTheCallersOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	outbox := newUsageOutbox(t)
	meter, _ := usageMeter(t, outbox)
	recs := usageRecords("order", 50)
	rng := newRNG(t)
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	slices.Reverse(recs[:10])
	entries, err := meter.Prepare(recs...)
	require.NoError(t, err)
	require.NoError(t, outbox.Add(ctx, entries))
	c, err := outbox.Claim(ctx, time.Now(), len(entries)+1, time.Minute)
	require.NoError(t, err)
	var got, want []string
	for _, e := range c.Entries {
		got = append(got, e.Record.MeteringSN)
	}
	for _, r := range recs {
		want = append(want, r.MeteringSN)
	}
	assert.Equal(t, want, got)

	// Over several INSERTs (5,000 rows each), too.
	many := usageRecords("many", 6000)
	slices.Reverse(many)
	entries, err = meter.Prepare(many...)
	require.NoError(t, err)
	require.NoError(t, outbox.Add(ctx, entries))
	rows, err := pool(t).Query(ctx, `SELECT metering_sn FROM `+outbox.Table()+` WHERE metering_sn LIKE 'many-%' ORDER BY seq`)
	require.NoError(t, err)
	queued, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	want = want[:0]
	for _, r := range many {
		want = append(want, r.MeteringSN)
	}
	assert.Equal(t, want, queued)
}

// A role granted the table but not its seq sequence still adds, in
// metering_sn order, also inside its own transaction, which stays usable.
func TestUsageOutboxAddWithoutSequenceUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	outbox := newUsageOutbox(t)
	table := outbox.Table()
	role := "kgtest_role_" + table[len(`"usage_outbox_`):len(table)-1]
	_, err := p.Exec(ctx, fmt.Sprintf(`CREATE ROLE %s; GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s`, role, table, role))
	require.NoError(t, err)
	cfg := p.Config().Copy()
	cfg.MaxConns = 2
	cfg.ConnConfig.RuntimeParams["role"] = role
	rp, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer rp.Close()
	meter, _ := usageMeter(t, outbox)
	recs := usageRecords("noseq", 6)
	slices.Reverse(recs)
	entries, err := meter.Prepare(recs...)
	require.NoError(t, err)
	tx, err := rp.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	limited := mustNewUsageOutbox(t, rp, pgstore.WithUsageTable(table[1:len(table)-1]))
	require.NoError(t, limited.AddTx(ctx, tx, entries[:3]))
	var n int
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n), "the caller's transaction is usable")
	assert.Equal(t, 3, n)
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, limited.Add(ctx, entries))
	c, err := outbox.Claim(ctx, time.Now(), 10, time.Minute)
	require.NoError(t, err)
	var got []string
	for _, e := range c.Entries {
		got = append(got, e.Record.MeteringSN)
	}
	assert.Equal(t, []string{"noseq-0003", "noseq-0004", "noseq-0005", "noseq-0000", "noseq-0001", "noseq-0002"}, got,
		"each call's entries in metering_sn order")
}
