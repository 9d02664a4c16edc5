package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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
	timeout         time.Duration
}

// WithTimeout bounds each Claim, Complete, Release and Add whose context has
// no earlier deadline (DefaultTimeout, 2 s, by default; d must be
// positive). Keep it well inside KooGallery's 5 s: a callback waits for its
// store operations before it answers.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithTables names the records and replay tables instead of
// DefaultRecordsTable and DefaultReplayTable. A name may be
// schema-qualified ("billing.koogallery_records"). Give New, Migrate and
// Schema the same names. A table name may have at most 52 bytes, so that
// its index, named after it with "_expires_at", fits PostgreSQL's
// MaxIdentifierLen; New and Migrate refuse a longer one, and a schema name
// longer than MaxIdentifierLen.
func WithTables(records, replay string) Option {
	return func(c *config) { c.records, c.replay = records, replay }
}

func newConfig(opts []Option) config {
	c := config{
		records:      DefaultRecordsTable,
		replay:       DefaultReplayTable,
		cleanupEvery: defaultCleanupEvery,
		cleanupLimit: defaultCleanupLimit,
		timeout:      DefaultTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// MaxIdentifierLen is the longest identifier PostgreSQL keeps, in bytes
// (NAMEDATALEN-1): it cuts a longer one to this length without an error,
// so that two table names that differ only after it would name one table.
// New, Migrate, NewUsageOutbox and MigrateUsageOutbox refuse a table name,
// or a schema name qualifying it, or an index name derived from it, that
// is longer.
const MaxIdentifierLen = 63

// expiresAtSuffix names the expiry index of the records and replay tables
// after the table: "koogallery_records_expires_at".
const expiresAtSuffix = "_expires_at"

// ident quotes a possibly schema-qualified table name.
func ident(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

// derivedName is the name made of table name's last part and suffix (an
// index's, in the table's schema), quoted.
func derivedName(name, suffix string) string {
	parts := strings.Split(name, ".")
	return pgx.Identifier{parts[len(parts)-1] + suffix}.Sanitize()
}

// indexName is the expiry index of table name, in the table's schema.
func indexName(name string) string { return derivedName(name, expiresAtSuffix) }

// checkTable refuses a table name (what names its role) that PostgreSQL
// would not take as it is: a part (schema, table) empty, holding a NUL
// (which pgx.Identifier drops) or longer than MaxIdentifierLen, or a name
// derived from it with one of suffixes (its indexes) that is. The error
// says which name, how long it is, and the limit.
func checkTable(what, name string, suffixes ...string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%s table name %q is not valid UTF-8", what, name)
	}
	parts := strings.Split(name, ".")
	for i, part := range parts {
		kind := "schema"
		if i == len(parts)-1 {
			kind = "table"
		}
		switch {
		case part == "":
			return fmt.Errorf("%s table name %q: the %s name is empty", what, name, kind)
		case strings.ContainsRune(part, 0):
			return fmt.Errorf("%s table name %q: the %s name holds a NUL byte", what, name, kind)
		case len(part) > MaxIdentifierLen:
			return fmt.Errorf("%s table name %q: the %s name %q is %d bytes long, over PostgreSQL's limit of %d bytes on identifiers (NAMEDATALEN-1), which would cut it short",
				what, name, kind, part, len(part), MaxIdentifierLen)
		}
	}
	table := parts[len(parts)-1]
	for _, suffix := range suffixes {
		if d := table + suffix; len(d) > MaxIdentifierLen {
			return fmt.Errorf("%s table name %q: the index name %q derived from it is %d bytes long, over PostgreSQL's limit of %d bytes on identifiers (NAMEDATALEN-1), which would cut it short: the table name may have at most %d bytes",
				what, name, d, len(d), MaxIdentifierLen, MaxIdentifierLen-len(suffix))
		}
	}
	return nil
}

// check refuses names PostgreSQL would cut short (see checkTable).
func (c config) check() error {
	if err := checkTable("records", c.records, expiresAtSuffix); err != nil {
		return err
	}
	return checkTable("replay", c.replay, expiresAtSuffix)
}

// Schema returns the SQL that Migrate runs, for a migration tool of your
// own. It does not check the names: Migrate and New refuse those
// PostgreSQL would cut short (see MaxIdentifierLen). With the default
// names it reads:
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
// It refuses, sending nothing, a table name, or a name derived from it,
// longer than MaxIdentifierLen bytes.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if err := newConfig(opts).check(); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
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
