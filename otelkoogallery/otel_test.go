package otelkoogallery_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/otelkoogallery"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store"
)

const accessKey = "test-access-key"

var quiet = callback.WithLogger(slog.New(slog.DiscardHandler))

// telemetry is an in-memory meter and tracer provider.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	opts   []otelkoogallery.Option
}

func newTelemetry(t *testing.T) *telemetry {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	return &telemetry{reader: reader, spans: spans,
		opts: []otelkoogallery.Option{otelkoogallery.WithMeterProvider(mp), otelkoogallery.WithTracerProvider(tp)}}
}

// collect returns the metrics by name.
func (tm *telemetry) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelkoogallery.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func attrsOf(kv ...attribute.KeyValue) attribute.Set { return attribute.NewSet(kv...) }

// value returns the sum, gauge value or histogram count of the data point
// of metric name with exactly attrs, and whether there is one.
func value(t *testing.T, ms map[string]metricdata.Metrics, name string, attrs attribute.Set) (float64, bool) {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&attrs) {
				return float64(p.Value), true
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&attrs) {
				return float64(p.Value), true
			}
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&attrs) {
				return p.Value, true
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&attrs) {
				return float64(p.Count), true
			}
		}
	default:
		t.Fatalf("metric %s: unexpected data %T", name, m.Data)
	}
	return 0, false
}

func want(t *testing.T, ms map[string]metricdata.Metrics, name string, attrs attribute.Set, v float64) {
	t.Helper()
	got, ok := value(t, ms, name, attrs)
	if !ok {
		t.Errorf("%s{%s}: no data point; have %+v", name, attrs.Encoded(attribute.DefaultEncoder()), ms[name].Data)
		return
	}
	if got != v {
		t.Errorf("%s{%s} = %v, want %v", name, attrs.Encoded(attribute.DefaultEncoder()), got, v)
	}
}

func points(ms map[string]metricdata.Metrics, name string) int {
	switch d := ms[name].Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	}
	return -1
}

func spanAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// shop provisions nothing; the handler only needs answers.
type shop struct{}

func (shop) NewInstance(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	return &saas.NewInstanceResponse{InstanceID: "inst-" + req.OrderLineID}, nil
}
func (shop) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}
func (shop) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error { return nil }
func (shop) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error {
	return nil
}
func (shop) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error { return nil }
func (shop) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error { return nil }

// downStore is a store whose backend does not answer.
type downStore struct{}

var errDown = errors.New("dial tcp 10.0.0.7:6379: connection refused")

func (downStore) Claim(context.Context, string, time.Duration) (*store.Record, bool, error) {
	return nil, false, errDown
}
func (downStore) Complete(context.Context, string, *store.Record, time.Duration) error {
	return errDown
}
func (downStore) Release(context.Context, string) error { return errDown }

func newInstance(line string) map[string]string {
	return map[string]string{"activity": "newInstance", "orderId": "CS1", "orderLineId": line, "businessId": "b-" + line}
}

func TestCallbacks(t *testing.T) {
	tm := newTelemetry(t)
	cb, err := otelkoogallery.NewCallbacks(tm.opts...)
	if err != nil {
		t.Fatal(err)
	}
	// One handler behind the middleware, one with a broken store
	// without it (its spans come from the observer alone).
	srv := httptest.NewServer(cb.Middleware(saas.NewHandler(accessKey, shop{}, cb.Option(), quiet)))
	defer srv.Close()
	broken := httptest.NewServer(saas.NewHandler(accessKey, shop{}, cb.Option(), quiet, callback.WithStore(downStore{}, 0)))
	defer broken.Close()

	ctx := context.Background()
	kg := koogallerytest.NewSender(accessKey)
	for i, c := range []struct {
		target string
		body   any
		opts   []koogallerytest.CallOption
		code   string
	}{
		{srv.URL, newInstance("CS1-000001"), nil, "000000"},
		{srv.URL, newInstance("CS1-000002"), nil, "000000"},
		{srv.URL, newInstance("CS1-000003"), []koogallerytest.CallOption{koogallerytest.ForgedKey("guessed-key")}, "000001"},
		{srv.URL, newInstance("CS1-000004"), []koogallerytest.CallOption{koogallerytest.Stale()}, "000001"},
		{broken.URL, newInstance("CS1-000005"), nil, "000005"},
	} {
		res, err := kg.Send(ctx, c.target, c.body, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if res.ResultCode != c.code {
			t.Fatalf("call %d: resultCode %s, want %s", i, res.ResultCode, c.code)
		}
	}

	ms := tm.collect(t)
	fam := otelkoogallery.AttrFamily.String("saas")
	act := otelkoogallery.AttrActivity.String("newInstance")
	code := otelkoogallery.AttrResultCode.String
	want(t, ms, "koogallery.callback.calls", attrsOf(fam, act, code("000000")), 2)
	want(t, ms, "koogallery.callback.calls", attrsOf(fam, otelkoogallery.AttrActivity.String(""), code("000001")), 2)
	want(t, ms, "koogallery.callback.calls", attrsOf(fam, act, code("000005")), 1)
	if n := points(ms, "koogallery.callback.calls"); n != 3 {
		t.Errorf("koogallery.callback.calls has %d series, want 3", n)
	}
	want(t, ms, "koogallery.callback.duration", attrsOf(fam, act, code("000000")), 2)
	want(t, ms, "koogallery.callback.refusals", attrsOf(fam, otelkoogallery.AttrReason.String("signature mismatch")), 1)
	want(t, ms, "koogallery.callback.refusals", attrsOf(fam, otelkoogallery.AttrReason.String("timestamp outside the freshness window")), 1)
	want(t, ms, "koogallery.callback.store_errors", attrsOf(fam, otelkoogallery.AttrReason.String("store unavailable")), 1)
	if u := ms["koogallery.callback.duration"].Unit; u != "s" {
		t.Errorf("duration unit %q", u)
	}

	spans := tm.spans.Ended()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	byCode := map[string]int{}
	for _, s := range spans {
		if s.Name() != "koogallery.callback saas" || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
		}
		rc, _ := spanAttr(s, otelkoogallery.AttrResultCode)
		byCode[rc.AsString()]++
		if !s.EndTime().After(s.StartTime()) && !s.EndTime().Equal(s.StartTime()) {
			t.Errorf("span ends before it starts")
		}
		if rc.AsString() == "000005" {
			if r, _ := spanAttr(s, otelkoogallery.AttrReason); r.AsString() != "store unavailable" {
				t.Errorf("store failure span reason %q", r.AsString())
			}
			if _, ok := spanAttr(s, "http.request.method"); ok {
				t.Errorf("the broken handler has no middleware, yet its span has the middleware's attribute")
			}
		} else if m, _ := spanAttr(s, "http.request.method"); m.AsString() != "POST" {
			t.Errorf("middleware span method %q", m.AsString())
		}
	}
	if byCode["000000"] != 2 || byCode["000001"] != 2 || byCode["000005"] != 1 {
		t.Errorf("spans by result code %v", byCode)
	}
}

func TestClient(t *testing.T) {
	tm := newTelemetry(t)
	fake := koogallerytest.NewServer()
	defer fake.Close()
	host := mustHost(t, fake.URL)
	cl, err := otelkoogallery.NewClient(append(tm.opts, otelkoogallery.WithServerAddress(host))...)
	if err != nil {
		t.Fatal(err)
	}
	kg, err := fake.NewClient(cl.Option(), koogallery.WithRetryPolicy(koogallery.RetryPolicy{
		MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	fake.Inject(koogallerytest.Unavailable()) // HTTP 503 APIGW.0201, retried
	fake.Inject(koogallerytest.Throttled())   // HTTP 406 MKT.0250, retried
	o, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID != "MOCKPERIODYEARNEW" {
		t.Fatalf("order %q", o.OrderID)
	}
	fake.Inject(koogallerytest.Fault{Path: order.QueryPath, Status: 500, Code: "MKT.0100", Message: "Failure of input parameter"})
	if _, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW"); !errors.Is(err, koogallery.ErrInvalidRequest) {
		t.Fatalf("a validation failure: %v", err)
	}

	ms := tm.collect(t)
	get := otelkoogallery.AttrHTTPMethod.String("GET")
	api := otelkoogallery.AttrAPI.String(order.QueryPath)
	srv := otelkoogallery.AttrServerAddress.String(host)
	status := otelkoogallery.AttrHTTPStatus.Int
	etype := otelkoogallery.AttrErrorType.String
	const dur = "http.client.request.duration"
	want(t, ms, dur, attrsOf(get, api, srv, status(503), etype("APIGW.0201")), 1)
	want(t, ms, dur, attrsOf(get, api, srv, status(406), etype("MKT.0250")), 1)
	want(t, ms, dur, attrsOf(get, api, srv, status(200)), 1)
	want(t, ms, dur, attrsOf(get, api, srv, status(500), etype("MKT.0100")), 1)
	if n := points(ms, dur); n != 4 {
		t.Errorf("%s has %d series, want 4", dur, n)
	}
	want(t, ms, "koogallery.client.retries", attrsOf(get, api, srv, status(503), etype("APIGW.0201")), 1)
	want(t, ms, "koogallery.client.retries", attrsOf(get, api, srv, status(406), etype("MKT.0250")), 1)
	want(t, ms, "koogallery.client.calls", attrsOf(get, api, srv, status(200)), 1)
	want(t, ms, "koogallery.client.calls", attrsOf(get, api, srv, status(500), etype("MKT.0100")), 1)
	for _, c := range []string{"APIGW.0201", "MKT.0250", "MKT.0100"} {
		want(t, ms, "koogallery.client.errors", attrsOf(get, api, otelkoogallery.AttrErrorCode.String(c)), 1)
	}

	spans := tm.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2 (one per call)", len(spans))
	}
	for i, wantEvents := range []int{3, 1} {
		s := spans[i]
		if s.Name() != "GET "+order.QueryPath || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q kind %v", i, s.Name(), s.SpanKind())
		}
		if len(s.Events()) != wantEvents {
			t.Errorf("span %d: %d events, want %d", i, len(s.Events()), wantEvents)
		}
		if n, _ := spanAttr(s, "koogallery.attempts"); n.AsInt64() != int64(wantEvents) {
			t.Errorf("span %d: koogallery.attempts %v", i, n.AsInt64())
		}
		for j, e := range s.Events() {
			if e.Name != "koogallery.attempt" {
				t.Errorf("event %q", e.Name)
			}
			var attempt int64
			for _, kv := range e.Attributes {
				if kv.Key == "koogallery.attempt" {
					attempt = kv.Value.AsInt64()
				}
			}
			if attempt != int64(j+1) {
				t.Errorf("span %d event %d: attempt %d", i, j, attempt)
			}
		}
	}
	if st, _ := spanAttr(spans[0], otelkoogallery.AttrHTTPStatus); st.AsInt64() != 200 {
		t.Errorf("first call's span status %v", st.AsInt64())
	}
	if spans[1].Status().Code.String() != "Error" {
		t.Errorf("failed call's span status %v", spans[1].Status())
	}
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

func TestAPIName(t *testing.T) {
	for in, out := range map[string]string{
		order.QueryPath:                                  order.QueryPath,
		license.SoftwareUsagePath:                        license.SoftwareUsagePath,
		"/api/v1/oauth2/token":                           "/api/v1/oauth2/token",
		license.EventFilePath("evt20261127000123"):       "/api/mkp-openapi-public/global/v1/market-event/{id}/file",
		license.EventFilePath("3f2b1c9a-7d43-4e8b-9a61"): "/api/mkp-openapi-public/global/v1/market-event/{id}/file",
		"/api/v2/orders/12345/lines":                     "/api/v2/orders/{id}/lines",
	} {
		if got := otelkoogallery.APIName(in); got != out {
			t.Errorf("APIName(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestUsageGauges(t *testing.T) {
	tm := newTelemetry(t)
	now := time.Now().UTC().Truncate(time.Second)
	outbox := usage.NewMemoryOutbox()
	u, err := otelkoogallery.NewUsage(outbox, append(tm.opts, otelkoogallery.WithClock(func() time.Time { return now }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	ms := tm.collect(t)
	want(t, ms, "koogallery.usage.pending", attrsOf(), 0)
	want(t, ms, "koogallery.usage.oldest_pending.age", attrsOf(), 0)
	want(t, ms, "koogallery.usage.at_risk", attrsOf(otelkoogallery.AttrDeadline.String("passed")), 0)

	entry := func(sn string, recorded, deadline time.Time) usage.Entry {
		return usage.Entry{Record: usage.Record{InstanceID: "instance-1", MeteringSN: sn}, Payload: []byte(`{"metering_sn":"` + sn + `"}`),
			Recorded: recorded, Deadline: deadline}
	}
	ctx := context.Background()
	if err := outbox.Add(ctx, []usage.Entry{
		entry("late", now.Add(-2*time.Hour), now.Add(-10*time.Minute)),
		entry("soon", now.Add(-30*time.Minute), now.Add(30*time.Minute)),
		entry("fine", now.Add(-5*time.Minute), now.Add(5*time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	claim, err := outbox.Claim(ctx, now, 1, time.Minute) // the earliest deadline: "late"
	if err != nil || len(claim.Entries) != 1 {
		t.Fatalf("claim: %v %v", claim, err)
	}

	ms = tm.collect(t)
	want(t, ms, "koogallery.usage.pending", attrsOf(), 3)
	want(t, ms, "koogallery.usage.leased", attrsOf(), 1)
	want(t, ms, "koogallery.usage.dead_letters", attrsOf(), 0)
	want(t, ms, "koogallery.usage.oldest_pending.age", attrsOf(), 7200)
	want(t, ms, "koogallery.usage.at_risk", attrsOf(otelkoogallery.AttrDeadline.String("within_hour")), 1)
	want(t, ms, "koogallery.usage.at_risk", attrsOf(otelkoogallery.AttrDeadline.String("passed")), 1)

	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := tm.collect(t)["koogallery.usage.pending"]; ok {
		t.Errorf("the gauges still report after Close")
	}
}

func TestUsageMeterEvents(t *testing.T) {
	tm := newTelemetry(t)
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	fake.FailUsageRecord("sn-2", "instance is frozen")
	outbox := usage.NewMemoryOutbox()
	u, err := otelkoogallery.NewUsage(outbox, tm.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	meter, err := usage.NewMeter(usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey)), outbox,
		u.Option(), usage.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	var records []usage.Record
	for _, sn := range []string{"sn-1", "sn-2", "sn-3"} {
		records = append(records, usage.Record{InstanceID: "instance-1", MeteringSN: sn,
			RecordTime: begin.Add(time.Hour), BeginTime: begin, EndTime: begin.Add(time.Hour), UsageValue: usage.MustDecimal("1")})
	}
	ctx := context.Background()
	if err := meter.Record(ctx, records...); err != nil {
		t.Fatal(err)
	}
	if err := meter.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	ms := tm.collect(t)
	outcome := otelkoogallery.AttrOutcome.String
	want(t, ms, "koogallery.usage.pushes", attrsOf(outcome("pushed")), 1)
	want(t, ms, "koogallery.usage.pushes", attrsOf(outcome("dead-lettered")), 1)
	want(t, ms, "koogallery.usage.records", attrsOf(outcome("pushed")), 2)
	want(t, ms, "koogallery.usage.records", attrsOf(outcome("dead-lettered")), 1)
	want(t, ms, "koogallery.usage.dead_lettered", attrsOf(otelkoogallery.AttrUsageCode.String("none")), 1)
	want(t, ms, "koogallery.usage.pending", attrsOf(), 0)
	want(t, ms, "koogallery.usage.dead_letters", attrsOf(), 1)
}

// A call whose context ends while it waits to retry has no last attempt
// to report: its span ends when the context does, with an error status.
func TestClientSpanEndsWithTheContext(t *testing.T) {
	tm := newTelemetry(t)
	fake := koogallerytest.NewServer()
	defer fake.Close()
	cl, err := otelkoogallery.NewClient(tm.opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := koogallery.WithAttemptHook(func(c context.Context, a koogallery.Attempt) {
		cl.Hook(c, a)
		if a.Retry {
			cancel() // as if the caller gave up during the wait
		}
	})
	kg, err := fake.NewClient(hook, koogallery.WithRetryPolicy(koogallery.RetryPolicy{
		MaxAttempts: 3, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	fake.Inject(koogallerytest.Unavailable())
	if _, err := order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW"); err == nil {
		t.Fatal("the call succeeded without its retry")
	}
	// The span ends on the context's AfterFunc goroutine.
	deadline := time.Now().Add(10 * time.Second)
	for len(tm.spans.Ended()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	spans := tm.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	if len(spans[0].Events()) != 1 || spans[0].Status().Code.String() != "Error" {
		t.Errorf("span: %d events, status %v", len(spans[0].Events()), spans[0].Status())
	}
	ms := tm.collect(t)
	want(t, ms, "koogallery.client.retries", attrsOf(otelkoogallery.AttrHTTPMethod.String("GET"), otelkoogallery.AttrAPI.String(order.QueryPath),
		otelkoogallery.AttrHTTPStatus.Int(503), otelkoogallery.AttrErrorType.String("APIGW.0201")), 1)
}
