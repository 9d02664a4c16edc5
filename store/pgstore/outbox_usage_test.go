package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
)

// usageMeter returns a meter on outbox pushing to a fake KooGallery.
func usageMeter(t *testing.T, outbox usage.Outbox) (*usage.Meter, *koogallerytest.Server) {
	t.Helper()
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient()
	require.NoError(t, err)
	m, err := usage.NewMeter(usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey)), outbox,
		usage.WithLogger(slog.New(slog.DiscardHandler)), usage.WithBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	return m, fake
}

func usageRecords(prefix string, n int) []usage.Record {
	end := time.Now().UTC().Truncate(time.Hour)
	out := make([]usage.Record, n)
	for i := range out {
		out[i] = usage.Record{InstanceID: "inst-1", MeteringSN: fmt.Sprintf("%s-%04d", prefix, i),
			RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end, UsageValue: usage.MustDecimal("1.5")}
	}
	return out
}

func TestUsageOutboxAddTxFollowsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	outbox := newUsageOutbox(t)
	meter, fake := usageMeter(t, outbox)
	_, err := p.Exec(ctx, `CREATE TABLE IF NOT EXISTS work_done (id text PRIMARY KEY)`)
	require.NoError(t, err)

	committed, err := meter.Prepare(usageRecords("commit", 3)...)
	require.NoError(t, err)
	rolledBack, err := meter.Prepare(usageRecords("rollback", 2)...)
	require.NoError(t, err)

	// Committed with the work it measures.
	require.NoError(t, pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO work_done VALUES ('job-1')`); err != nil {
			return err
		}
		return outbox.AddTx(ctx, tx, committed)
	}))
	// Rolled back with it.
	errBoom := errors.New("the work failed")
	err = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		if err := outbox.AddTx(ctx, tx, rolledBack); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	st, err := outbox.Stats(ctx, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 3, st.Pending, "only the committed records are pending")

	// A conflict inside the caller's transaction leaves it usable.
	changed := usageRecords("commit", 1)
	changed[0].UsageValue = usage.MustDecimal("9")
	conflicting, err := meter.Prepare(changed...)
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		err := outbox.AddTx(ctx, tx, conflicting)
		if !errors.Is(err, usage.ErrConflict) {
			return fmt.Errorf("AddTx of a changed record: %v, want ErrConflict", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO work_done VALUES ('job-2')`)
		return err
	}))
	var jobs int
	require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM work_done WHERE id IN ('job-1', 'job-2')`).Scan(&jobs))
	assert.Equal(t, 2, jobs)

	require.NoError(t, meter.Flush(ctx))
	assert.Len(t, fake.UsageRecords(), 3)
	for _, r := range fake.UsageRecords() {
		assert.Contains(t, r.MeteringSN, "commit-")
	}
}

func TestUsageOutboxDeadLettersARowThatNoLongerDecodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	outbox := newUsageOutbox(t)
	meter, fake := usageMeter(t, outbox)
	recs := usageRecords("sn", 3)
	require.NoError(t, meter.Record(ctx, recs...))
	table := outboxTable(t, outbox)
	_, err := pool(t).Exec(ctx, `UPDATE `+table+` SET payload = 'not json' WHERE metering_sn = 'sn-0001'`)
	require.NoError(t, err)

	require.NoError(t, meter.Flush(ctx))
	assert.Len(t, fake.UsageRecords(), 2, "the others go out")
	dls, err := outbox.DeadLetters(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	assert.Equal(t, "sn-0001", dls[0].Record.MeteringSN)
	assert.Equal(t, "not json", string(dls[0].Payload))
	assert.Contains(t, dls[0].Reason, "instance_id is empty")
}

func TestMigrateUsageOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	_, err := p.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS billing`)
	require.NoError(t, err)
	opt := pgstore.WithUsageTable("billing.usage_migrate")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 { // replicas starting together
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pgstore.MigrateUsageOutbox(ctx, p, opt)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	outbox := mustNewUsageOutbox(t, p, opt)
	meter, fake := usageMeter(t, outbox)
	require.NoError(t, meter.Record(ctx, usageRecords("schema", 2)...))
	require.NoError(t, meter.Flush(ctx))
	assert.Len(t, fake.UsageRecords(), 2)
	var n int
	require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM billing.usage_migrate WHERE state = 'sent'`).Scan(&n))
	assert.Equal(t, 2, n)

	o, err := pgstore.NewUsageOutbox(nil, opt)
	assert.Nil(t, o)
	assert.EqualError(t, err, "pgstore: new usage outbox: nil pool")
}

// The schema is shown as it is in UsageOutboxSchema's documentation, the
// package documentation and the module's README (the repository's docs link
// to it rather than copy it).
func TestUsageOutboxSchemaDocumented(t *testing.T) {
	t.Parallel()
	var shown strings.Builder
	for _, line := range strings.Split(pgstore.UsageOutboxSchema(), "\n") {
		if line != "" {
			shown.WriteString("//\t" + line + "\n")
		}
	}
	for _, f := range []string{"doc.go", "outbox_schema.go"} {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, strings.Contains(string(src), shown.String()), "%s does not show UsageOutboxSchema() as it is:\n%s", f, shown.String())
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(readme), pgstore.UsageOutboxSchema()), "README.md does not show UsageOutboxSchema() as it is")
}

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
