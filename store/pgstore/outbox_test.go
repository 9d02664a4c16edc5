package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
)

// newUsageOutbox returns an outbox on a table of its own, in one database
// shared by the test binary.
func newUsageOutbox(t testing.TB, pools ...*pgxpool.Pool) *pgstore.UsageOutbox {
	t.Helper()
	p := pool(t)
	if len(pools) > 0 {
		p = pools[0]
	}
	var b [6]byte
	rand.Read(b[:])
	table := pgstore.WithUsageTable("usage_outbox_" + hex.EncodeToString(b[:]))
	if err := pgstore.MigrateUsageOutbox(context.Background(), p, table); err != nil {
		t.Fatal(err)
	}
	return mustNewUsageOutbox(t, p, table)
}

func TestUsageOutbox(t *testing.T) {
	t.Parallel()
	storetest.RunUsageOutbox(t, func(t *testing.T) usage.Outbox { return newUsageOutbox(t) })
}

// outboxTable returns the quoted table of an outbox newUsageOutbox made.
func outboxTable(t *testing.T, o *pgstore.UsageOutbox) string {
	t.Helper()
	return o.Table()
}
