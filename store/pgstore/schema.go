package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Default table names.
const (
	DefaultRecordsTable = "koogallery_records"
	DefaultReplayTable  = "koogallery_replay"
)

// Option configures New, Migrate and Schema.
type Option func(*config)

type config struct {
	records, replay string
	cleanupEvery    int
	cleanupLimit    int
	logger          logger
}

// WithTables names the records and replay tables instead of
// DefaultRecordsTable and DefaultReplayTable. A name may be
// schema-qualified ("billing.koogallery_records"). Give New, Migrate and
// Schema the same names.
func WithTables(records, replay string) Option {
	return func(c *config) { c.records, c.replay = records, replay }
}

func newConfig(opts []Option) config {
	c := config{
		records:      DefaultRecordsTable,
		replay:       DefaultReplayTable,
		cleanupEvery: defaultCleanupEvery,
		cleanupLimit: defaultCleanupLimit,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// ident quotes a possibly schema-qualified table name.
func ident(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

// indexName is the expiry index of table name, in the table's schema.
func indexName(name string) string {
	parts := strings.Split(name, ".")
	return pgx.Identifier{parts[len(parts)-1] + "_expires_at"}.Sanitize()
}

// Schema returns the SQL that Migrate runs, for a migration tool of your
// own. With the default names it reads:
//
//	CREATE TABLE IF NOT EXISTS "koogallery_records" (
//		key         text COLLATE "C" PRIMARY KEY,
//		claimed     boolean NOT NULL,
//		instance_id bytea NOT NULL,
//		pending     boolean NOT NULL,
//		expires_at  timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_records_expires_at" ON "koogallery_records" (expires_at);
//	CREATE TABLE IF NOT EXISTS "koogallery_replay" (
//		key        text COLLATE "C" PRIMARY KEY,
//		expires_at timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_replay_expires_at" ON "koogallery_replay" (expires_at);
func Schema(opts ...Option) string {
	c := newConfig(opts)
	r, p := ident(c.records), ident(c.replay)
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	key         text COLLATE "C" PRIMARY KEY,
	claimed     boolean NOT NULL,
	instance_id bytea NOT NULL,
	pending     boolean NOT NULL,
	expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS %s ON %s (expires_at);
CREATE TABLE IF NOT EXISTS %s (
	key        text COLLATE "C" PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS %s ON %s (expires_at);
`, r, indexName(c.records), r, p, indexName(c.replay), p)
}

// migrateLock serialises concurrent Migrate calls (replicas starting
// together), which CREATE … IF NOT EXISTS alone does not.
const migrateLock = 0x6b6f6f67616c6c // "koogall"

// Migrate creates the tables this module uses, if they do not exist, in one
// transaction. It is safe to run from every replica at start-up, at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, Schema(opts...)); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}
