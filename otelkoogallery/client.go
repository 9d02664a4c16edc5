package otelkoogallery

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/isvkit/koogallery"
)

// Attribute keys of the open-API instruments and spans. The http.*,
// server.address and error.type keys are the OpenTelemetry HTTP client
// semantic conventions'.
const (
	// AttrHTTPMethod is the request's method (GET, POST).
	AttrHTTPMethod = attribute.Key("http.request.method")
	// AttrHTTPStatus is the answer's HTTP status, absent when none arrived.
	AttrHTTPStatus = attribute.Key("http.response.status_code")
	// AttrServerAddress is the API host, set with WithServerAddress.
	AttrServerAddress = attribute.Key("server.address")
	// AttrErrorType classifies a failed attempt or call: KooGallery's
	// result code, else the HTTP status, else "timeout", "canceled" or
	// "_OTHER" for a transport failure.
	AttrErrorType = attribute.Key("error.type")
	// AttrAPI is the API's path without its query, its IDs replaced by
	// "{id}" (see APIName).
	AttrAPI = attribute.Key("koogallery.api")
	// AttrErrorCode is KooGallery's result code of a failed answer
	// (APIGW.0201, MKT.0250, ...).
	AttrErrorCode = attribute.Key("koogallery.error_code")
)

// Client records the open API's attempts and calls. Give its Hook to the
// client: koogallery.NewClient(..., c.Option()). It is safe for concurrent
// use.
//
// The hook sees attempts, not calls: a call's span starts when its first
// attempt was sent (its end minus its Duration) and ends after its last
// attempt, with an event per attempt. A call's attempts are tied together
// by the context the SDK hands the hook, which is the call's own (the SDK
// derives one per call to bound it by RetryPolicy.MaxElapsed): two calls
// made at once with one context and a policy without MaxElapsed could
// have their retries' events on one span; the metrics are exact either
// way.
type Client struct {
	tracer   trace.Tracer
	address  string
	duration metric.Float64Histogram
	calls    metric.Int64Counter
	retries  metric.Int64Counter
	errors   metric.Int64Counter
	mu       sync.Mutex
	open     map[context.Context]*openCall
}

type openCall struct {
	span trace.Span
	stop func() bool
}

// NewClient creates the open-API instruments (see docs/observability.md):
// http.client.request.duration, koogallery.client.calls,
// koogallery.client.retries and koogallery.client.errors.
func NewClient(opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	m := cfg.meter()
	c := &Client{tracer: cfg.tracer(), address: cfg.address, open: make(map[context.Context]*openCall)}
	var err, e error
	c.duration, e = m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests: one per attempt of an open-API call."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	err = errors.Join(err, e)
	c.calls, e = m.Int64Counter("koogallery.client.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Open-API calls, after their last attempt, by method, API, status and error type."))
	err = errors.Join(err, e)
	c.retries, e = m.Int64Counter("koogallery.client.retries", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts of open-API calls followed by a retry, by method, API, status and error type."))
	err = errors.Join(err, e)
	c.errors, e = m.Int64Counter("koogallery.client.errors", metric.WithUnit("{response}"),
		metric.WithDescription("Failed answers carrying a KooGallery result code (APIGW.*, MKT.*), by method, API and code."))
	err = errors.Join(err, e)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Option returns koogallery.WithAttemptHook(c.Hook).
func (c *Client) Option() koogallery.Option { return koogallery.WithAttemptHook(c.Hook) }

// Hook records one attempt; it is the hook for koogallery.WithAttemptHook.
func (c *Client) Hook(ctx context.Context, a koogallery.Attempt) {
	api := APIName(a.Path)
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, AttrHTTPMethod.String(a.Method), AttrAPI.String(api))
	if c.address != "" {
		attrs = append(attrs, AttrServerAddress.String(c.address))
	}
	if a.StatusCode > 0 {
		attrs = append(attrs, AttrHTTPStatus.Int(a.StatusCode))
	}
	if et := errorType(a); et != "" {
		attrs = append(attrs, AttrErrorType.String(et))
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	c.duration.Record(ctx, a.Duration.Seconds(), set)
	if a.Retry {
		c.retries.Add(ctx, 1, set)
	} else {
		c.calls.Add(ctx, 1, set)
	}
	if a.Code != "" {
		c.errors.Add(ctx, 1, metric.WithAttributes(AttrHTTPMethod.String(a.Method), AttrAPI.String(api), AttrErrorCode.String(a.Code)))
	}
	c.span(ctx, a, api, attrs)
}

// span adds the attempt to its call's span, starting it at the first
// attempt and ending it at the last.
func (c *Client) span(ctx context.Context, a koogallery.Attempt, api string, attrs []attribute.KeyValue) {
	now := time.Now()
	var oc *openCall
	if a.Attempt > 1 {
		c.mu.Lock()
		oc = c.open[ctx]
		if oc != nil && !a.Retry {
			delete(c.open, ctx)
		}
		c.mu.Unlock()
	}
	if oc == nil {
		_, span := c.tracer.Start(ctx, a.Method+" "+api, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithTimestamp(now.Add(-a.Duration)),
			trace.WithAttributes(AttrHTTPMethod.String(a.Method), AttrAPI.String(api)))
		if c.address != "" {
			span.SetAttributes(AttrServerAddress.String(c.address))
		}
		oc = &openCall{span: span, stop: func() bool { return false }}
	}
	ev := []attribute.KeyValue{attribute.Int("koogallery.attempt", a.Attempt), attribute.Float64("koogallery.attempt.duration", a.Duration.Seconds())}
	if a.StatusCode > 0 {
		ev = append(ev, AttrHTTPStatus.Int(a.StatusCode))
	}
	if a.Code != "" {
		ev = append(ev, AttrErrorCode.String(a.Code))
	}
	if a.RequestID != "" {
		ev = append(ev, attribute.String("koogallery.request_id", a.RequestID))
	}
	if a.Err != nil {
		ev = append(ev, attribute.String("exception.message", a.Err.Error()))
	}
	if a.Retry {
		ev = append(ev, attribute.Bool("koogallery.retry", true), attribute.Float64("koogallery.retry.wait", a.Wait.Seconds()))
	}
	oc.span.AddEvent("koogallery.attempt", trace.WithTimestamp(now), trace.WithAttributes(ev...))
	if a.Retry {
		c.mu.Lock()
		switch cur := c.open[ctx]; {
		case cur == oc:
			c.mu.Unlock()
			return
		case cur == nil:
			span := oc.span
			// The call ends without another attempt if its context ends
			// while it waits: end the span then.
			oc.stop = context.AfterFunc(ctx, func() {
				c.mu.Lock()
				mine := c.open[ctx] != nil && c.open[ctx].span == span
				if mine {
					delete(c.open, ctx)
				}
				c.mu.Unlock()
				if mine {
					span.SetStatus(codes.Error, "context ended before the retry")
					span.End()
				}
			})
			c.open[ctx] = oc
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		// Another call on this context holds the slot: end this one here.
	}
	oc.stop()
	oc.span.SetAttributes(attrs...)
	oc.span.SetAttributes(attribute.Int("koogallery.attempts", a.Attempt))
	if a.Err != nil || a.StatusCode >= 400 {
		oc.span.SetStatus(codes.Error, errorType(a))
	}
	oc.span.End(trace.WithTimestamp(now))
}

// errorType is the semantic conventions' error.type: KooGallery's result
// code when the answer carried one, else the HTTP status of a 4xx or 5xx
// answer, else for a transport failure "timeout", "canceled" or "_OTHER";
// empty for a success.
func errorType(a koogallery.Attempt) string {
	switch {
	case a.Code != "":
		return a.Code
	case a.StatusCode >= 400:
		return strconv.Itoa(a.StatusCode)
	case a.Err != nil:
		switch {
		case errors.Is(a.Err, context.DeadlineExceeded):
			return "timeout"
		case errors.Is(a.Err, context.Canceled):
			return "canceled"
		}
		return "_OTHER"
	}
	return ""
}

// APIName returns path with every segment that looks like an ID replaced
// by "{id}", for the koogallery.api attribute: a segment is kept when it
// is a version ("v1", "v2") or has no digit, or has fewer than 8
// characters and is not all digits ("oauth2"); any other segment (an event
// ID, a number, a UUID) is an ID. KooGallery's documented paths keep their
// names: "/api/mkp-openapi-public/global/v1/market-event/{id}/file".
func APIName(path string) string {
	if !strings.ContainsAny(path, "0123456789") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isID(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

func isID(s string) bool {
	if s == "" {
		return false
	}
	digits, version := 0, len(s) >= 2 && s[0] == 'v'
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= '0' && b <= '9' {
			digits++
		} else if i > 0 {
			version = false
		}
	}
	switch {
	case digits == 0, version:
		return false
	case digits == len(s):
		return true
	}
	return len(s) >= 8
}
