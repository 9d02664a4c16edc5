package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/isvkit/koogallery/saas/usage"
)

// Operating the outbox: what an operator (kgctl, a dashboard) reads and
// does with it, beside the Meter's own Add, Claim, Renew and Settle.

// Stats implements usage.Outbox.
func (o *UsageOutbox) Stats(ctx context.Context, now time.Time) (usage.OutboxStats, error) {
	var st usage.OutboxStats
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("pgstore: usage outbox stats: %w", err)
	}
	var oldest, next *time.Time
	err := o.pool.QueryRow(ctx, `SELECT
	count(*) FILTER (WHERE state = 'pending'),
	count(*) FILTER (WHERE state = 'pending' AND lease_token IS NOT NULL AND available > $1),
	count(*) FILTER (WHERE state = 'dead'),
	count(*) FILTER (WHERE state = 'sent'),
	min(recorded) FILTER (WHERE state = 'pending'),
	min(deadline) FILTER (WHERE state = 'pending')
FROM `+o.t, now).Scan(&st.Pending, &st.Leased, &st.Dead, &st.Sent, &oldest, &next)
	if err != nil {
		return st, fmt.Errorf("pgstore: usage outbox stats: %w", err)
	}
	if oldest != nil {
		st.OldestPending = oldest.UTC()
	}
	if next != nil {
		st.NextDeadline = next.UTC()
	}
	return st, nil
}

// AtRisk implements usage.Outbox.
func (o *UsageOutbox) AtRisk(ctx context.Context, before time.Time, max int) ([]usage.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox at risk: %w", err)
	}
	rows, err := o.pool.Query(ctx, `SELECT `+entryColumns+` FROM `+o.t+`
WHERE state = 'pending' AND deadline <= $1 ORDER BY deadline, seq LIMIT $2`, before, max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox at risk: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (usage.Entry, error) {
		e, _, err := scanEntry(row)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox at risk: %w", err)
	}
	return out, nil
}

// DeadLetters implements usage.Outbox: the dead letters whose metering_sn
// sorts after after (byte order), in that order, at most max.
func (o *UsageOutbox) DeadLetters(ctx context.Context, after string, max int) ([]usage.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox dead letters: %w", err)
	}
	rows, err := o.pool.Query(ctx, `SELECT `+entryColumns+`, dead_reason, dead_code, dead_raw, died FROM `+o.t+`
WHERE state = 'dead' AND metering_sn > $1 ORDER BY metering_sn LIMIT $2`, after, max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (usage.DeadLetter, error) {
		var d usage.DeadLetter
		var reason, code *string
		var raw []byte
		var died *time.Time
		e, _, err := scanEntry(row, &reason, &code, &raw, &died)
		if err != nil {
			return d, err
		}
		d.Entry = e
		if reason != nil {
			d.Reason = *reason
		}
		if code != nil {
			d.Code = *code
		}
		if len(raw) > 0 {
			d.Raw = raw
		}
		if died != nil {
			d.Died = died.UTC()
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: usage outbox dead letters: %w", err)
	}
	return out, nil
}

// Requeue implements usage.Outbox.
func (o *UsageOutbox) Requeue(ctx context.Context, now time.Time, meteringSNs []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: usage outbox requeue: %w", err)
	}
	tag, err := o.pool.Exec(ctx, `UPDATE `+o.t+` SET state = 'pending', available = $1, lease_token = NULL,
	dead_reason = NULL, dead_code = NULL, dead_raw = NULL, died = NULL
WHERE metering_sn = ANY($2::text[]) AND state = 'dead'`, now, nonNil(meteringSNs))
	if err != nil {
		return 0, fmt.Errorf("pgstore: usage outbox requeue: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Discard implements usage.Outbox.
func (o *UsageOutbox) Discard(ctx context.Context, meteringSNs []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: usage outbox discard: %w", err)
	}
	tag, err := o.pool.Exec(ctx, `DELETE FROM `+o.t+` WHERE metering_sn = ANY($1::text[]) AND state = 'dead'`, nonNil(meteringSNs))
	if err != nil {
		return 0, fmt.Errorf("pgstore: usage outbox discard: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// purgeChunk bounds the rows one DELETE of Purge takes.
const purgeChunk = 10000

// Purge implements usage.Outbox, deleting in batches that take no table
// lock and skip rows in use.
func (o *UsageOutbox) Purge(ctx context.Context, sentBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: usage outbox purge: %w", err)
	}
	total := 0
	for {
		tag, err := o.pool.Exec(ctx, `DELETE FROM `+o.t+` WHERE ctid = ANY(ARRAY(
	SELECT ctid FROM `+o.t+` WHERE state = 'sent' AND sent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`, sentBefore, purgeChunk)
		if err != nil {
			return total, fmt.Errorf("pgstore: usage outbox purge: %w", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < purgeChunk {
			return total, nil
		}
	}
}
