package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/isvkit/koogallery"
)

// ErrStopped is wrapped by the error of Run and Flush after an
// authentication failure or an illegal-operation refusal (MKT.0150) stopped
// the pusher (see Meter.Resume); the error also wraps KooGallery's answer,
// matching koogallery.ErrAuthentication or koogallery.ErrPermission.
var ErrStopped = errors.New("usage: pusher stopped")

// Run drains the outbox until ctx ends or an authentication failure stops
// it: it claims the oldest due records, pushes them, settles the outcome,
// and when nothing is due waits for Record (on this Meter), Wake or the
// poll interval. It also reports records whose deadline is at risk and
// purges sent records past the retention. Run returns ctx's error when
// ctx ends, and an error wrapping ErrStopped after an authentication
// failure or an illegal-operation refusal. Records of a push cut short by
// ctx before its answer arrived are put back for the next pusher, due at
// once; a push whose answer arrived is settled by that answer even if ctx
// ended as it arrived (accepted records are sent, refused ones dead, and
// throttled ones wait for the Retry-After).
func (m *Meter) Run(ctx context.Context) error { return m.loop(ctx, false) }

// Flush pushes until no record is pending, for a graceful shutdown:
// cancel Run's context, then call Flush with a deadline. It waits for
// records in backoff and for records other pushers hold; it returns nil
// when none is left, ctx's error (with how many are left) when ctx ends
// first, and an error wrapping ErrStopped after an authentication failure.
// Dead letters are not pending: Flush does not wait for them.
func (m *Meter) Flush(ctx context.Context) error {
	err := m.loop(ctx, true)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrStopped) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if st, serr := m.outbox.Stats(sctx, m.cfg.now()); serr == nil {
			return fmt.Errorf("usage: flush: %d records still pending: %w", st.Pending, err)
		}
		return fmt.Errorf("usage: flush: %w", err)
	}
	return err
}

// runState is one loop's memory.
type runState struct {
	failures  int                  // consecutive failed calls or outbox errors
	reported  map[string]time.Time // records reported at risk, by metering_sn
	nextCheck time.Time
	nextPurge time.Time
}

func (m *Meter) loop(ctx context.Context, flush bool) error {
	st := runState{reported: map[string]time.Time{}}
	for {
		if errp := m.stopped.Load(); errp != nil {
			return *errp
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		now := m.cfg.now()
		if !now.Before(st.nextCheck) {
			m.checkDeadlines(ctx, &st, now)
			st.nextCheck = now.Add(m.cfg.check)
		}
		if !flush && !now.Before(st.nextPurge) {
			m.purge(ctx, now)
			st.nextPurge = now.Add(time.Hour)
		}
		n, wait, err := m.step(ctx, &st)
		if err != nil {
			return err
		}
		switch {
		case wait > 0:
			m.sleep(ctx, wait, false)
		case n == 0:
			if flush {
				s, err := m.outbox.Stats(ctx, m.cfg.now())
				if err == nil && s.Pending == 0 {
					return nil
				}
				if err != nil && ctx.Err() == nil {
					m.n.outboxErrors.Add(1)
					m.cfg.logger.Error("usage: outbox stats failed", "error", err)
				}
				m.sleep(ctx, min(m.cfg.poll, 100*time.Millisecond), true)
				continue
			}
			m.sleep(ctx, m.cfg.poll, true)
		}
	}
}

// sleep waits for d, ctx, or (when wakeable) Wake.
func (m *Meter) sleep(ctx context.Context, d time.Duration, wakeable bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	var wake chan struct{}
	if wakeable {
		wake = m.wake
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// backoff returns the wait after the n-th consecutive failure (n ≥ 1):
// full jitter between half and all of min·2^(n-1), capped at max.
func (m *Meter) backoff(n int) time.Duration {
	d := m.cfg.maxBackoff
	if n <= 30 {
		if e := m.cfg.minBackoff << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

// step claims one batch and delivers it. It returns how many records it
// claimed, how long to wait before the next step, and a non-nil error
// only when the pusher must stop.
func (m *Meter) step(ctx context.Context, st *runState) (int, time.Duration, error) {
	claim, err := m.outbox.Claim(ctx, m.cfg.now(), m.cfg.batch, m.cfg.lease)
	if err != nil {
		if ctx.Err() != nil {
			return 0, 0, nil
		}
		m.n.outboxErrors.Add(1)
		st.failures++
		wait := m.backoff(st.failures)
		m.cfg.logger.Error("usage: outbox claim failed", "error", err, "retry_in", wait)
		return 0, wait, nil
	}
	if claim == nil || len(claim.Entries) == 0 {
		return 0, 0, nil
	}
	wait, err := m.deliver(ctx, claim, st)
	return len(claim.Entries), wait, err
}

// verdict classifies the outcome of a push.
type verdict uint8

const (
	accepted  verdict = iota // KooGallery answered success
	refused                  // refused for good: the records (some of them) are wrong
	stop                     // the credentials were refused
	illegal                  // MKT.0150: refused as an illegal operation (see illegalOperation)
	transient                // try again later
	cancelled                // ctx ended before an answer arrived
)

// recordRefusalCodes are the codes (after the MKT. or CBC. prefix) of a
// push refused because of its records; a code-less or unknown failure is
// transient, so that a proxy's error page never dead-letters anything.
// MKT.0150 is not one of them: see illegalOperation.
var recordRefusalCodes = map[string]bool{
	"0100": true, "0101": true, "0199": true, // input validation
	"9001": true, "9002": true, "9003": true, "9004": true, "9005": true, // instance, entity, size, age
}

// illegalOperation reports MKT.0150 (CBC.0150), "Illegal operation".
//
// The usage push documents it only as the code of the whole request, with
// HTTP 401, among the authentication codes (MKT.0151 no authority,
// MKT.0154 illegal token): an operation the account of the AK/SK may not
// perform, "e.g. the product does not belong to the seller owning the
// AK/SK". It names no record, and a record's own codes in an answer
// (AbnormalUsageData) are not documented at all. An AK/SK of the wrong
// account (a test account's, another business unit's) gets it for every
// record, so treating it as a refusal of the records would dead-letter the
// whole backlog: the pusher instead stops as on an authentication failure,
// with the records pending, until the credentials are fixed and Resume is
// called. Only when an answer with the code names some of the pushed
// records and not the others (so the account may push the others) are the
// named records refused, as dead letters; an answer that names all of
// them, or every record reported abnormal with the code as its own, also
// stops the pusher.
func illegalOperation(code string) bool {
	rest, ok := cutMarketPrefix(code)
	return ok && rest == "0150"
}

// classify classifies the outcome of a push. An answer KooGallery gave is
// classified by that answer even if ctx ended as it arrived: the client
// returns a complete answer rather than the context's error, so that a
// throttling answer keeps its Retry-After and a refusal is recorded. Only a
// push that got no answer is cancelled when ctx ended.
func classify(ctx context.Context, err error) verdict {
	if err == nil {
		return accepted
	}
	var apiErr *koogallery.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.Code
		if illegalOperation(code) {
			return illegal
		}
		if rest, ok := cutMarketPrefix(code); ok && recordRefusalCodes[rest] {
			return refused
		}
		if code == "94060004" {
			return refused
		}
	} else if ctx.Err() != nil {
		return cancelled
	} else if errors.Is(err, koogallery.ErrInvalidRequest) {
		return refused // the records failed local validation
	}
	if errors.Is(err, koogallery.ErrAuthentication) || errors.Is(err, koogallery.ErrPermission) {
		return stop
	}
	return transient
}

func cutMarketPrefix(code string) (string, bool) {
	if len(code) > 4 && (code[:4] == "MKT." || code[:4] == "CBC.") {
		return code[4:], true
	}
	return "", false
}

// deliver pushes a claimed batch and settles every entry of it. A batch
// refused for good without naming its records is halved until the refused
// records stand alone.
func (m *Meter) deliver(ctx context.Context, claim *Claim, st *runState) (time.Duration, error) {
	work := [][]Entry{claim.Entries}
	first := true
	for len(work) > 0 {
		if !first && ctx.Err() != nil {
			// An answer settled part of the claim as ctx ended: the rest
			// waits for the next pusher.
			m.putBack(ctx, claim, work, m.cfg.now(), context.Cause(ctx))
			return 0, nil
		}
		group := work[0]
		work = work[1:]
		if !first {
			m.renew(ctx, claim)
		}
		first = false
		records := make([]Record, len(group))
		for i := range group {
			records[i] = group[i].Record
		}
		m.n.calls.Add(1)
		res, err := m.client.Push(ctx, records)
		switch classify(ctx, err) {
		case accepted:
			st.failures = 0
			if named, rest := m.named(group, res, nil); illegalForAll(named, rest) {
				return 0, m.halt(ctx, claim, append(work, group), len(group), illegalAnswer(named, nil), true)
			}
			m.settleAccepted(ctx, claim, group, res)
		case illegal:
			named, rest := m.named(group, res, err)
			if len(named) == 0 || len(rest) == 0 {
				return 0, m.halt(ctx, claim, append(work, group), len(group), err, true)
			}
			// Some records named, the others not: the account may push
			// those; the named ones are refused.
			st.failures = 0
			m.bury(ctx, claim, named)
			work = append([][]Entry{rest}, work...)
		case refused:
			st.failures = 0
			if named, rest := m.named(group, res, err); illegalForAll(named, rest) {
				return 0, m.halt(ctx, claim, append(work, group), len(group), illegalAnswer(named, err), true)
			} else if len(named) > 0 {
				m.bury(ctx, claim, named)
				if len(rest) > 0 {
					work = append([][]Entry{rest}, work...)
				}
			} else if len(group) == 1 {
				m.bury(ctx, claim, []DeadLetter{refusal(group[0], err)})
			} else {
				h := len(group) / 2
				work = append([][]Entry{group[:h], group[h:]}, work...)
			}
		case cancelled:
			m.putBack(ctx, claim, append(work, group), m.cfg.now(), err)
			return 0, nil
		case stop:
			return 0, m.halt(ctx, claim, append(work, group), len(group), err, false)
		case transient:
			st.failures++
			m.n.failed.Add(1)
			wait := m.backoff(st.failures)
			var apiErr *koogallery.APIError
			if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
				wait = apiErr.RetryAfter
			}
			if errors.Is(err, koogallery.ErrThrottled) {
				m.n.throttled.Add(1)
			}
			n := len(group)
			for _, g := range work {
				n += len(g)
			}
			m.putBack(ctx, claim, append(work, group), m.cfg.now().Add(wait), err)
			m.cfg.logger.Warn("usage: push failed, retrying", "records", n, "retry_in", wait, "error", err)
			m.emit(Event{Kind: EventRetry, Records: n, Wait: wait, Err: err})
			return wait, nil
		}
	}
	return 0, nil
}

// halt stops the pusher after KooGallery refused the credentials, or the
// account (illegalOp, see illegalOperation): the groups go back to
// pending, nothing is dead-lettered, and Run and Flush return the error
// until Resume. n is the number of records of the refused call.
func (m *Meter) halt(ctx context.Context, claim *Claim, groups [][]Entry, n int, err error, illegalOp bool) error {
	m.putBack(ctx, claim, groups, m.cfg.now(), err)
	m.n.authStops.Add(1)
	var serr error
	if illegalOp {
		serr = fmt.Errorf("%w: KooGallery refused the push as an illegal operation (MKT.0150: the account of the AK/SK may not report usage of these instances; check that the AK/SK is the seller account's, then Resume; the records stay pending): %w", ErrStopped, err)
		m.cfg.logger.Error("usage: pusher stopped: illegal operation", "error", err, "records_pending_in_batch", n)
	} else {
		serr = fmt.Errorf("%w: KooGallery refused the credentials (five AK/SK failures in a row lock the AK for five minutes; fix the AK/SK pair or the seller key, then Resume): %w", ErrStopped, err)
		m.cfg.logger.Error("usage: pusher stopped: authentication failed", "error", err, "records_pending_in_batch", n)
	}
	m.stopped.Store(&serr)
	m.emit(Event{Kind: EventAuthStopped, Records: n, Err: err})
	return serr
}

// illegalForAll reports whether named, the records an answer refused or
// reported abnormal, are all the records of the push (rest is empty) and
// each was refused as an illegal operation: the account's problem, not the
// records' (see illegalOperation).
func illegalForAll(named []DeadLetter, rest []Entry) bool {
	if len(named) == 0 || len(rest) > 0 {
		return false
	}
	for i := range named {
		if !illegalOperation(named[i].Code) {
			return false
		}
	}
	return true
}

// illegalAnswer is the error of an answer that refused every record of a
// push, or reported it abnormal, as an illegal operation, each with its
// own code; callErr is the answer's error for a refusal, nil for an
// acceptance.
func illegalAnswer(named []DeadLetter, callErr error) error {
	if callErr != nil {
		return fmt.Errorf("usage: KooGallery refused all %d records of the push with %s (%s): %w: %w",
			len(named), named[0].Code, named[0].Reason, koogallery.ErrPermission, callErr)
	}
	return fmt.Errorf("usage: KooGallery reported all %d records of the push abnormal with %s (%s): %w",
		len(named), named[0].Code, named[0].Reason, koogallery.ErrPermission)
}

// renew extends the claim when half of it has run out.
func (m *Meter) renew(ctx context.Context, claim *Claim) {
	now := m.cfg.now()
	if claim.Until.Sub(now) > m.cfg.lease/2 {
		return
	}
	until := now.Add(m.cfg.lease)
	if err := m.outbox.Renew(ctx, claim.Token, until); err != nil {
		m.n.outboxErrors.Add(1)
		m.cfg.logger.Error("usage: outbox renew failed", "error", err)
		return
	}
	claim.Until = until
}

// settleAccepted settles a group KooGallery accepted: abnormal records
// become dead letters, the rest sent.
func (m *Meter) settleAccepted(ctx context.Context, claim *Claim, group []Entry, res *Result) {
	var named []DeadLetter
	rest := group
	if res != nil && len(res.Abnormal) > 0 {
		named, rest = m.named(group, res, nil)
		if len(named) == 0 {
			m.cfg.logger.Error("usage: KooGallery reported abnormal records that match none pushed; see its answer",
				"abnormal", len(res.Abnormal), "answer", string(clipRaw(res.Raw)))
		}
	}
	sent := make([]string, len(rest))
	for i := range rest {
		sent[i] = rest[i].Record.MeteringSN
	}
	s := Settlement{Now: m.cfg.now(), Sent: sent, Dead: named}
	ctx, cancel := settleContext(ctx)
	defer cancel()
	if err := m.outbox.Settle(ctx, claim.Token, s); err != nil {
		// The records stay leased: when the lease runs out they are sent
		// again with the same metering_sn, which KooGallery de-duplicates.
		m.n.outboxErrors.Add(1)
		m.cfg.logger.Error("usage: outbox settle failed; the records will be sent again", "records", len(group), "error", err)
		return
	}
	m.n.pushed.Add(uint64(len(sent)))
	m.cfg.logger.Debug("usage: pushed", "records", len(sent))
	m.emit(Event{Kind: EventPushed, Records: len(sent)})
	if len(named) > 0 {
		m.deadLettered(named)
	}
}

// named splits group into the records res names as abnormal (as dead
// letters) and the others. A report names a record by metering_sn, or,
// when it gives none, by instance_id (every record of that instance).
func (m *Meter) named(group []Entry, res *Result, callErr error) (dead []DeadLetter, rest []Entry) {
	if res == nil || len(res.Abnormal) == 0 {
		return nil, group
	}
	bySN := map[string]*Abnormal{}
	byInstance := map[string]*Abnormal{}
	for i := range res.Abnormal {
		a := &res.Abnormal[i]
		switch {
		case a.MeteringSN != "":
			bySN[a.MeteringSN] = a
		case a.InstanceID != "":
			byInstance[a.InstanceID] = a
		}
	}
	var apiErr *koogallery.APIError
	errors.As(callErr, &apiErr)
	for _, e := range group {
		a := bySN[e.Record.MeteringSN]
		if a == nil {
			a = byInstance[e.Record.InstanceID]
		}
		if a == nil {
			rest = append(rest, e)
			continue
		}
		d := DeadLetter{Entry: e, Code: a.Code, Raw: a.Raw, Reason: a.Message}
		if d.Reason == "" {
			d.Reason = "reported abnormal"
		}
		if apiErr != nil {
			d.Reason = "refused: " + d.Reason
			if d.Code == "" {
				d.Code = apiErr.Code
			}
		} else {
			d.Reason = "abnormal: " + d.Reason
		}
		dead = append(dead, d)
	}
	return dead, rest
}

// refusal is the dead letter of a record refused on its own.
func refusal(e Entry, err error) DeadLetter {
	d := DeadLetter{Entry: e, Reason: err.Error()}
	var apiErr *koogallery.APIError
	if errors.As(err, &apiErr) {
		d.Code = apiErr.Code
		if len(apiErr.Body) > 0 {
			d.Raw = apiErr.Body
		}
	}
	return d
}

func (m *Meter) bury(ctx context.Context, claim *Claim, dead []DeadLetter) {
	ctx, cancel := settleContext(ctx)
	defer cancel()
	if err := m.outbox.Settle(ctx, claim.Token, Settlement{Now: m.cfg.now(), Dead: dead}); err != nil {
		m.n.outboxErrors.Add(1)
		m.cfg.logger.Error("usage: outbox settle failed; the records will be sent again", "records", len(dead), "error", err)
		return
	}
	m.deadLettered(dead)
}

func (m *Meter) deadLettered(dead []DeadLetter) {
	m.n.dead.Add(uint64(len(dead)))
	sns := make([]string, len(dead))
	for i := range dead {
		sns[i] = dead[i].Record.MeteringSN
	}
	m.cfg.logger.Warn("usage: records dead-lettered", "records", len(dead), "first_metering_sn", sns[0],
		"code", dead[0].Code, "reason", dead[0].Reason)
	m.emit(Event{Kind: EventDeadLettered, Records: len(dead), MeteringSNs: sns, DeadLetters: dead})
}

// putBack releases groups for another attempt at retryAt.
func (m *Meter) putBack(ctx context.Context, claim *Claim, groups [][]Entry, retryAt time.Time, cause error) {
	var sns []string
	for _, g := range groups {
		for i := range g {
			sns = append(sns, g[i].Record.MeteringSN)
		}
	}
	if len(sns) == 0 {
		return
	}
	ctx, cancel := settleContext(ctx)
	defer cancel()
	msg := cause.Error()
	if err := m.outbox.Settle(ctx, claim.Token, Settlement{Now: m.cfg.now(), Retry: sns, RetryAt: retryAt, RetryError: msg}); err != nil {
		// The lease runs out instead.
		m.n.outboxErrors.Add(1)
		m.cfg.logger.Error("usage: outbox settle failed; the records are retried when their lease runs out",
			"records", len(sns), "error", err)
	}
}

// checkDeadlines reports pending records whose deadline is less than the
// margin away, each once per loop while it stays pending.
func (m *Meter) checkDeadlines(ctx context.Context, st *runState, now time.Time) {
	const max = 10000
	entries, err := m.outbox.AtRisk(ctx, now.Add(m.cfg.margin), max)
	if err != nil {
		if ctx.Err() == nil {
			m.n.outboxErrors.Add(1)
			m.cfg.logger.Error("usage: outbox deadline check failed", "error", err)
		}
		return
	}
	still := make(map[string]time.Time, len(entries))
	var fresh []string
	var earliest time.Time
	missed := 0
	for i := range entries {
		e := &entries[i]
		sn := e.Record.MeteringSN
		still[sn] = e.Deadline
		if _, seen := st.reported[sn]; seen {
			continue
		}
		fresh = append(fresh, sn)
		if earliest.IsZero() || e.Deadline.Before(earliest) {
			earliest = e.Deadline
		}
		if !e.Deadline.After(now) {
			missed++
		}
	}
	st.reported = still
	if len(fresh) == 0 {
		return
	}
	m.n.atRisk.Add(uint64(len(fresh)))
	level := slog.LevelWarn
	if missed > 0 {
		level = slog.LevelError
	}
	m.cfg.logger.Log(ctx, level, "usage: records pending close to or past their billing deadline",
		"records", len(fresh), "past_deadline", missed, "earliest_deadline", earliest, "first_metering_sn", fresh[0])
	m.emit(Event{Kind: EventDeadlineAtRisk, Records: len(fresh), MeteringSNs: slices.Clip(fresh), Deadline: earliest})
}

func (m *Meter) purge(ctx context.Context, now time.Time) {
	n, err := m.outbox.Purge(ctx, now.Add(-m.cfg.retention))
	if err != nil {
		if ctx.Err() == nil {
			m.n.outboxErrors.Add(1)
			m.cfg.logger.Error("usage: outbox purge failed", "error", err)
		}
		return
	}
	if n > 0 {
		m.cfg.logger.Debug("usage: purged sent records", "records", n)
	}
}

// settleContext is the context of an outbox write recording an outcome
// already known: it outlives ctx (a push that succeeded just as Run was
// cancelled is still recorded as sent), for at most five seconds.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// clipRaw bounds an answer quoted in a log.
func clipRaw(b []byte) []byte {
	if len(b) > 512 {
		return b[:512]
	}
	return b
}
