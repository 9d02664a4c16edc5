package usage

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MemoryOutbox is an Outbox in the process's memory, for tests, demos and
// sellers who accept losing the records of a process that dies: it is not
// durable. It is safe for concurrent use, and holds everything it is given
// until it is sent and purged.
type MemoryOutbox struct {
	mu      sync.Mutex
	seq     uint64
	tokens  uint64
	bySN    map[string]*memEntry
	queue   []*memEntry // pending entries in seq order, plus some that no longer are
	stale   int         // entries in queue that are no longer pending
	pending int
	dead    map[string]*memEntry
	sent    int
	claims  map[string]*memClaim
}

type memState uint8

const (
	memPending memState = iota
	memSent
	memDead
)

type memEntry struct {
	Entry
	seq    uint64
	state  memState
	due    time.Time
	token  string
	until  time.Time
	queued bool
	dl     DeadLetter
	sentAt time.Time
}

type memClaim struct {
	until time.Time
	sns   []string
}

// NewMemoryOutbox returns an empty MemoryOutbox.
func NewMemoryOutbox() *MemoryOutbox {
	return &MemoryOutbox{bySN: map[string]*memEntry{}, dead: map[string]*memEntry{}, claims: map[string]*memClaim{}}
}

var _ Outbox = (*MemoryOutbox)(nil)

// Add implements Outbox.
func (o *MemoryOutbox) Add(ctx context.Context, entries []Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("usage: outbox add: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fresh := make(map[string]int, len(entries))
	for i := range entries {
		e := &entries[i]
		sn := e.Record.MeteringSN
		if sn == "" || len(e.Payload) == 0 {
			return fmt.Errorf("usage: outbox add: entry %d has no metering_sn or payload", i)
		}
		if old, ok := o.bySN[sn]; ok && !bytes.Equal(old.Payload, e.Payload) {
			return fmt.Errorf("usage: outbox add: %w: %q", ErrConflict, sn)
		}
		if j, ok := fresh[sn]; ok && !bytes.Equal(entries[j].Payload, e.Payload) {
			return fmt.Errorf("usage: outbox add: %w: %q", ErrConflict, sn)
		}
		fresh[sn] = i
	}
	for i := range entries {
		sn := entries[i].Record.MeteringSN
		if _, ok := o.bySN[sn]; ok {
			continue
		}
		o.seq++
		me := &memEntry{Entry: entries[i], seq: o.seq}
		me.Payload = bytes.Clone(me.Payload)
		me.Attempts, me.LastError = 0, ""
		o.bySN[sn] = me
		o.pending++
		me.queued = true
		o.queue = append(o.queue, me)
	}
	return nil
}

// Claim implements Outbox.
func (o *MemoryOutbox) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) (*Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("usage: outbox claim: %w", err)
	}
	if max <= 0 || lease <= 0 {
		return nil, errors.New("usage: outbox claim: max and lease must be positive")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepClaims(now)
	o.tokens++
	c := &Claim{Token: "mem-" + strconv.FormatUint(o.tokens, 10), Until: now.Add(lease)}
	mc := &memClaim{until: c.Until}
	for _, me := range o.queue {
		if len(c.Entries) == max {
			break
		}
		if me.state != memPending || me.due.After(now) || (me.token != "" && me.until.After(now)) {
			continue
		}
		me.token, me.until = c.Token, c.Until
		me.Attempts++
		c.Entries = append(c.Entries, me.Entry)
		mc.sns = append(mc.sns, me.Record.MeteringSN)
	}
	if len(mc.sns) > 0 {
		o.claims[c.Token] = mc
	}
	return c, nil
}

// sweepClaims forgets claims none of whose entries it still holds.
func (o *MemoryOutbox) sweepClaims(now time.Time) {
	for tok, mc := range o.claims {
		if mc.until.After(now) {
			continue
		}
		if !o.holdsAny(tok, mc) {
			delete(o.claims, tok)
		}
	}
}

func (o *MemoryOutbox) holdsAny(tok string, mc *memClaim) bool {
	for _, sn := range mc.sns {
		if me := o.bySN[sn]; me != nil && me.state == memPending && me.token == tok {
			return true
		}
	}
	return false
}

// Renew implements Outbox.
func (o *MemoryOutbox) Renew(ctx context.Context, token string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("usage: outbox renew: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	mc := o.claims[token]
	if mc == nil {
		return nil
	}
	mc.until = until
	for _, sn := range mc.sns {
		if me := o.bySN[sn]; me != nil && me.state == memPending && me.token == token {
			me.until = until
		}
	}
	return nil
}

// Settle implements Outbox.
func (o *MemoryOutbox) Settle(ctx context.Context, token string, s Settlement) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("usage: outbox settle: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, sn := range s.Sent {
		if me := o.bySN[sn]; me != nil && me.state == memPending {
			o.leave(me, memSent)
			me.sentAt = s.Now
			o.sent++
		}
	}
	for _, sn := range s.Retry {
		if me := o.bySN[sn]; me != nil && me.state == memPending && me.token == token {
			me.token, me.until = "", time.Time{}
			me.due = s.RetryAt
			me.LastError = s.RetryError
		}
	}
	for _, d := range s.Dead {
		sn := d.Record.MeteringSN
		if me := o.bySN[sn]; me != nil && me.state == memPending && me.token == token {
			o.leave(me, memDead)
			me.dl = DeadLetter{Reason: d.Reason, Code: d.Code, Raw: bytes.Clone(d.Raw), Died: s.Now}
			o.dead[sn] = me
		}
	}
	if mc := o.claims[token]; mc != nil && !o.holdsAny(token, mc) {
		delete(o.claims, token)
	}
	return nil
}

// leave takes a pending entry out of the queue's live part.
func (o *MemoryOutbox) leave(me *memEntry, to memState) {
	me.state = to
	me.token, me.until = "", time.Time{}
	o.pending--
	if me.queued {
		o.stale++
		if o.stale > 64 && o.stale > len(o.queue)/2 {
			live := o.queue[:0]
			for _, q := range o.queue {
				if q.state == memPending {
					live = append(live, q)
				} else {
					q.queued = false
				}
			}
			clear(o.queue[len(live):])
			o.queue, o.stale = live, 0
		}
	}
}

// Stats implements Outbox.
func (o *MemoryOutbox) Stats(ctx context.Context, now time.Time) (OutboxStats, error) {
	if err := ctx.Err(); err != nil {
		return OutboxStats{}, fmt.Errorf("usage: outbox stats: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	st := OutboxStats{Pending: o.pending, Dead: len(o.dead), Sent: o.sent}
	for _, me := range o.queue {
		if me.state != memPending {
			continue
		}
		if me.token != "" && me.until.After(now) {
			st.Leased++
		}
		if st.OldestPending.IsZero() || me.Recorded.Before(st.OldestPending) {
			st.OldestPending = me.Recorded
		}
		if st.NextDeadline.IsZero() || me.Deadline.Before(st.NextDeadline) {
			st.NextDeadline = me.Deadline
		}
	}
	return st, nil
}

// AtRisk implements Outbox.
func (o *MemoryOutbox) AtRisk(ctx context.Context, before time.Time, max int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("usage: outbox at risk: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Entry
	for _, me := range o.queue {
		if me.state == memPending && !me.Deadline.After(before) {
			out = append(out, me.Entry)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.Deadline.Compare(b.Deadline) })
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// DeadLetters implements Outbox: the dead letters whose MeteringSN sorts
// after after, in MeteringSN order, at most max.
func (o *MemoryOutbox) DeadLetters(ctx context.Context, after string, max int) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("usage: outbox dead letters: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []DeadLetter
	for sn, me := range o.dead {
		if sn > after {
			d := me.dl
			d.Entry = me.Entry
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b DeadLetter) int { return cmp.Compare(a.Record.MeteringSN, b.Record.MeteringSN) })
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// Requeue implements Outbox.
func (o *MemoryOutbox) Requeue(ctx context.Context, now time.Time, meteringSNs []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("usage: outbox requeue: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, sn := range meteringSNs {
		me := o.dead[sn]
		if me == nil {
			continue
		}
		delete(o.dead, sn)
		me.state, me.due, me.dl = memPending, now, DeadLetter{}
		o.pending++
		n++
		if me.queued {
			o.stale-- // still in the queue, at its place
			continue
		}
		i, _ := slices.BinarySearchFunc(o.queue, me.seq, func(q *memEntry, seq uint64) int { return cmp.Compare(q.seq, seq) })
		o.queue = slices.Insert(o.queue, i, me)
		me.queued = true
	}
	return n, nil
}

// Discard implements Outbox.
func (o *MemoryOutbox) Discard(ctx context.Context, meteringSNs []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("usage: outbox discard: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, sn := range meteringSNs {
		if me := o.dead[sn]; me != nil {
			delete(o.dead, sn)
			delete(o.bySN, sn)
			n++
		}
	}
	return n, nil
}

// Purge implements Outbox.
func (o *MemoryOutbox) Purge(ctx context.Context, sentBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("usage: outbox purge: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for sn, me := range o.bySN {
		if me.state == memSent && me.sentAt.Before(sentBefore) {
			delete(o.bySN, sn)
			o.sent--
			n++
		}
	}
	return n, nil
}
