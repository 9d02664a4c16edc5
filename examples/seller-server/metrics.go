package main

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/isvkit/koogallery/otelkoogallery"
)

// newMetrics returns the callback instruments (otelkoogallery.Callbacks:
// calls, durations, refusals, store errors) and the handler serving them
// at GET /metrics in the Prometheus text format, through the OpenTelemetry
// Prometheus exporter. Each mux gets its own registry and meter provider;
// spans go to the global tracer provider (none unless the program sets
// one).
func newMetrics() (*otelkoogallery.Callbacks, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	cb, err := otelkoogallery.NewCallbacks(otelkoogallery.WithMeterProvider(mp))
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return cb, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
