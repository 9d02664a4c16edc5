package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store/pgstore"
)

// longName returns a name of n bytes that starts with prefix and is unique
// to the call.
func longName(t *testing.T, prefix string, n int) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	s := prefix + hex.EncodeToString(b[:]) + "_"
	require.LessOrEqual(t, len(s), n)
	return s + strings.Repeat("x", n-len(s))
}

// exists reports whether relation name (unquoted, in the search path)
// exists.
func exists(t *testing.T, name string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, pool(t).QueryRow(context.Background(), `SELECT to_regclass(quote_ident($1)) IS NOT NULL`, name).Scan(&ok))
	return ok
}

// Two tenants' table names that differ only after byte 63 would share the
// one table PostgreSQL cuts them to: both are refused, by New and Migrate,
// before anything is sent, saying which name, how long and the limit.
func TestStoreRefusesNamesPostgreSQLWouldCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	base := longName(t, "kgtest_", 63)
	replay := longName(t, "kgtest_", 20)
	for _, records := range []string{base + "a", base + "b"} {
		opts := pgstore.WithTables(records, replay)
		s, err := pgstore.New(p, opts)
		assert.Nil(t, s)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "pgstore: new: records table name "), err.Error())
		for _, want := range []string{records, "is 64 bytes long", "limit of 63 bytes"} {
			assert.ErrorContains(t, err, want)
		}
		err = pgstore.Migrate(ctx, p, opts)
		assert.ErrorContains(t, err, "pgstore: migrate: records table name")
		assert.ErrorContains(t, err, "64 bytes long")
	}
	assert.False(t, exists(t, base), "a refused name created a table")
	assert.False(t, exists(t, replay), "a refused name's partner created a table")

	// The replay table and a schema are held to the limit too.
	_, err := pgstore.New(p, pgstore.WithTables(replay, base+"c"))
	assert.ErrorContains(t, err, "pgstore: new: replay table name")
	assert.ErrorContains(t, err, "64 bytes long")
	schema := longName(t, "kgschema_", 64)
	_, err = pgstore.New(p, pgstore.WithTables(schema+".records", "replay"))
	assert.ErrorContains(t, err, "the schema name \""+schema+"\" is 64 bytes long")

	// A name whose index name, name_expires_at, would be cut short.
	records := longName(t, "kgtest_", 53)
	_, err = pgstore.New(p, pgstore.WithTables(records, replay))
	for _, want := range []string{"pgstore: new: records table name", `the index name "` + records + `_expires_at"`, "is 64 bytes long", "limit of 63 bytes", "at most 52 bytes"} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, pgstore.Migrate(ctx, p, pgstore.WithTables(records, replay)), "at most 52 bytes")

	// Names PostgreSQL would not take as they are.
	for _, bad := range []string{"", "billing.", ".records", "a\x00b", "\xff"} {
		s, err := pgstore.New(p, pgstore.WithTables(bad, replay))
		assert.Nil(t, s, "%q", bad)
		assert.ErrorContains(t, err, "pgstore: new: records table name", "%q", bad)
		assert.ErrorContains(t, pgstore.Migrate(ctx, p, pgstore.WithTables(bad, replay)), "pgstore: migrate: records table name", "%q", bad)
	}
	s, err := pgstore.New(p)
	assert.NoError(t, err)
	assert.NotNil(t, s)
}

// The longest names allowed work on the server: 52-byte tables (63-byte
// index names) in a schema of 63 bytes, and two of them that differ only
// in their last byte are two tables.
func TestStoreLongestNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	schema := longName(t, "kgschema_", 63)
	_, err := p.Exec(ctx, `CREATE SCHEMA `+`"`+schema+`"`)
	require.NoError(t, err)
	base := longName(t, "kgtest_", 51)
	var stores []*pgstore.Store
	for _, tenant := range []string{"a", "b"} {
		opts := pgstore.WithTables(schema+"."+base+tenant, schema+"."+base[:50]+tenant+"r")
		require.NoError(t, pgstore.Migrate(ctx, p, opts))
		stores = append(stores, mustNew(t, p, opts))
	}
	_, ok, err := stores[0].Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	_, ok, err = stores[1].Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the second tenant shares the first's table")
	added, err := stores[1].Add(ctx, "r", time.Minute)
	require.NoError(t, err)
	assert.True(t, added)
	var indexes []string
	rows, err := p.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%expires_at' ORDER BY indexname`, schema)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		indexes = append(indexes, n)
	}
	require.NoError(t, rows.Err())
	want := []string{base + "a_expires_at", base[:50] + "ar_expires_at", base + "b_expires_at", base[:50] + "br_expires_at"}
	slices.Sort(want)
	slices.Sort(indexes)
	assert.Equal(t, want, indexes)
	for _, n := range indexes {
		assert.Len(t, n, 63)
	}
}

// The usage outbox's table name is held to the limit, with its index names
// (the longest, name_deadline): refused by NewUsageOutbox and
// MigrateUsageOutbox before anything is sent.
func TestUsageOutboxRefusesNamesPostgreSQLWouldCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	long := longName(t, "kgtest_usage_", 64)
	o, err := pgstore.NewUsageOutbox(p, pgstore.WithUsageTable(long))
	assert.Nil(t, o)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "pgstore: new usage outbox: usage outbox table name "), err.Error())
	for _, want := range []string{long, "is 64 bytes long", "limit of 63 bytes"} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, pgstore.MigrateUsageOutbox(ctx, p, pgstore.WithUsageTable(long)), "pgstore: migrate usage outbox: usage outbox table name")
	assert.False(t, exists(t, long[:63]), "a refused name created a table")

	// 55 bytes: the index name_deadline would have 64.
	name := longName(t, "kgtest_usage_", 55)
	_, err = pgstore.NewUsageOutbox(p, pgstore.WithUsageTable(name))
	for _, want := range []string{"pgstore: new usage outbox: ", `the index name "` + name + `_deadline"`, "is 64 bytes long", "limit of 63 bytes", "at most 54 bytes"} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, pgstore.MigrateUsageOutbox(ctx, p, pgstore.WithUsageTable(name)), "at most 54 bytes")
	_, err = pgstore.NewUsageOutbox(p, pgstore.WithUsageTable("billing."))
	assert.ErrorContains(t, err, "the table name is empty")
	o, err = pgstore.NewUsageOutbox(p)
	assert.NoError(t, err)
	assert.NotNil(t, o)
}

// The longest name allowed works on the server: a 54-byte table (its
// _deadline index 63 bytes) in a schema of 63 bytes, and one of 18
// three-byte characters.
func TestUsageOutboxLongestName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	schema := longName(t, "kgschema_", 63)
	_, err := p.Exec(ctx, `CREATE SCHEMA "`+schema+`"`)
	require.NoError(t, err)
	table := longName(t, "kgtest_usage_", 54)
	for _, name := range []string{schema + "." + table, schema + "." + strings.Repeat("表", 18)} {
		opt := pgstore.WithUsageTable(name)
		require.NoError(t, pgstore.MigrateUsageOutbox(ctx, p, opt))
		o := mustNewUsageOutbox(t, p, opt)
		meter, fake := usageMeter(t, o)
		recs := usageRecords("longest", 3)
		slices.Reverse(recs) // seq values drawn from the table's own sequence
		require.NoError(t, meter.Record(ctx, recs...))
		require.NoError(t, meter.Flush(ctx))
		var pushed []string
		for _, r := range fake.UsageRecords() {
			pushed = append(pushed, r.MeteringSN)
		}
		assert.Equal(t, []string{"longest-0002", "longest-0001", "longest-0000"}, pushed, "pushed in the order recorded")
	}
	var n int
	require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, schema, table+"_deadline").Scan(&n))
	assert.Equal(t, 1, n, "the index %s_deadline, 63 bytes, exists as named", table)
}
