package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultUsageTable is the usage outbox's table unless WithUsageTable
// names another.
const DefaultUsageTable = "koogallery_usage_outbox"

// UsageOption configures NewUsageOutbox, MigrateUsageOutbox and
// UsageOutboxSchema.
type UsageOption func(*usageConfig)

type usageConfig struct{ table string }

// WithUsageTable names the usage outbox's table instead of
// DefaultUsageTable; it may be schema-qualified ("billing.usage_outbox").
// Give NewUsageOutbox, MigrateUsageOutbox and UsageOutboxSchema the same
// name. The table name may have at most 54 bytes, so that its indexes,
// named after it ("_deadline" the longest suffix), fit PostgreSQL's
// MaxIdentifierLen; NewUsageOutbox and MigrateUsageOutbox refuse a longer
// one, and a schema name longer than MaxIdentifierLen.
func WithUsageTable(name string) UsageOption {
	return func(c *usageConfig) { c.table = name }
}

// usageIndexSuffixes name the outbox's indexes after its table (see
// UsageOutboxSchema); the longest, "_deadline", bounds the table name to
// 54 bytes.
var usageIndexSuffixes = []string{"_pending", "_deadline", "_lease", "_sent", "_dead"}

// check refuses a table name PostgreSQL would cut short (see checkTable).
func (c usageConfig) check() error {
	return checkTable("usage outbox", c.table, usageIndexSuffixes...)
}

func newUsageConfig(opts []UsageOption) usageConfig {
	c := usageConfig{table: DefaultUsageTable}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// UsageOutboxSchema returns the SQL that MigrateUsageOutbox runs, for a
// migration tool of your own. It does not check the name:
// MigrateUsageOutbox and NewUsageOutbox refuse one PostgreSQL would cut
// short (see MaxIdentifierLen). With the default name it reads:
//
//	CREATE TABLE IF NOT EXISTS "koogallery_usage_outbox" (
//		metering_sn text COLLATE "C" PRIMARY KEY,
//		seq         bigint GENERATED ALWAYS AS IDENTITY,
//		payload     text NOT NULL,
//		deadline    timestamptz NOT NULL,
//		recorded    timestamptz NOT NULL,
//		state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
//		available   timestamptz NOT NULL DEFAULT '-infinity',
//		lease_token text,
//		attempts    integer NOT NULL DEFAULT 0,
//		last_error  text NOT NULL DEFAULT '',
//		sent_at     timestamptz,
//		dead_reason text,
//		dead_code   text,
//		dead_raw    bytea,
//		died        timestamptz
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_pending" ON "koogallery_usage_outbox" (seq) WHERE state = 'pending';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_deadline" ON "koogallery_usage_outbox" (deadline) WHERE state = 'pending';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_lease" ON "koogallery_usage_outbox" (lease_token) WHERE lease_token IS NOT NULL;
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_sent" ON "koogallery_usage_outbox" (sent_at) WHERE state = 'sent';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_dead" ON "koogallery_usage_outbox" (metering_sn) WHERE state = 'dead';
func UsageOutboxSchema(opts ...UsageOption) string {
	c := newUsageConfig(opts)
	t := ident(c.table)
	idx := func(suffix string) string { return derivedName(c.table, "_"+suffix) }
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %[1]s (
	metering_sn text COLLATE "C" PRIMARY KEY,
	seq         bigint GENERATED ALWAYS AS IDENTITY,
	payload     text NOT NULL,
	deadline    timestamptz NOT NULL,
	recorded    timestamptz NOT NULL,
	state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
	available   timestamptz NOT NULL DEFAULT '-infinity',
	lease_token text,
	attempts    integer NOT NULL DEFAULT 0,
	last_error  text NOT NULL DEFAULT '',
	sent_at     timestamptz,
	dead_reason text,
	dead_code   text,
	dead_raw    bytea,
	died        timestamptz
);
CREATE INDEX IF NOT EXISTS %[2]s ON %[1]s (seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS %[3]s ON %[1]s (deadline) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS %[4]s ON %[1]s (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS %[5]s ON %[1]s (sent_at) WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS %[6]s ON %[1]s (metering_sn) WHERE state = 'dead';
`, t, idx("pending"), idx("deadline"), idx("lease"), idx("sent"), idx("dead"))
}

// usageMigrateLock serialises concurrent MigrateUsageOutbox calls.
const usageMigrateLock = 0x6b6f6f7573616765 // "koousage"

// MigrateUsageOutbox creates the usage outbox's table and indexes if they do
// not exist, in one transaction. It is safe to run from every replica at
// start-up, at once. It refuses, sending nothing, a table name, or an
// index name derived from it, longer than MaxIdentifierLen bytes.
func MigrateUsageOutbox(ctx context.Context, pool *pgxpool.Pool, opts ...UsageOption) error {
	if err := newUsageConfig(opts).check(); err != nil {
		return fmt.Errorf("pgstore: migrate usage outbox: %w", err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(usageMigrateLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, UsageOutboxSchema(opts...))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate usage outbox: %w", err)
	}
	return nil
}
