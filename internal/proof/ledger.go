package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Ledger is the seller's own database, as the replicas' provider uses it:
// what it provisioned and applied (a key-value table), an append-only log
// of every instance created and upgrade applied (from which the proof counts
// duplicates), and a count of how often the seller's code ran for each
// signed call (from which it counts replays that got through).
//
// Its look-up and its write are deliberately two steps, as in most sellers'
// code: if the handlers ever let two replicas provision one order line at
// the same time, both look-ups miss and the log shows two creations.
type Ledger interface {
	// Get returns the value of key and whether it is set.
	Get(ctx context.Context, key string) (string, bool, error)
	// Put sets key to value and, if event is not empty, appends event to
	// the log, atomically.
	Put(ctx context.Context, key, value, event string) error
	// Note counts one run of the seller's code under marker.
	Note(ctx context.Context, marker string) error
	// Dump returns the log and the counts.
	Dump(ctx context.Context) (*Dump, error)
	// Close releases the ledger's connections.
	Close()
}

// Dump is what a Ledger holds.
type Dump struct {
	Events []string       `json:"events"` // "kind|key|value|replica", in order
	Notes  map[string]int `json:"notes"`  // marker → runs
}

// memLedger is the ledger of the single-replica baseline: in the replica's
// memory, read by the driver over HTTP.
type memLedger struct {
	mu     sync.Mutex
	kv     map[string]string
	events []string
	notes  map[string]int
}

func newMemLedger() *memLedger {
	return &memLedger{kv: map[string]string{}, notes: map[string]int{}}
}

func (l *memLedger) Get(_ context.Context, key string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.kv[key]
	return v, ok, nil
}

func (l *memLedger) Put(_ context.Context, key, value, event string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kv[key] = value
	if event != "" {
		l.events = append(l.events, event)
	}
	return nil
}

func (l *memLedger) Note(_ context.Context, marker string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes[marker]++
	return nil
}

func (l *memLedger) Dump(context.Context) (*Dump, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := &Dump{Events: append([]string(nil), l.events...), Notes: make(map[string]int, len(l.notes))}
	for k, v := range l.notes {
		d.Notes[k] = v
	}
	return d, nil
}

func (l *memLedger) Close() {}

// Redis layout: proof:kv:<key> strings, the list proof:events, the hash
// proof:notes.
const (
	redisKV     = "proof:kv:"
	redisEvents = "proof:events"
	redisNotes  = "proof:notes"
)

type redisLedger struct{ c *redis.Client }

func (l *redisLedger) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := l.c.Get(ctx, redisKV+key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("ledger: get: %w", err)
	}
	return v, true, nil
}

func (l *redisLedger) Put(ctx context.Context, key, value, event string) error {
	_, err := l.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, redisKV+key, value, 0)
		if event != "" {
			p.RPush(ctx, redisEvents, event)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ledger: put: %w", err)
	}
	return nil
}

func (l *redisLedger) Note(ctx context.Context, marker string) error {
	if err := l.c.HIncrBy(ctx, redisNotes, marker, 1).Err(); err != nil {
		return fmt.Errorf("ledger: note: %w", err)
	}
	return nil
}

func (l *redisLedger) Dump(ctx context.Context) (*Dump, error) {
	events, err := l.c.LRange(ctx, redisEvents, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	notes, err := l.c.HGetAll(ctx, redisNotes).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	d := &Dump{Events: events, Notes: make(map[string]int, len(notes))}
	for k, v := range notes {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			return nil, fmt.Errorf("ledger: dump: note %q: %w", k, err)
		}
		d.Notes[k] = n
	}
	return d, nil
}

func (l *redisLedger) Close() { l.c.Close() }

// pgLedgerSchema creates the PostgreSQL ledger's tables.
const pgLedgerSchema = `
CREATE TABLE IF NOT EXISTS proof_kv (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS proof_events (seq bigserial PRIMARY KEY, event text NOT NULL);
CREATE TABLE IF NOT EXISTS proof_notes (marker text COLLATE "C" PRIMARY KEY, n integer NOT NULL);
`

type pgLedger struct{ pool *pgxpool.Pool }

// pgLedgerTimeout bounds each ledger statement whose context has no
// earlier deadline, as a seller's code should: pgx has none of its own,
// and the license and order handlers call the seller with the request's
// context, so a partition would hold the call past KooGallery's 5 s in the
// seller's code, not in the SDK's. (The Redis ledger's client has a 1 s
// read timeout and no retries.)
const pgLedgerTimeout = 2 * time.Second

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= pgLedgerTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, pgLedgerTimeout)
}

func (l *pgLedger) Get(ctx context.Context, key string) (string, bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var v string
	err := l.pool.QueryRow(ctx, `SELECT value FROM proof_kv WHERE key = $1`, key).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("ledger: get: %w", err)
	}
	return v, true, nil
}

// Put is one statement, so the value and the event land together or not at
// all.
func (l *pgLedger) Put(ctx context.Context, key, value, event string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := l.pool.Exec(ctx, `WITH e AS (INSERT INTO proof_events (event) SELECT $3 WHERE $3 <> '')
INSERT INTO proof_kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value, event)
	if err != nil {
		return fmt.Errorf("ledger: put: %w", err)
	}
	return nil
}

func (l *pgLedger) Note(ctx context.Context, marker string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := l.pool.Exec(ctx, `INSERT INTO proof_notes (marker, n) VALUES ($1, 1)
ON CONFLICT (marker) DO UPDATE SET n = proof_notes.n + 1`, marker)
	if err != nil {
		return fmt.Errorf("ledger: note: %w", err)
	}
	return nil
}

func (l *pgLedger) Dump(ctx context.Context) (*Dump, error) {
	d := &Dump{Notes: map[string]int{}}
	rows, err := l.pool.Query(ctx, `SELECT event FROM proof_events ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	if d.Events, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	rows, err = l.pool.Query(ctx, `SELECT marker, n FROM proof_notes`)
	if err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	var marker string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&marker, &n}, func() error { d.Notes[marker] = n; return nil }); err != nil {
		return nil, fmt.Errorf("ledger: dump: %w", err)
	}
	return d, nil
}

func (l *pgLedger) Close() { l.pool.Close() }

// Violations is what a Dump shows went wrong.
type Violations struct {
	// Duplicates are the keys (order lines, upgrade order lines) with more
	// than one creation in the log.
	Duplicates []string
	// ReRuns are the signed calls whose seller code ran more than once.
	ReRuns []string
	// Forged are the markers of forged or stale calls that reached the
	// seller's code.
	Forged []string
	// Creations and Upgrades count the log's events.
	Creations, Upgrades int
	// Resumed counts NewInstance calls that found a half-made instance and
	// finished it; FoundReady those that found a finished one (the
	// handler's record was lost, or never written).
	Resumed, FoundReady int
}

// Event kinds and note markers the provider writes.
const (
	eventProvision = "provision"
	eventUpgrade   = "upgrade"
	noteForged     = "!forged/"
	noteResumed    = "~resumed/"
	noteFoundReady = "~found/"
)

// Check reads the violations out of d.
func (d *Dump) Check() Violations {
	var v Violations
	seen := map[string]int{}
	for _, e := range d.Events {
		kind, rest, _ := strings.Cut(e, "|")
		key, _, _ := strings.Cut(rest, "|")
		switch kind {
		case eventProvision:
			v.Creations++
		case eventUpgrade:
			v.Upgrades++
		}
		seen[kind+"|"+key]++
		if seen[kind+"|"+key] == 2 {
			v.Duplicates = append(v.Duplicates, kind+" "+key)
		}
	}
	for m, n := range d.Notes {
		switch {
		case strings.HasPrefix(m, noteForged):
			v.Forged = append(v.Forged, m)
		case strings.HasPrefix(m, noteResumed):
			v.Resumed += n
		case strings.HasPrefix(m, noteFoundReady):
			v.FoundReady += n
		case strings.Contains(m, "/"+prefixProbe):
			// a fault's probe replayed it: Probe says whether it ran again
		case n > 1:
			v.ReRuns = append(v.ReRuns, fmt.Sprintf("%s ×%d", m, n))
		}
	}
	return v
}
