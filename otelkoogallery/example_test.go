package otelkoogallery_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"sort"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/otelkoogallery"
	"github.com/isvkit/koogallery/saas/usage"
)

// printSums prints the data points of the counters and gauges named, in
// a stable order: what a metrics backend would show.
func printSums(reader sdkmetric.Reader, names ...string) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, name := range names {
				if m.Name != name {
					continue
				}
				switch d := m.Data.(type) {
				case metricdata.Sum[int64]:
					for _, p := range d.DataPoints {
						lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
					}
				case metricdata.Gauge[int64]:
					for _, p := range d.DataPoints {
						lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
					}
				case metricdata.Gauge[float64]:
					for _, p := range d.DataPoints {
						lines = append(lines, fmt.Sprintf("%s{%s} %g", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
					}
				}
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

// Count every handler's calls, refusals and store failures, and trace each
// callback: the observer goes to the handler, the middleware around it.
func ExampleNewCallbacks() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	cb, err := otelkoogallery.NewCallbacks(otelkoogallery.WithMeterProvider(mp)) // and WithTracerProvider
	if err != nil {
		log.Fatal(err)
	}
	handler := order.NewNotificationHandler("test-access-key", func(context.Context, *order.Notification) error { return nil },
		cb.Option(), callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(cb.Middleware(handler))
	defer srv.Close()

	kg := koogallerytest.NewSender("test-access-key")
	body := map[string]string{"activity": "orderNotify", "orderId": "CS1", "orderLineId": "CS1-000001", "testFlag": "1"}
	for _, opts := range [][]koogallerytest.CallOption{nil, {koogallerytest.ForgedKey("guessed-key")}} {
		if _, err := kg.Send(context.Background(), srv.URL, body, opts...); err != nil {
			log.Fatal(err)
		}
	}
	printSums(reader, "koogallery.callback.calls", "koogallery.callback.refusals")
	// Output:
	// koogallery.callback.calls{koogallery.callback.activity=,koogallery.callback.family=order,koogallery.callback.result_code=000001} 1
	// koogallery.callback.calls{koogallery.callback.activity=orderNotify,koogallery.callback.family=order,koogallery.callback.result_code=000000} 1
	// koogallery.callback.refusals{koogallery.callback.family=order,koogallery.callback.reason=signature mismatch} 1
}

// Measure the open API's attempts and retries: the hook goes to the client.
func ExampleNewClient() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	fake := koogallerytest.NewServer()
	defer fake.Close()
	cl, err := otelkoogallery.NewClient(otelkoogallery.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	kg, err := fake.NewClient(cl.Option(), koogallery.WithRetryPolicy(koogallery.RetryPolicy{
		MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	fake.Inject(koogallerytest.Throttled())
	if _, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW"); err != nil {
		log.Fatal(err)
	}
	printSums(reader, "koogallery.client.calls", "koogallery.client.retries")
	// Output:
	// koogallery.client.calls{http.request.method=GET,http.response.status_code=200,koogallery.api=/api/mkp-openapi-public/global/v1/order/query} 1
	// koogallery.client.retries{error.type=MKT.0250,http.request.method=GET,http.response.status_code=406,koogallery.api=/api/mkp-openapi-public/global/v1/order/query} 1
}

// Watch the metering outbox: its gauges are read at each collection.
func ExampleNewUsage() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	outbox := usage.NewMemoryOutbox()
	u, err := otelkoogallery.NewUsage(outbox, otelkoogallery.WithMeterProvider(mp),
		otelkoogallery.WithClock(func() time.Time { return now })) // the Meter's clock
	if err != nil {
		log.Fatal(err)
	}
	defer u.Close()
	// A Meter would fill the outbox (usage.NewMeter(client, outbox, u.Option())).
	err = outbox.Add(context.Background(), []usage.Entry{{
		Record: usage.Record{InstanceID: "instance-1", MeteringSN: "sn-1"}, Payload: []byte(`{}`),
		Recorded: now.Add(-90 * time.Minute), Deadline: now.Add(20 * time.Minute)}})
	if err != nil {
		log.Fatal(err)
	}
	printSums(reader, "koogallery.usage.pending", "koogallery.usage.oldest_pending.age", "koogallery.usage.at_risk")
	// Output:
	// koogallery.usage.at_risk{koogallery.usage.deadline=passed} 0
	// koogallery.usage.at_risk{koogallery.usage.deadline=within_hour} 1
	// koogallery.usage.oldest_pending.age{} 5400
	// koogallery.usage.pending{} 1
}
