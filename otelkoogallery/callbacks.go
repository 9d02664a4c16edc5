package otelkoogallery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/isvkit/koogallery/callback"
)

// Attribute keys of the callback instruments and spans.
const (
	// AttrFamily is the handler's family: "saas", "saas.v1", "saas.kit",
	// "license" or "order".
	AttrFamily = attribute.Key("koogallery.callback.family")
	// AttrActivity is the call's activity or kit interface (empty for a
	// call refused before it was decoded).
	AttrActivity = attribute.Key("koogallery.callback.activity")
	// AttrResultCode is the resultCode answered ("000000", "000001", ...).
	AttrResultCode = attribute.Key("koogallery.callback.result_code")
	// AttrReason is why a call was not served (callback.Outcome.Reason).
	AttrReason = attribute.Key("koogallery.callback.reason")
)

// Callbacks records the callback handlers' outcomes. Give its Observer to
// every handler (callback.WithObserver(c.Observe), or c.Option()), and, for
// a span per callback, wrap each handler with its Middleware. It is safe
// for concurrent use.
type Callbacks struct {
	tracer      trace.Tracer
	calls       metric.Int64Counter
	duration    metric.Float64Histogram
	refusals    metric.Int64Counter
	storeErrors metric.Int64Counter
}

// NewCallbacks creates the callback instruments (see docs/observability.md):
// koogallery.callback.calls, koogallery.callback.duration,
// koogallery.callback.refusals and koogallery.callback.store_errors.
func NewCallbacks(opts ...Option) (*Callbacks, error) {
	cfg := newConfig(opts)
	m := cfg.meter()
	c := &Callbacks{tracer: cfg.tracer()}
	var err, e error
	c.calls, e = m.Int64Counter("koogallery.callback.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Callbacks answered, by family, activity and result code."))
	err = errors.Join(err, e)
	c.duration, e = m.Float64Histogram("koogallery.callback.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a callback's arrival to its answer."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	err = errors.Join(err, e)
	c.refusals, e = m.Int64Counter("koogallery.callback.refusals", metric.WithUnit("{call}"),
		metric.WithDescription("Callbacks refused with 000001 (authentication), by family and reason."))
	err = errors.Join(err, e)
	c.storeErrors, e = m.Int64Counter("koogallery.callback.store_errors", metric.WithUnit("{call}"),
		metric.WithDescription("Callbacks answered 000005 because the store or replay cache was unavailable or full, by family and reason."))
	err = errors.Join(err, e)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Option returns callback.WithObserver(c.Observe), accepted by every
// handler.
func (c *Callbacks) Option() callback.HandlerOption { return callback.WithObserver(c.Observe) }

// Observe records one call's Outcome; it is the observer for
// callback.WithObserver. When the call came through Middleware, it
// annotates the middleware's span; otherwise it records a span that ends
// now and starts Duration earlier, a child of any span in ctx.
func (c *Callbacks) Observe(ctx context.Context, o callback.Outcome) {
	base := [3]attribute.KeyValue{AttrFamily.String(o.Family), AttrActivity.String(o.Activity), AttrResultCode.String(o.ResultCode)}
	set := metric.WithAttributeSet(attribute.NewSet(base[:]...))
	c.calls.Add(ctx, 1, set)
	c.duration.Record(ctx, o.Duration.Seconds(), set)
	if o.ResultCode == "000001" && o.Reason != "" {
		c.refusals.Add(ctx, 1, metric.WithAttributes(AttrFamily.String(o.Family), AttrReason.String(o.Reason)))
	}
	if isStoreError(o.Reason) {
		c.storeErrors.Add(ctx, 1, metric.WithAttributes(AttrFamily.String(o.Family), AttrReason.String(o.Reason)))
	}

	span, own := ctx.Value(middlewareKey{}).(trace.Span)
	if !own {
		now := time.Now()
		_, span = c.tracer.Start(ctx, spanName(o.Family), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithTimestamp(now.Add(-o.Duration)))
		defer span.End(trace.WithTimestamp(now))
	}
	if !span.IsRecording() {
		return
	}
	span.SetName(spanName(o.Family))
	span.SetAttributes(base[:]...)
	if o.Reason != "" {
		span.SetAttributes(AttrReason.String(o.Reason))
	}
	if o.ResultCode != "000000" {
		span.SetStatus(codes.Error, "resultCode "+o.ResultCode)
	}
}

// Middleware returns next wrapped in a server span per request, named
// "koogallery.callback <family>" once the handler's observer (Observe)
// has annotated it with the family, activity, result code and reason.
// Use it with Observe: the handler must be given c.Option().
func (c *Callbacks) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := c.tracer.Start(r.Context(), "koogallery.callback",
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method)))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, middlewareKey{}, span)))
	})
}

type middlewareKey struct{}

func spanName(family string) string { return "koogallery.callback " + family }

// isStoreError reports a reason of a retryable 000005: "store
// unavailable", "store full", "replay cache unavailable", "replay cache
// full".
func isStoreError(reason string) bool {
	return strings.HasSuffix(reason, " unavailable") || strings.HasSuffix(reason, " full")
}
