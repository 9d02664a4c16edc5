package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/isvkit/koogallery/store"
)

const (
	defaultCleanupEvery = 256
	defaultCleanupLimit = 1024
)

type logger = *slog.Logger

// WithCleanup sets how often the store deletes expired rows on its own:
// after every every-th write to a table, that write also deletes up to
// limit expired rows of it (256 and 1,024 by default, which keeps up with
// any rate of writes). every < 1 turns it off, for a deployment that runs
// Cleanup on a schedule instead. With every ≥ 1, limit must be positive:
// New returns an error otherwise.
func WithCleanup(every, limit int) Option {
	return func(c *config) { c.cleanupEvery, c.cleanupLimit = every, limit }
}

// WithLogger sets where failures of the store's own cleanup are logged (at
// WARN; slog.Default() if not set). The calls' own failures are returned.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// Store is a store.Store and a store.ReplayCache on PostgreSQL. It is safe
// for concurrent use, and any number of processes may share one database.
type Store struct {
	pool         *pgxpool.Pool
	log          *slog.Logger
	cleanupEvery uint64
	cleanupLimit int
	recWrites    atomic.Uint64
	replayWrites atomic.Uint64

	claimSQL, selectSQL, completeSQL, releaseSQL, addSQL string
	cleanRecordsSQL, cleanReplaySQL                      string
	timeout                                              time.Duration // WithTimeout
}

// New returns a Store on pool, using the tables Migrate creates. It sends
// nothing until the first call.
//
// A nil pool or an invalid option is an error: WithCleanup with every > 0
// and a limit < 1, or a table name PostgreSQL would cut short (longer than
// MaxIdentifierLen bytes, or with an index name derived from it that is;
// see WithTables). New never panics.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: new: nil pool")
	}
	c := newConfig(opts)
	if c.cleanupEvery > 0 && c.cleanupLimit < 1 {
		return nil, fmt.Errorf("pgstore: new: WithCleanup(%d, %d): the limit is not positive; want a limit ≥ 1 (rows deleted per cleanup), or every < 1 to turn the store's own cleanup off", c.cleanupEvery, c.cleanupLimit)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("pgstore: new: %w", err)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("pgstore: new: WithTimeout(%v): the bound must be positive", c.timeout)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	r, p := ident(c.records), ident(c.replay)
	s := &Store{
		pool:         pool,
		log:          c.logger,
		cleanupEvery: uint64(max(c.cleanupEvery, 0)),
		cleanupLimit: c.cleanupLimit,
		timeout:      c.timeout,

		// An absent key is inserted; an expired one is taken over. A live
		// one is left alone (but locked until the batch ends), and no row
		// comes back.
		claimSQL: `INSERT INTO ` + r + ` AS t (key, claimed, instance_id, pending, expires_at)
VALUES ($1, true, '', false, now() + $2::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET claimed = true, instance_id = '', pending = false, expires_at = EXCLUDED.expires_at
WHERE t.expires_at <= now()
RETURNING true`,
		selectSQL: `SELECT claimed, instance_id, pending FROM ` + r + ` WHERE key = $1 AND expires_at > now()`,
		completeSQL: `INSERT INTO ` + r + ` AS t (key, claimed, instance_id, pending, expires_at)
VALUES ($1, false, $2, $3, now() + $4::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET claimed = false, instance_id = EXCLUDED.instance_id, pending = EXCLUDED.pending, expires_at = EXCLUDED.expires_at`,
		releaseSQL: `DELETE FROM ` + r + ` WHERE key = $1 AND claimed`,
		addSQL: `INSERT INTO ` + p + ` AS t (key, expires_at)
VALUES ($1, now() + $2::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
WHERE t.expires_at <= now()
RETURNING true`,
		cleanRecordsSQL: cleanupSQL(r),
		cleanReplaySQL:  cleanupSQL(p),
	}
	return s, nil
}

// cleanupSQL deletes up to $1 expired rows of table, skipping rows other
// transactions hold: no table lock, no wait, bounded work.
func cleanupSQL(table string) string {
	return `DELETE FROM ` + table + ` WHERE ctid = ANY (ARRAY(
	SELECT ctid FROM ` + table + ` WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED
)) AND expires_at <= now()`
}

// DefaultTimeout bounds every Claim, Complete, Release and Add whose
// context has no earlier deadline, unless WithTimeout sets another bound. pgx has no timeout of its own, and the
// handlers call Add with the request's context, which has no deadline: a
// database that stops answering without closing its connections (a
// partition that drops packets, a stalled host) held the callback until
// KooGallery gave up after 5 s, instead of the handler answering 000005 in
// time for KooGallery to count a refusal. Release came with a 5-second
// context. Claim and Complete run under the claim lease, usually sooner.
const DefaultTimeout = 2 * time.Second

// bounded returns ctx if it ends within the store's bound, else ctx bounded
// by it.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// Claim implements store.Store. It is one round trip: the claim and, when
// it does not win, the read of what holds the key, in one batch.
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (*store.Record, bool, error) {
	us, err := micros(ctx, "claim", "lease", lease)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	for range 3 {
		rec, claimed, found, err := s.claimOnce(ctx, key, us)
		if err != nil {
			return nil, false, wrap(ctx, "claim", err)
		}
		if claimed || found {
			s.maybeCleanup(ctx, &s.recWrites, s.cleanRecordsSQL)
			return rec, claimed, nil
		}
		// The row that stopped the claim expired or was released between
		// the two statements: try again.
	}
	return nil, false, fmt.Errorf("pgstore: claim: the key kept changing under three attempts")
}

func (s *Store) claimOnce(ctx context.Context, key string, us int64) (rec *store.Record, claimed, found bool, err error) {
	b := &pgx.Batch{}
	b.Queue(s.claimSQL, key, us)
	b.Queue(s.selectSQL, key)
	br := s.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var won bool
	switch err := br.QueryRow().Scan(&won); {
	case err == nil:
		claimed = true
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, false, false, err
	}
	var isClaim, pending bool
	var id []byte
	switch err := br.QueryRow().Scan(&isClaim, &id, &pending); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, claimed, false, nil
	case err != nil:
		return nil, false, false, err
	}
	if claimed || isClaim {
		return nil, claimed, true, nil
	}
	return &store.Record{InstanceID: string(id), Pending: pending}, false, true, nil
}

// Complete implements store.Store.
func (s *Store) Complete(ctx context.Context, key string, r *store.Record, keep time.Duration) error {
	if r == nil {
		return errors.New("pgstore: complete: nil record")
	}
	us, err := micros(ctx, "complete", "keep", keep)
	if err != nil {
		return err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, s.completeSQL, key, []byte(r.InstanceID), r.Pending, us); err != nil {
		return wrap(ctx, "complete", err)
	}
	s.maybeCleanup(ctx, &s.recWrites, s.cleanRecordsSQL)
	return nil
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: release: %w", err)
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, s.releaseSQL, key); err != nil {
		return wrap(ctx, "release", err)
	}
	return nil
}

// Add implements store.ReplayCache.
func (s *Store) Add(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	us, err := micros(ctx, "replay add", "ttl", ttl)
	if err != nil {
		return false, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var added bool
	switch err := s.pool.QueryRow(ctx, s.addSQL, key, us).Scan(&added); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return false, wrap(ctx, "replay add", err)
	}
	s.maybeCleanup(ctx, &s.replayWrites, s.cleanReplaySQL)
	return added, nil
}

// Cleanup deletes up to limit expired rows from each table and returns how
// many it deleted. It takes no table lock and skips rows in use. Run it on a
// schedule if WithCleanup turned the store's own cleanup off, or to empty
// the tables of a quiet store.
func (s *Store) Cleanup(ctx context.Context, limit int) (int64, error) {
	if limit < 1 {
		return 0, fmt.Errorf("pgstore: cleanup: limit %d is not positive", limit)
	}
	var n int64
	for _, q := range []string{s.cleanRecordsSQL, s.cleanReplaySQL} {
		tag, err := s.pool.Exec(ctx, q, limit)
		if err != nil {
			return n, wrap(ctx, "cleanup", err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

// maybeCleanup runs one bounded cleanup of a table after every
// cleanupEvery-th write to it. Its failure does not fail the write.
func (s *Store) maybeCleanup(ctx context.Context, writes *atomic.Uint64, q string) {
	if s.cleanupEvery == 0 || writes.Add(1)%s.cleanupEvery != 0 {
		return
	}
	if _, err := s.pool.Exec(ctx, q, s.cleanupLimit); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "pgstore: deleting expired rows failed; they stay until the next cleanup", "error", err)
	}
}

// micros checks ctx and d and returns d in whole microseconds, rounded up.
func micros(ctx context.Context, op, name string, d time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("pgstore: %s: %s %v is not positive", op, name, d)
	}
	us := int64(d / time.Microsecond)
	if d%time.Microsecond != 0 {
		us++
	}
	return us, nil
}

// wrap names op, and the context's error when the context ended the call.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("pgstore: %s: %w (%w)", op, cerr, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.ReplayCache = (*Store)(nil)
)
