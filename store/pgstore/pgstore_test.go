package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// One server for the package, stopped by TestMain; each test uses tables
// of its own.
var (
	mu      sync.Mutex
	shared  *pgxpool.Pool
	closers []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	os.Exit(code)
}

func pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared
	}
	url := os.Getenv(pgtest.EnvURL)
	if url == "" {
		s, err := pgtest.NewServer("")
		require.NoError(t, err)
		closers = append(closers, s.Close)
		url = s.URL
	}
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.MaxConns = 16
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	closers = append(closers, p.Close)
	shared = p
	return p
}

// tables returns table names no other test uses.
func tables(t testing.TB) (records, replay string) {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	n := "kgtest_" + hex.EncodeToString(b[:])
	return n + "_records", n + "_replay"
}

// newStore migrates fresh tables and returns a Store on them.
func newStore(t testing.TB, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	p := pool(t)
	r, q := tables(t)
	opts = append([]pgstore.Option{pgstore.WithTables(r, q)}, opts...)
	require.NoError(t, pgstore.Migrate(context.Background(), p, opts...))
	return mustNew(t, p, opts...)
}

// mustNew returns pgstore.New's Store, failing t on its error.
func mustNew(t testing.TB, p *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(p, opts...)
	require.NoError(t, err)
	require.NotNil(t, s)
	return s
}

// mustNewUsageOutbox returns pgstore.NewUsageOutbox's outbox, failing t on
// its error.
func mustNewUsageOutbox(t testing.TB, p *pgxpool.Pool, opts ...pgstore.UsageOption) *pgstore.UsageOutbox {
	t.Helper()
	o, err := pgstore.NewUsageOutbox(p, opts...)
	require.NoError(t, err)
	require.NotNil(t, o)
	return o
}

// The suites run with a generous bound on each operation, so that a slow
// machine (the race detector, 2 cores, every suite at once) is not a
// broken contract; TestOperationsEndWhenTheDatabaseStopsAnswering checks
// the default.
func TestConformance(t *testing.T) {
	t.Run("Store", func(t *testing.T) {
		t.Parallel()
		storetest.RunStore(t, func(t *testing.T) store.Store { return newStore(t, pgstore.WithTimeout(time.Minute)) })
	})
	t.Run("ReplayCache", func(t *testing.T) {
		t.Parallel()
		storetest.RunReplayCache(t, func(t *testing.T) store.ReplayCache { return newStore(t, pgstore.WithTimeout(time.Minute)) })
	})
	// Every write also cleans up, to show cleanup never removes a live row.
	t.Run("CleanupEveryWrite", func(t *testing.T) {
		t.Parallel()
		storetest.RunStore(t, func(t *testing.T) store.Store {
			return newStore(t, pgstore.WithCleanup(1, 100), pgstore.WithTimeout(time.Minute))
		})
		storetest.RunReplayCache(t, func(t *testing.T) store.ReplayCache {
			return newStore(t, pgstore.WithCleanup(1, 100), pgstore.WithTimeout(time.Minute))
		})
	})
}

// The package doc shows the schema Migrate creates.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var shown strings.Builder
	for _, line := range strings.Split(pgstore.Schema(), "\n") {
		if line != "" {
			shown.WriteString("//\t" + line + "\n")
		}
	}
	assert.True(t, strings.Contains(string(doc), shown.String()), "doc.go does not show Schema() as it is:\n%s", shown.String())
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(readme), pgstore.Schema()), "README.md does not show Schema() as it is")
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	r, q := tables(t)
	// Replicas starting together migrate at once.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pgstore.Migrate(ctx, p, pgstore.WithTables(r, q))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// And again later.
	require.NoError(t, pgstore.Migrate(ctx, p, pgstore.WithTables(r, q)))

	// Schema-qualified names.
	_, err := p.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS kgtest_schema`)
	require.NoError(t, err)
	opts := []pgstore.Option{pgstore.WithTables("kgtest_schema."+r, "kgtest_schema."+q)}
	require.NoError(t, pgstore.Migrate(ctx, p, opts...))
	s := mustNew(t, p, opts...)
	_, ok, err := s.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	var n int
	require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM kgtest_schema.`+r).Scan(&n))
	assert.Equal(t, 1, n)

	// Without Migrate, calls fail clearly.
	_, _, err = mustNew(t, p, pgstore.WithTables("kgtest_missing", "kgtest_missing2")).Claim(ctx, "k", time.Minute)
	assert.ErrorContains(t, err, "kgtest_missing")
}

// The rows are the documented layout.
func TestRowLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	r, q := tables(t)
	opts := pgstore.WithTables(r, q)
	require.NoError(t, pgstore.Migrate(ctx, p, opts))
	s := mustNew(t, p, opts)

	_, ok, err := s.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	var claimed, pending bool
	var id []byte
	var left time.Duration
	row := `SELECT claimed, instance_id, pending, expires_at - now() FROM ` + r + ` WHERE key = 'k'`
	require.NoError(t, p.QueryRow(ctx, row).Scan(&claimed, &id, &pending, &left))
	assert.True(t, claimed)
	assert.Empty(t, id)
	assert.True(t, left > 50*time.Second && left <= time.Minute, "claim expires in %v, want the lease", left)

	require.NoError(t, s.Complete(ctx, "k", &store.Record{InstanceID: "i\x00d", Pending: true}, time.Hour))
	require.NoError(t, p.QueryRow(ctx, row).Scan(&claimed, &id, &pending, &left))
	assert.False(t, claimed)
	assert.Equal(t, []byte("i\x00d"), id)
	assert.True(t, pending)
	assert.True(t, left > 59*time.Minute && left <= time.Hour, "record expires in %v, want the keep", left)

	added, err := s.Add(ctx, "n", 65*time.Second)
	require.NoError(t, err)
	require.True(t, added)
	require.NoError(t, p.QueryRow(ctx, `SELECT expires_at - now() FROM `+q+` WHERE key = 'n'`).Scan(&left))
	assert.True(t, left > 60*time.Second && left <= 65*time.Second, "replay key expires in %v, want the ttl", left)

	// Records and replay keys of the same name do not collide.
	added, err = s.Add(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, added)
}

// Cleanup deletes expired rows only, in bounded batches, and the store's
// own cleanup runs after every cleanupEvery-th write.
func TestCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	r, q := tables(t)
	opts := []pgstore.Option{pgstore.WithTables(r, q), pgstore.WithCleanup(0, 0)}
	require.NoError(t, pgstore.Migrate(ctx, p, opts...))
	s := mustNew(t, p, opts...)
	for i := range 30 {
		require.NoError(t, s.Complete(ctx, fmt.Sprint("short", i), &store.Record{InstanceID: "x"}, time.Millisecond))
		_, err := s.Add(ctx, fmt.Sprint("short", i), time.Millisecond)
		require.NoError(t, err)
	}
	require.NoError(t, s.Complete(ctx, "kept", &store.Record{InstanceID: "kept"}, time.Hour))
	_, ok, err := s.Claim(ctx, "claim", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = s.Add(ctx, "kept", time.Hour)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)

	count := func(table string) (n int) {
		require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
		return n
	}
	require.Equal(t, 32, count(r))
	require.Equal(t, 31, count(q))
	n, err := s.Cleanup(ctx, 10)
	require.NoError(t, err)
	assert.EqualValues(t, 20, n, "10 from each table")
	n, err = s.Cleanup(ctx, 1000)
	require.NoError(t, err)
	assert.EqualValues(t, 40, n)
	assert.Equal(t, 2, count(r))
	assert.Equal(t, 1, count(q))
	rec, _, err := s.Claim(ctx, "kept", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, &store.Record{InstanceID: "kept"}, rec)
	_, ok, err = s.Claim(ctx, "claim", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a live claim was cleaned up")
	_, err = s.Cleanup(ctx, 0)
	assert.Error(t, err)

	// The store's own cleanup: every 5th write deletes up to 100 rows.
	auto := mustNew(t, p, pgstore.WithTables(r, q), pgstore.WithCleanup(5, 100))
	for i := range 20 {
		require.NoError(t, auto.Complete(ctx, fmt.Sprint("auto", i), &store.Record{}, time.Millisecond))
	}
	time.Sleep(20 * time.Millisecond)
	for i := range 5 {
		require.NoError(t, auto.Complete(ctx, fmt.Sprint("live", i), &store.Record{}, time.Hour))
	}
	assert.Equal(t, 2+5, count(r), "the 5th write did not delete the expired rows")
}

// A failed cleanup is logged and does not fail the write.
func TestCleanupFailureLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	r, q := tables(t)
	var buf syncBuffer
	opts := []pgstore.Option{pgstore.WithTables(r, q), pgstore.WithCleanup(1, 10),
		pgstore.WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))}
	require.NoError(t, pgstore.Migrate(ctx, p, opts...))
	s := mustNew(t, p, opts...)
	// The cleanup deletes; a role that may only select, insert and update
	// cannot.
	role := "kgtest_role_" + r[7:19]
	_, err := p.Exec(ctx, fmt.Sprintf(`CREATE ROLE %s; GRANT SELECT, INSERT, UPDATE ON %s TO %s`, role, r, role))
	require.NoError(t, err)
	cfg := p.Config().Copy()
	cfg.MaxConns = 2
	cfg.ConnConfig.RuntimeParams["role"] = role
	rp, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer rp.Close()
	rs := mustNew(t, rp, opts...)
	require.NoError(t, rs.Complete(ctx, "k", &store.Record{InstanceID: "i"}, time.Hour), "the write itself must succeed")
	assert.Contains(t, buf.String(), "deleting expired rows failed")
	rec, _, err := s.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, &store.Record{InstanceID: "i"}, rec)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	for _, d := range []time.Duration{0, -time.Second} {
		_, _, err := s.Claim(ctx, "bad", d)
		assert.Error(t, err)
		assert.Error(t, s.Complete(ctx, "bad", &store.Record{}, d))
		_, err = s.Add(ctx, "bad", d)
		assert.Error(t, err)
	}
	assert.Error(t, s.Complete(ctx, "bad", nil, time.Minute))
	_, ok, err := s.Claim(ctx, "bad", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "a refused call wrote the key")
	// A sub-microsecond lease rounds up and works.
	_, ok, err = s.Claim(ctx, "tiny", time.Nanosecond)
	require.NoError(t, err)
	assert.True(t, ok)
}

// New refuses a nil pool and every invalid option with an error, never a
// panic, sending nothing.
func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	// The pool connects lazily; nothing listens on port 1, and New must not
	// try. The password must not reach an error.
	const password = "s3cret-pw"
	p, err := pgxpool.New(context.Background(), "postgres://app:"+password+"@127.0.0.1:1/app?connect_timeout=1")
	require.NoError(t, err)
	t.Cleanup(p.Close)
	for name, tc := range map[string]struct {
		pool *pgxpool.Pool
		opts []pgstore.Option
		want string
	}{
		"nil pool":            {nil, nil, "pgstore: new: nil pool"},
		"zero cleanup limit":  {p, []pgstore.Option{pgstore.WithCleanup(5, 0)}, "pgstore: new: WithCleanup(5, 0): the limit is not positive; want a limit ≥ 1 (rows deleted per cleanup), or every < 1 to turn the store's own cleanup off"},
		"negative limit":      {p, []pgstore.Option{pgstore.WithCleanup(1, -3)}, "pgstore: new: WithCleanup(1, -3): the limit is not positive"},
		"records name":        {p, []pgstore.Option{pgstore.WithTables("", "r")}, `pgstore: new: records table name "": the table name is empty`},
		"replay name":         {p, []pgstore.Option{pgstore.WithTables("r", strings.Repeat("x", 64))}, "pgstore: new: replay table name"},
		"cleanup, then names": {p, []pgstore.Option{pgstore.WithTables("", ""), pgstore.WithCleanup(2, 0)}, "pgstore: new: WithCleanup(2, 0)"},
		"zero timeout":        {p, []pgstore.Option{pgstore.WithTimeout(0)}, "pgstore: new: WithTimeout(0s): the bound must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := pgstore.New(tc.pool, tc.opts...)
			assert.Nil(t, s)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want %q…", err, tc.want)
			assert.NotContains(t, err.Error(), password)
		})
	}
	for name, opts := range map[string][]pgstore.Option{
		"defaults":         nil,
		"nil option":       {nil},
		"cleanup off":      {pgstore.WithCleanup(0, 0)},
		"cleanup off, < 0": {pgstore.WithCleanup(-1, -1)},
		"cleanup every 1":  {pgstore.WithCleanup(1, 1)},
		"nil logger":       {pgstore.WithLogger(nil)},
		"schema-qualified": {pgstore.WithTables("billing.records", "billing.replay")},
		"longest names":    {pgstore.WithTables(strings.Repeat("r", 52), strings.Repeat("q", 52))},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := pgstore.New(p, opts...)
			require.NoError(t, err)
			assert.NotNil(t, s)
		})
	}

	o, err := pgstore.NewUsageOutbox(nil)
	assert.Nil(t, o)
	assert.EqualError(t, err, "pgstore: new usage outbox: nil pool")
	o, err = pgstore.NewUsageOutbox(p, pgstore.WithUsageTable(strings.Repeat("u", 55)))
	assert.Nil(t, o)
	assert.ErrorContains(t, err, "pgstore: new usage outbox: usage outbox table name")
	assert.NotContains(t, err.Error(), password)
	o, err = pgstore.NewUsageOutbox(p, nil, pgstore.WithUsageTable(strings.Repeat("u", 54)))
	require.NoError(t, err)
	assert.NotNil(t, o)
}

// A database that cannot be reached is an error, never a claim or a new
// replay key.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Start(t)
	p, err := pgxpool.New(ctx, srv.URL+"&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(p.Close)
	require.NoError(t, pgstore.Migrate(ctx, p))
	s := mustNew(t, p)
	_, ok, err := s.Claim(ctx, "before", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	srv.Close()
	rec, ok, err := s.Claim(ctx, "after", time.Minute)
	assert.Error(t, err)
	assert.False(t, ok)
	assert.Nil(t, rec)
	added, err := s.Add(ctx, "after", time.Minute)
	assert.Error(t, err)
	assert.False(t, added)
	assert.Error(t, s.Complete(ctx, "after", &store.Record{}, time.Minute))
	assert.Error(t, s.Release(ctx, "after"))
}

// A context that ends while the database holds a lock the call waits for
// interrupts the call.
func TestContextEndsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pool(t)
	r, q := tables(t)
	opts := pgstore.WithTables(r, q)
	require.NoError(t, pgstore.Migrate(ctx, p, opts))
	s := mustNew(t, p, opts)
	tx, err := p.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `LOCK TABLE `+r+` IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, ok, err := s.Claim(short, "locked", time.Minute)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ok)
	assert.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, tx.Rollback(ctx))
	_, ok, err = s.Claim(ctx, "locked", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the interrupted claim left the key claimed")
}

// Claims stay exactly-once while every write also deletes expired rows
// that another writer keeps making.
func TestClaimStormWithCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, pgstore.WithCleanup(1, 1000))
	stop := make(chan struct{})
	churn := make(chan struct{})
	go func() {
		defer close(churn)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Complete(ctx, fmt.Sprint("churn", i), &store.Record{}, time.Millisecond); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for round := range 20 {
		key := fmt.Sprint("storm", round)
		var wins atomic.Int64
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := s.Claim(ctx, key, time.Hour)
				if err != nil {
					t.Error(err)
				} else if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, wins.Load(), "round %d", round)
	}
	close(stop)
	<-churn
}
