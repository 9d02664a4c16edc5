package otelkoogallery

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/isvkit/koogallery/saas/usage"
)

// Attribute keys of the usage instruments.
const (
	// AttrOutcome is what became of a usage push: "pushed", "retry",
	// "dead-lettered" or "auth stopped" (usage.EventKind's names).
	AttrOutcome = attribute.Key("koogallery.usage.outcome")
	// AttrDeadline places pending records against their billing deadline:
	// "within_hour" (due within the hour) or "passed".
	AttrDeadline = attribute.Key("koogallery.usage.deadline")
	// AttrUsageCode is KooGallery's code for a dead letter ("none" when it
	// gave none).
	AttrUsageCode = attribute.Key("koogallery.usage.error_code")
)

// AtRiskLimit bounds the pending records Usage reads per collection to
// count those near or past their deadline: beyond it the gauge reports
// AtRiskLimit.
const AtRiskLimit = 10000

// Usage exports a metering outbox's state as observable gauges, read at
// each collection, and a Meter's events as counters (give it to the
// Meter: usage.NewMeter(client, outbox, u.Option())). It is safe for
// concurrent use.
type Usage struct {
	outbox  usage.Outbox
	now     func() time.Time
	reg     metric.Registration
	pushes  metric.Int64Counter
	records metric.Int64Counter
	dead    metric.Int64Counter
}

// NewUsage creates the usage instruments over outbox (see
// docs/observability.md): the gauges koogallery.usage.pending,
// koogallery.usage.leased, koogallery.usage.dead_letters,
// koogallery.usage.oldest_pending.age and koogallery.usage.at_risk, and
// the counters koogallery.usage.pushes, koogallery.usage.records and
// koogallery.usage.dead_lettered. Pass the Meter's clock with WithClock
// when it has one. Close unregisters the gauges.
func NewUsage(outbox usage.Outbox, opts ...Option) (*Usage, error) {
	if outbox == nil {
		return nil, errors.New("otelkoogallery: nil outbox")
	}
	cfg := newConfig(opts)
	m := cfg.meter()
	u := &Usage{outbox: outbox, now: cfg.now}
	var err, e error
	pending, e := m.Int64ObservableGauge("koogallery.usage.pending", metric.WithUnit("{record}"),
		metric.WithDescription("Usage records in the outbox not yet accepted by KooGallery."))
	err = errors.Join(err, e)
	leased, e := m.Int64ObservableGauge("koogallery.usage.leased", metric.WithUnit("{record}"),
		metric.WithDescription("Pending usage records claimed by a pusher."))
	err = errors.Join(err, e)
	deadLetters, e := m.Int64ObservableGauge("koogallery.usage.dead_letters", metric.WithUnit("{record}"),
		metric.WithDescription("Dead letters in the outbox: records KooGallery refused for good, kept until requeued or discarded."))
	err = errors.Join(err, e)
	age, e := m.Float64ObservableGauge("koogallery.usage.oldest_pending.age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest pending usage record (0 when none is pending)."))
	err = errors.Join(err, e)
	atRisk, e := m.Int64ObservableGauge("koogallery.usage.at_risk", metric.WithUnit("{record}"),
		metric.WithDescription("Pending usage records due within the hour, or past their billing deadline."))
	err = errors.Join(err, e)
	u.pushes, e = m.Int64Counter("koogallery.usage.pushes", metric.WithUnit("{call}"),
		metric.WithDescription("Usage push calls by outcome."))
	err = errors.Join(err, e)
	u.records, e = m.Int64Counter("koogallery.usage.records", metric.WithUnit("{record}"),
		metric.WithDescription("Usage records in push calls, by outcome."))
	err = errors.Join(err, e)
	u.dead, e = m.Int64Counter("koogallery.usage.dead_lettered", metric.WithUnit("{record}"),
		metric.WithDescription("Usage records that became dead letters, by KooGallery's code."))
	err = errors.Join(err, e)
	if err != nil {
		return nil, err
	}
	within, passed := metric.WithAttributes(AttrDeadline.String("within_hour")), metric.WithAttributes(AttrDeadline.String("passed"))
	u.reg, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		now := u.now()
		st, err := u.outbox.Stats(ctx, now)
		if err != nil {
			return err
		}
		o.ObserveInt64(pending, int64(st.Pending))
		o.ObserveInt64(leased, int64(st.Leased))
		o.ObserveInt64(deadLetters, int64(st.Dead))
		var a float64
		if !st.OldestPending.IsZero() && st.OldestPending.Before(now) {
			a = now.Sub(st.OldestPending).Seconds()
		}
		o.ObserveFloat64(age, a)
		var soon, late int64
		if !st.NextDeadline.IsZero() && !st.NextDeadline.After(now.Add(time.Hour)) {
			entries, err := u.outbox.AtRisk(ctx, now.Add(time.Hour), AtRiskLimit)
			if err != nil {
				return err
			}
			for i := range entries {
				if entries[i].Deadline.After(now) {
					soon++
				} else {
					late++
				}
			}
		}
		o.ObserveInt64(atRisk, soon, within)
		o.ObserveInt64(atRisk, late, passed)
		return nil
	}, pending, leased, deadLetters, age, atRisk)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Option returns usage.WithEvents(u.Event), for usage.NewMeter.
func (u *Usage) Option() usage.MeterOption { return usage.WithEvents(u.Event) }

// Event counts one Meter event; it is the function for usage.WithEvents
// (call it from yours if you have one). EventDeadlineAtRisk is not
// counted: the at_risk gauge reports it.
func (u *Usage) Event(e usage.Event) {
	ctx := context.Background()
	if e.Kind == usage.EventDeadlineAtRisk {
		return
	}
	out := metric.WithAttributes(AttrOutcome.String(e.Kind.String()))
	u.pushes.Add(ctx, 1, out)
	if e.Kind == usage.EventDeadLettered {
		u.records.Add(ctx, int64(len(e.DeadLetters)), out)
		for _, d := range e.DeadLetters {
			code := d.Code
			if code == "" {
				code = "none"
			}
			u.dead.Add(ctx, 1, metric.WithAttributes(AttrUsageCode.String(code)))
		}
		return
	}
	u.records.Add(ctx, int64(e.Records), out)
}

// Close unregisters the gauges' callback.
func (u *Usage) Close() error { return u.reg.Unregister() }
