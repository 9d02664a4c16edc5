package pgstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/isvkit/koogallery/saas/usage"
)

// UsageOutbox is a usage.Outbox on PostgreSQL: the durable outbox of
// usage.Meter, shared by every replica. Each record is a row (see
// UsageOutboxSchema) keyed by its metering_sn; it is pending, sent or dead.
//
//   - Add inserts the records in one transaction (INSERT … ON CONFLICT
//     (metering_sn) DO NOTHING, then a comparison of the payloads of the
//     metering_sns already there); AddTx does it inside your own
//     transaction, so that usage is recorded exactly when the work it
//     measures commits. Both insert, and so lock, one row per metering_sn
//     in metering_sn order, whatever the order of the entries: concurrent
//     Add, AddTx and Meter.Record calls of overlapping records, in any
//     order, never deadlock, and a record another call stored meanwhile
//     with the same payload is left as it is, without an error. The queue
//     keeps the order of the entries all the same: seq values are drawn
//     from the column's identity sequence in that order (nextval), unless
//     the role may not use the sequence (granted the table alone), when
//     the entries of one call are queued in metering_sn order.
//   - Claim is one UPDATE of the rows a sub-SELECT … ORDER BY seq LIMIT n
//     FOR UPDATE SKIP LOCKED picks: concurrent pushers never wait for each
//     other and never claim the same row. A claimed row carries a random
//     lease token and is unavailable until the lease runs out; a pusher
//     that dies leaves it to be claimed again then.
//   - Settle is one statement (three data-modifying CTEs), so an outcome is
//     recorded whole or not at all.
//
// Times come from the callers (the Meters' clocks), so the replicas' clocks
// must agree to well within the lease. The payload is kept as text, byte
// for byte; KooGallery's raw answer of a dead letter as bytea. It is safe
// for concurrent use.
type UsageOutbox struct {
	pool *pgxpool.Pool
	t    string

	// noSeqUsage is set once the role was refused the seq column's
	// sequence (see nextSeqs).
	noSeqUsage atomic.Bool
}

var _ usage.Outbox = (*UsageOutbox)(nil)

// NewUsageOutbox returns a UsageOutbox on pool, using the table
// MigrateUsageOutbox creates. It sends nothing until the first call.
//
// A nil pool or a table name PostgreSQL would cut short (longer than
// MaxIdentifierLen bytes, or with an index name derived from it that is;
// see WithUsageTable) is an error. NewUsageOutbox never panics.
func NewUsageOutbox(pool *pgxpool.Pool, opts ...UsageOption) (*UsageOutbox, error) {
	if pool == nil {
		return nil, errors.New("pgstore: new usage outbox: nil pool")
	}
	c := newUsageConfig(opts)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("pgstore: new usage outbox: %w", err)
	}
	return &UsageOutbox{pool: pool, t: ident(c.table)}, nil
}

// Table returns the outbox's table name, quoted for SQL.
func (o *UsageOutbox) Table() string { return o.t }

// addChunk bounds the rows of one INSERT.
const addChunk = 5000

// addAttempts bounds the transactions one Add runs when PostgreSQL aborts
// one to break a deadlock or a serialization failure.
const addAttempts = 3

// Add implements usage.Outbox: it stores entries in a transaction of its
// own. Should PostgreSQL abort that transaction for a deadlock with
// someone else's locks (40P01) or a serialization failure (40001), which
// concurrent Adds alone never cause (see add), Add runs it again, up to
// three times in all: nothing of an aborted attempt was stored.
func (o *UsageOutbox) Add(ctx context.Context, entries []usage.Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: usage outbox add: %w", err)
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error { return o.add(ctx, tx, entries) })
		if err == nil {
			return nil
		}
		if attempt == addAttempts || !retryable(err) {
			break
		}
		// A few milliseconds, jittered, so that the transactions that
		// collided do not collide again.
		t := time.NewTimer(time.Duration(attempt) * time.Duration(1+mrand.IntN(10)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("pgstore: usage outbox add: %w (%w)", ctx.Err(), err)
		case <-t.C:
		}
	}
	return fmt.Errorf("pgstore: usage outbox add: %w", err)
}

// retryable reports whether err is PostgreSQL aborting a transaction that
// may succeed when run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// AddTx stores entries (from usage.Meter.Prepare) inside tx, the caller's
// transaction: they are pending once tx commits, and never if it rolls
// back, so that usage is recorded exactly when the work it measures is.
// It runs in a savepoint: a conflict (an error wrapping usage.ErrConflict)
// leaves tx as it was, still usable.
//
//	entries, err := meter.Prepare(records...)
//	...
//	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
//		if _, err := tx.Exec(ctx, "UPDATE jobs SET done = true WHERE id = $1", id); err != nil {
//			return err
//		}
//		return outbox.AddTx(ctx, tx, entries)
//	})
//
// Concurrent AddTx, Add and Meter.Record calls of overlapping entries, in
// any order, never deadlock with each other (see UsageOutbox), so AddTx
// never aborts tx for them; it never retries, since only the caller can
// run its transaction again. Locks tx took before AddTx are the caller's
// to order: a transaction that calls AddTx twice, or locks rows another
// AddTx's caller also locks, can still deadlock as any two transactions
// can. Under REPEATABLE READ or SERIALIZABLE, an entry another
// transaction stored after tx began fails AddTx with a serialization
// failure (40001), as PostgreSQL's INSERT … ON CONFLICT does there.
func (o *UsageOutbox) AddTx(ctx context.Context, tx pgx.Tx, entries []usage.Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: usage outbox add: %w", err)
	}
	if tx == nil {
		return errors.New("pgstore: usage outbox add: nil transaction")
	}
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { return o.add(ctx, sp, entries) })
	if err != nil {
		return fmt.Errorf("pgstore: usage outbox add: %w", err)
	}
	return nil
}

// addRow is an entry as add inserts it, with its place in the queue when
// add chose it (see add).
type addRow struct {
	sn, payload        string
	deadline, recorded time.Time
	seq                int64
}

// add inserts entries in tx. Rows are inserted, and so locked, in
// metering_sn order (byte order, that of the column's "C" collation), one
// row per metering_sn: a transaction inserting a metering_sn another one
// inserted but has not committed waits for it, and since every add takes
// its metering_sns in the same order, no two of them ever wait for each
// other (no deadlock, however their entries overlap), and the waiting one
// then finds the row stored. The queue keeps the caller's order all the
// same: when it is not metering_sn order, add first draws one value of the
// seq column's identity sequence per row, in the caller's order, and
// inserts each row with its own (OVERRIDING SYSTEM VALUE).
func (o *UsageOutbox) add(ctx context.Context, tx pgx.Tx, entries []usage.Entry) error {
	// One row per metering_sn: an unchanged repeat is dropped, a changed one
	// is a conflict before anything is sent.
	first := make(map[string]int, len(entries))
	rows := make([]addRow, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		sn := e.Record.MeteringSN
		if sn == "" || len(e.Payload) == 0 {
			return fmt.Errorf("entry %d has no metering_sn or payload", i)
		}
		if j, ok := first[sn]; ok {
			if !bytes.Equal(entries[j].Payload, e.Payload) {
				return fmt.Errorf("%w: %q", usage.ErrConflict, sn)
			}
			continue
		}
		first[sn] = i
		rows = append(rows, addRow{sn: sn, payload: string(e.Payload), deadline: e.Deadline, recorded: e.Recorded})
	}
	bySN := func(a, b addRow) int { return strings.Compare(a.sn, b.sn) }
	withSeq := false
	if !slices.IsSortedFunc(rows, bySN) && !o.noSeqUsage.Load() {
		seqs, err := o.nextSeqs(ctx, tx, len(rows))
		if err != nil {
			return err
		}
		if seqs != nil {
			withSeq = true
			for i := range rows {
				rows[i].seq = seqs[i]
			}
		}
	}
	slices.SortFunc(rows, bySN)

	const from = `
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[]) WITH ORDINALITY AS r(sn, payload, deadline, recorded, seq, ord)
ORDER BY ord
ON CONFLICT (metering_sn) DO NOTHING
RETURNING metering_sn`
	insert := `INSERT INTO ` + o.t + ` (metering_sn, payload, deadline, recorded)
SELECT sn, payload, deadline, recorded` + from
	insertSeq := `INSERT INTO ` + o.t + ` (metering_sn, seq, payload, deadline, recorded) OVERRIDING SYSTEM VALUE
SELECT sn, seq, payload, deadline, recorded` + from
	existing := `SELECT metering_sn, payload FROM ` + o.t + ` WHERE metering_sn = ANY($1)`
	for chunk := range slices.Chunk(rows, addChunk) {
		sns := make([]string, len(chunk))
		payloads := make([]string, len(chunk))
		deadlines := make([]time.Time, len(chunk))
		recorded := make([]time.Time, len(chunk))
		seqs := make([]int64, len(chunk))
		for i := range chunk {
			sns[i] = chunk[i].sn
			payloads[i] = chunk[i].payload
			deadlines[i] = chunk[i].deadline
			recorded[i] = chunk[i].recorded
			seqs[i] = chunk[i].seq
		}
		q := insert
		if withSeq {
			q = insertSeq
		}
		inserted, err := collectStrings(tx.Query(ctx, q, sns, payloads, deadlines, recorded, seqs))
		if err != nil {
			return err
		}
		if len(inserted) == len(chunk) {
			continue
		}
		fresh := make(map[string]bool, len(inserted))
		for _, sn := range inserted {
			fresh[sn] = true
		}
		var again []string
		for _, sn := range sns {
			if !fresh[sn] {
				again = append(again, sn)
			}
		}
		r, err := tx.Query(ctx, existing, again)
		if err != nil {
			return err
		}
		stored := map[string]string{}
		var sn, payload string
		_, err = pgx.ForEachRow(r, []any{&sn, &payload}, func() error { stored[sn] = payload; return nil })
		if err != nil {
			return err
		}
		for i, sn := range sns {
			if fresh[sn] {
				continue
			}
			if p, ok := stored[sn]; !ok || p != payloads[i] {
				return fmt.Errorf("%w: %q", usage.ErrConflict, sn)
			}
		}
	}
	return nil
}

// nextSeqs draws n values of the seq column's identity sequence, in
// increasing order, in a savepoint of tx. When the role may not use the
// sequence (a role granted the table but not its sequence), it returns
// nil, and the outbox no longer tries: the entries of one call are then
// queued in metering_sn order.
func (o *UsageOutbox) nextSeqs(ctx context.Context, tx pgx.Tx, n int) ([]int64, error) {
	var seqs []int64
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		var err error
		seqs, err = collectInts(sp.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'seq')) FROM generate_series(1, $2)`, o.t, n))
		return err
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "42501": // insufficient_privilege
		o.noSeqUsage.Store(true)
		return nil, nil
	case err != nil:
		return nil, err
	case len(seqs) != n:
		return nil, fmt.Errorf("drew %d values of the seq sequence, want %d", len(seqs), n)
	}
	slices.Sort(seqs)
	return seqs, nil
}

func collectInts(rows pgx.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func collectStrings(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// entryColumns are the columns scanEntry reads, in its order.
const entryColumns = `metering_sn, seq, payload, deadline, recorded, attempts, last_error`

// scanEntry reads a row of entryColumns (and extra destinations after
// them).
func scanEntry(row pgx.CollectableRow, extra ...any) (usage.Entry, int64, error) {
	var (
		e       usage.Entry
		sn      string
		seq     int64
		payload string
	)
	dest := append([]any{&sn, &seq, &payload, &e.Deadline, &e.Recorded, &e.Attempts, &e.LastError}, extra...)
	if err := row.Scan(dest...); err != nil {
		return e, 0, err
	}
	e.Payload = json.RawMessage(payload)
	if err := json.Unmarshal(e.Payload, &e.Record); err != nil {
		// A row changed by hand: the pusher finds the record invalid and
		// dead-letters it, rather than the outbox failing every claim.
		e.Record = usage.Record{}
		e.LastError = "the stored record does not decode: " + err.Error()
	}
	e.Record.MeteringSN = sn
	e.Deadline, e.Recorded = e.Deadline.UTC(), e.Recorded.UTC()
	return e, seq, nil
}

// Claim implements usage.Outbox.
func (o *UsageOutbox) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) (*usage.Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox claim: %w", err)
	}
	if max <= 0 || lease <= 0 {
		return nil, errors.New("pgstore: usage outbox claim: max and lease must be positive")
	}
	token, err := newLeaseToken()
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox claim: %w", err)
	}
	c := &usage.Claim{Token: token, Until: now.Add(lease)}
	rows, err := o.pool.Query(ctx, `UPDATE `+o.t+` AS t SET lease_token = $1, available = $2, attempts = t.attempts + 1
FROM (SELECT metering_sn FROM `+o.t+`
      WHERE state = 'pending' AND available <= $3
      ORDER BY seq LIMIT $4
      FOR UPDATE SKIP LOCKED) AS c
WHERE t.metering_sn = c.metering_sn
RETURNING t.metering_sn, t.seq, t.payload, t.deadline, t.recorded, t.attempts, t.last_error`, token, c.Until, now, max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox claim: %w", err)
	}
	type claimed struct {
		e   usage.Entry
		seq int64
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimed, error) {
		e, seq, err := scanEntry(row)
		return claimed{e, seq}, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox claim: %w", err)
	}
	slices.SortFunc(got, func(a, b claimed) int { return cmp.Compare(a.seq, b.seq) })
	c.Entries = make([]usage.Entry, len(got))
	for i := range got {
		c.Entries[i] = got[i].e
	}
	return c, nil
}

// Renew implements usage.Outbox.
func (o *UsageOutbox) Renew(ctx context.Context, token string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: usage outbox renew: %w", err)
	}
	_, err := o.pool.Exec(ctx, `UPDATE `+o.t+` SET available = $2 WHERE lease_token = $1 AND state = 'pending'`, token, until)
	if err != nil {
		return fmt.Errorf("pgstore: usage outbox renew: %w", err)
	}
	return nil
}

// Settle implements usage.Outbox, in one statement.
func (o *UsageOutbox) Settle(ctx context.Context, token string, s usage.Settlement) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: usage outbox settle: %w", err)
	}
	if len(s.Sent)+len(s.Retry)+len(s.Dead) == 0 {
		return nil
	}
	dsn := make([]string, len(s.Dead))
	reasons := make([]string, len(s.Dead))
	codes := make([]string, len(s.Dead))
	raws := make([][]byte, len(s.Dead))
	for i, d := range s.Dead {
		dsn[i], reasons[i], codes[i], raws[i] = d.Record.MeteringSN, pgText(d.Reason), pgText(d.Code), d.Raw
	}
	sent, retry := s.Sent, s.Retry
	if sent == nil {
		sent = []string{}
	}
	if retry == nil {
		retry = []string{}
	}
	_, err := o.pool.Exec(ctx, `WITH sent AS (
	UPDATE `+o.t+` SET state = 'sent', sent_at = $1, lease_token = NULL
	WHERE metering_sn = ANY($2::text[]) AND state = 'pending'
), retry AS (
	UPDATE `+o.t+` SET available = $3, last_error = $4, lease_token = NULL
	WHERE metering_sn = ANY($5::text[]) AND state = 'pending' AND lease_token = $6
), dead AS (
	UPDATE `+o.t+` AS t SET state = 'dead', died = $1, dead_reason = d.reason, dead_code = d.code, dead_raw = d.raw, lease_token = NULL
	FROM unnest($7::text[], $8::text[], $9::text[], $10::bytea[]) AS d(sn, reason, code, raw)
	WHERE t.metering_sn = d.sn AND t.state = 'pending' AND t.lease_token = $6
)
SELECT 1`, s.Now, sent, s.RetryAt, pgText(s.RetryError), retry, token, dsn, reasons, codes, raws)
	if err != nil {
		return fmt.Errorf("pgstore: usage outbox settle: %w", err)
	}
	return nil
}

// pgText makes s storable as text: valid UTF-8 without NUL.
func pgText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newLeaseToken returns 32 random hex digits.
func newLeaseToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
