// Package otelkoogallery exports the KooGallery SDK's operating signals as
// OpenTelemetry metrics and spans, in a module of its own so that the core
// module depends on no telemetry library.
//
// Three entry points, one per part of a seller's integration:
//
//   - Callbacks: an observer for callback.WithObserver (calls by family,
//     activity and result code, their duration, refusals by reason,
//     store errors) and a middleware that starts a server span per
//     callback, which the observer annotates.
//   - Client: a hook for koogallery.WithAttemptHook (the HTTP client
//     semantic conventions' http.client.request.duration per attempt,
//     calls, retries and KooGallery error codes) and a client span per
//     open-API call with one event per attempt.
//   - Usage: observable gauges over a usage.Outbox (pending records, the
//     oldest one's age, records near or past their billing deadline, dead
//     letters) and counters from a usage.Meter's events (pushes by
//     outcome, records pushed and dead-lettered by code).
//
// Every attribute has few distinct values (families, activities, result
// codes, reasons, API paths with their IDs replaced): no order, instance
// or request ID is ever a metric attribute. docs/observability.md lists
// every instrument.
package otelkoogallery

import (
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every meter and tracer this
// package creates.
const ScopeName = "github.com/isvkit/koogallery/otelkoogallery"

// Option configures NewCallbacks, NewClient and NewUsage.
type Option func(*config)

type config struct {
	mp      metric.MeterProvider
	tp      trace.TracerProvider
	now     func() time.Time
	address string
}

// WithMeterProvider sets the meter provider (otel.GetMeterProvider() if
// nil or not given).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider sets the tracer provider (otel.GetTracerProvider() if
// nil or not given).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithClock sets the clock NewUsage measures ages and deadlines against
// (time.Now if nil): give it the Meter's clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithServerAddress sets the server.address attribute of NewClient's
// instruments and spans: the host of the client's endpoint, as
// (*koogallery.Client).BaseURL names it. Without it the attribute is left
// out.
func WithServerAddress(host string) Option {
	return func(c *config) { c.address = host }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

func (c *config) meter() metric.Meter  { return c.mp.Meter(ScopeName) }
func (c *config) tracer() trace.Tracer { return c.tp.Tracer(ScopeName) }
