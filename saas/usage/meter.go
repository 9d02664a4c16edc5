package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/isvkit/koogallery"
)

// Meter makes usage metering durable: Record stores usage records in an
// Outbox, after validating them, and returns once they are durable; Run
// (or Flush, on shutdown) drains the outbox into KooGallery through
// Client.Push, in calls of at most MaxRecords, oldest first.
//
//	meter, err := usage.NewMeter(client, outbox)
//	go meter.Run(ctx)                        // one or more replicas drain the outbox
//	err = meter.Record(ctx, records...)       // durable when it returns
//
// Failures are handled so that nothing is lost and nothing is billed twice:
//
//   - Server errors, network failures and throttling (MKT.0250, APIG.0308)
//     put the batch back and retry it after a jittered exponential backoff,
//     never sooner than a Retry-After KooGallery asked for.
//   - An authentication failure (wrong AK/SK or seller key) stops the
//     pusher, logs it at ERROR and emits EventAuthStopped: five AK/SK
//     failures in a row lock the AK for five minutes, so it is not retried.
//     Run and Flush return the error until Resume is called; Record keeps
//     working; the records stay pending.
//   - MKT.0150 ("Illegal operation": the account of the AK/SK may not
//     report for these instances, e.g. the AK/SK of another account) stops
//     the pusher the same way when it refuses the whole push, rather than
//     dead-lettering every record a misconfigured AK sends. Only an answer
//     that names some of the pushed records with it and not the others
//     makes those records dead letters (see the package documentation).
//   - Records KooGallery reports as abnormal, and records it refuses for
//     good (a validation code: MKT.0100, MKT.0101, MKT.9001, MKT.9002,
//     MKT.9004, 94060004, ...), become dead letters with the reason and the
//     raw answer (see DeadLetter), never dropped. A refusal that does not
//     name its records is narrowed down by halving the batch, so that only
//     the refused records become dead letters.
//   - A pusher whose context ends (Run's, on shutdown) settles a push whose
//     answer had arrived by that answer, even one arriving at that very
//     moment: accepted records are sent, refused ones dead, throttled ones
//     wait for the Retry-After. Only a push that got no answer is put back
//     due at once, for the next pusher.
//   - A pusher that dies between sending and settling a batch leaves it
//     leased; when the lease runs out, a pusher sends it again with the
//     same metering_sn, which KooGallery de-duplicates: exactly once in
//     effect (see Outbox).
//   - A record still pending when its billing deadline (see Deadline) is
//     less than the deadline margin away is reported, once per pusher, by
//     EventDeadlineAtRisk and a WARN log.
//
// Counters counts what the meter did, for a metrics system. A Meter is safe
// for concurrent use: several goroutines may Record while one or more Run.
type Meter struct {
	client  *Client
	outbox  Outbox
	cfg     meterConfig
	wake    chan struct{}
	stopped atomic.Pointer[error]
	n       counters
}

// NewMeter returns a Meter recording into outbox and pushing through
// client, which must have the seller key (WithSellerKey). Options are the
// With... functions documented as MeterOptions, and WithClock.
func NewMeter(client *Client, outbox Outbox, opts ...MeterOption) (*Meter, error) {
	switch {
	case client == nil:
		return nil, errors.New("usage: new meter: nil client")
	case client.key == nil:
		return nil, errors.New("usage: new meter: the client has no seller key (usage.WithSellerKey)")
	case outbox == nil:
		return nil, errors.New("usage: new meter: nil outbox")
	}
	cfg := defaultMeterConfig()
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("usage: new meter: nil option")
		}
		if err := o.applyMeter(&cfg); err != nil {
			return nil, fmt.Errorf("usage: new meter: %w", err)
		}
	}
	return &Meter{client: client, outbox: outbox, cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// MeterOption configures NewMeter.
type MeterOption interface {
	applyMeter(*meterConfig) error
}

// applyMeter makes the NewClient options that apply to a meter (WithClock)
// MeterOptions too. WithSellerKey does not: the meter signs with its
// client's key.
func (o Option) applyMeter(c *meterConfig) error {
	sentinel := &sellerKey{}
	probe := Client{key: sentinel}
	o(&probe)
	if probe.key != sentinel {
		return errors.New("WithSellerKey is an option of NewClient, not of NewMeter")
	}
	if probe.now != nil {
		c.now = probe.now
	}
	return nil
}

type meterOption func(*meterConfig) error

func (f meterOption) applyMeter(c *meterConfig) error { return f(c) }

type meterConfig struct {
	now        func() time.Time
	logger     *slog.Logger
	events     func(Event)
	cycle      func(Record) BillingCycle
	zone       *time.Location
	margin     time.Duration
	batch      int
	lease      time.Duration
	poll       time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
	check      time.Duration
	retention  time.Duration
}

func defaultMeterConfig() meterConfig {
	return meterConfig{
		now: time.Now, logger: slog.Default(), cycle: DefaultBillingCycle, zone: ChinaStandardTime,
		margin: 45 * time.Minute, batch: MaxRecords, lease: 2 * time.Minute, poll: 5 * time.Second,
		minBackoff: time.Second, maxBackoff: 5 * time.Minute, check: time.Minute, retention: 30 * 24 * time.Hour,
	}
}

// WithLogger sets the meter's logger (default slog.Default()). Logs name
// records by metering_sn and count them; they never carry a key.
func WithLogger(l *slog.Logger) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithEvents calls f for every Event, synchronously from the goroutine the
// event happened on: f must return quickly and must not call the Meter.
func WithEvents(f func(Event)) MeterOption {
	return meterOption(func(c *meterConfig) error { c.events = f; return nil })
}

// WithBillingCycle sets how to tell each record's billing cycle, which
// sets its deadline (default DefaultBillingCycle).
func WithBillingCycle(f func(Record) BillingCycle) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if f == nil {
			return errors.New("WithBillingCycle: nil function")
		}
		c.cycle = f
		return nil
	})
}

// WithBillingZone sets the time zone of the daily billing window (default
// ChinaStandardTime).
func WithBillingZone(zone *time.Location) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if zone == nil {
			return errors.New("WithBillingZone: nil zone")
		}
		c.zone = zone
		return nil
	})
}

// WithDeadlineMargin sets how long before its deadline a pending record is
// reported at risk (default 45 minutes: a daily batch is reported at
// 00:15, when its documented window closes; an hourly record 75 minutes
// after its hour).
func WithDeadlineMargin(d time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if d < 0 {
			return errors.New("WithDeadlineMargin: negative margin")
		}
		c.margin = d
		return nil
	})
}

// WithBatchSize sets the most records per push (default and maximum
// MaxRecords).
func WithBatchSize(n int) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if n < 1 || n > MaxRecords {
			return fmt.Errorf("WithBatchSize: %d is not between 1 and %d", n, MaxRecords)
		}
		c.batch = n
		return nil
	})
}

// WithLease sets how long a pusher holds the records it claimed before
// another pusher may take them over (default 2 minutes). It must be longer
// than a push with all its retries takes (the client's
// RetryPolicy.MaxElapsed, 45 s by default), or two pushers may send the
// same records at once; a shorter lease makes records of a pusher that
// died go out sooner.
func WithLease(d time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if d <= 0 {
			return errors.New("WithLease: the lease must be positive")
		}
		c.lease = d
		return nil
	})
}

// WithPollInterval sets how often an idle pusher looks for records other
// processes recorded (default 5 s; records recorded through the same
// Meter wake it at once).
func WithPollInterval(d time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if d <= 0 {
			return errors.New("WithPollInterval: the interval must be positive")
		}
		c.poll = d
		return nil
	})
}

// WithBackoff bounds the jittered exponential wait after a failed push
// (default 1 s to 5 minutes); a Retry-After KooGallery sends is honoured
// even beyond max.
func WithBackoff(min, max time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if min <= 0 || max < min {
			return fmt.Errorf("WithBackoff: need 0 < min <= max, got %v, %v", min, max)
		}
		c.minBackoff, c.maxBackoff = min, max
		return nil
	})
}

// WithDeadlineCheck sets how often Run looks for records whose deadline
// is at risk (default every minute).
func WithDeadlineCheck(every time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if every <= 0 {
			return errors.New("WithDeadlineCheck: the interval must be positive")
		}
		c.check = every
		return nil
	})
}

// WithRetention sets how long sent records are kept, during which a
// MeteringSN recorded again with other content is refused (ErrConflict);
// Run purges older ones hourly (default 30 days, beyond the 21 days after
// which KooGallery refuses a record anyway).
func WithRetention(d time.Duration) MeterOption {
	return meterOption(func(c *meterConfig) error {
		if d < MaxAge {
			return fmt.Errorf("WithRetention: %v is shorter than %v", d, MaxAge)
		}
		c.retention = d
		return nil
	})
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// EventPushed: KooGallery accepted Records records in one call.
	EventPushed EventKind = iota + 1
	// EventRetry: a call of Records records failed with Err, transiently;
	// they are sent again after Wait.
	EventRetry
	// EventDeadLettered: KooGallery refused DeadLetters for good or
	// reported them abnormal.
	EventDeadLettered
	// EventDeadlineAtRisk: the pending records MeteringSNs (Records of
	// them) reach their billing deadline by Deadline, the earliest of
	// theirs, or have passed it.
	EventDeadlineAtRisk
	// EventAuthStopped: KooGallery refused the credentials, or refused
	// the push as an illegal operation (MKT.0150), with Err; the pusher
	// stopped until Resume, the Records records of the refused call (and
	// the rest of its claim) pending.
	EventAuthStopped
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventPushed:
		return "pushed"
	case EventRetry:
		return "retry"
	case EventDeadLettered:
		return "dead-lettered"
	case EventDeadlineAtRisk:
		return "deadline at risk"
	case EventAuthStopped:
		return "auth stopped"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is something a Meter did or noticed (see WithEvents). Err never
// carries a secret.
type Event struct {
	Kind        EventKind
	Time        time.Time
	Records     int
	MeteringSNs []string
	DeadLetters []DeadLetter
	Deadline    time.Time
	Wait        time.Duration
	Err         error
}

// Counters counts what a Meter did since it was made, for export to a
// metrics system (each field only grows).
type Counters struct {
	// Recorded counts the records Record stored.
	Recorded uint64
	// Calls counts usage push calls; FailedCalls those that failed
	// transiently (and were retried), Throttled those of them KooGallery
	// throttled.
	Calls, FailedCalls, Throttled uint64
	// Pushed counts the records KooGallery accepted.
	Pushed uint64
	// DeadLettered counts the records that became dead letters.
	DeadLettered uint64
	// AtRisk counts the records reported at risk of missing their deadline.
	AtRisk uint64
	// AuthStops counts the times the pusher stopped on an authentication
	// failure or an illegal-operation refusal (MKT.0150).
	AuthStops uint64
	// OutboxErrors counts failed outbox operations of the pusher.
	OutboxErrors uint64
}

type counters struct {
	recorded, calls, failed, throttled, pushed, dead, atRisk, authStops, outboxErrors atomic.Uint64
}

// Counters returns the meter's counters.
func (m *Meter) Counters() Counters {
	return Counters{
		Recorded: m.n.recorded.Load(), Calls: m.n.calls.Load(), FailedCalls: m.n.failed.Load(),
		Throttled: m.n.throttled.Load(), Pushed: m.n.pushed.Load(), DeadLettered: m.n.dead.Load(),
		AtRisk: m.n.atRisk.Load(), AuthStops: m.n.authStops.Load(), OutboxErrors: m.n.outboxErrors.Load(),
	}
}

// Stats returns the outbox's counts.
func (m *Meter) Stats(ctx context.Context) (OutboxStats, error) {
	return m.outbox.Stats(ctx, m.cfg.now())
}

// Record validates records and stores them in the outbox, returning once
// they are durable; a pusher sends them. Records are validated as Push
// validates them (any number of them, MeteringSN unique among them), and a
// record whose BeginTime is more than 21 days old, which KooGallery would
// refuse (MKT.9004), is refused here: invalid input fails with an error
// matching koogallery.ErrInvalidRequest and stores nothing. A MeteringSN
// already in the outbox with the same content is accepted again and stored
// once; with other content Record fails with ErrConflict (and
// ErrInvalidRequest) and stores nothing.
func (m *Meter) Record(ctx context.Context, records ...Record) error {
	entries, err := m.Prepare(records...)
	if err != nil {
		return err
	}
	if err := m.outbox.Add(ctx, entries); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("usage: record: %w: %w", koogallery.ErrInvalidRequest, err)
		}
		return fmt.Errorf("usage: record: %w", err)
	}
	m.n.recorded.Add(uint64(len(entries)))
	m.Wake()
	if now := m.cfg.now(); m.cfg.logger.Enabled(ctx, slog.LevelWarn) {
		late := 0
		for i := range entries {
			if !entries[i].Deadline.After(now) {
				late++
			}
		}
		if late > 0 {
			m.cfg.logger.Warn("usage: recorded after the billing deadline: KooGallery may bill it a day late",
				"records", late, "first_metering_sn", entries[0].Record.MeteringSN)
		}
	}
	return nil
}

// Prepare validates records as Record does and returns them as outbox
// entries, with their payload and deadline, without storing them: for an
// outbox that adds entries inside the caller's own database transaction
// (pgstore's AddTx), so that usage is recorded if and only if the work it
// measures is committed.
func (m *Meter) Prepare(records ...Record) ([]Entry, error) {
	if err := validateUsage(records, apiCurrent, false); err != nil {
		return nil, fmt.Errorf("usage: record: %w", err)
	}
	now := m.cfg.now()
	entries := make([]Entry, len(records))
	for i, r := range records {
		if now.Sub(r.BeginTime) > MaxAge {
			return nil, fmt.Errorf("usage: record: %w: record %d: begin_time %s is more than 21 days old: KooGallery refuses it (MKT.9004)",
				koogallery.ErrInvalidRequest, i, formatUsageTime(r.BeginTime))
		}
		r.ProductID = "" // not sent by Push
		w := r.wire()
		payload, err := json.Marshal(w)
		if err != nil {
			return nil, fmt.Errorf("usage: record: record %d: %w", i, err)
		}
		entries[i] = Entry{Record: r, Payload: payload, Deadline: Deadline(r, m.cfg.cycle(r), m.cfg.zone), Recorded: now}
	}
	return entries, nil
}

// Wake makes an idle Run look for records at once, e.g. after another
// process recorded some.
func (m *Meter) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Requeue makes dead letters pending again, to be sent at once, and
// returns how many it moved.
func (m *Meter) Requeue(ctx context.Context, meteringSNs ...string) (int, error) {
	n, err := m.outbox.Requeue(ctx, m.cfg.now(), meteringSNs)
	if err != nil {
		return n, fmt.Errorf("usage: requeue: %w", err)
	}
	if n > 0 {
		m.cfg.logger.Info("usage: dead letters requeued", "records", n)
		m.Wake()
	}
	return n, nil
}

// Resume lets Run and Flush push again after an authentication failure
// stopped them, once the credentials are fixed.
func (m *Meter) Resume() { m.stopped.Store(nil) }

func (m *Meter) emit(e Event) {
	if m.cfg.events != nil {
		if e.Time.IsZero() {
			e.Time = m.cfg.now()
		}
		m.cfg.events(e)
	}
}
