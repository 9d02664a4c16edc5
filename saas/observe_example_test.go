package saas_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// Counting calls per activity and result code, and refusals per reason —
// what a Prometheus CounterVec or an OpenTelemetry counter would record —
// through WithObserver; and timing every request with a middleware around
// the handler, the seam otelhttp.NewHandler uses.
func ExampleWithObserver() {
	var mu sync.Mutex
	counts := map[string]int{}
	observe := func(_ context.Context, o callback.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		counts[fmt.Sprintf("%s/%s %s %s", o.Family, o.Activity, o.ResultCode, o.Reason)]++ // labels: all low-cardinality
	}
	var requests int
	timed := func(next http.Handler) http.Handler { // otelhttp.NewHandler(next, "koogallery") fits here
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			next.ServeHTTP(w, r)
			_ = time.Since(start) // record it as a histogram
			requests++
		})
	}

	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", timed(saas.NewHandler(accessKey, &shop{instances: map[string]time.Time{}},
		callback.WithObserver(observe), callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler)))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	market := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	ctx := context.Background()
	body := map[string]string{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-1"}
	call, _ := market.Sign(srv.URL+"/isv/produce", body)
	_, _ = call.Send(ctx) // provisioned
	_, _ = call.Send(ctx) // the same call again: a replay
	_, _ = market.Send(ctx, srv.URL+"/isv/produce", body, koogallerytest.ForgedKey("guess"))

	mu.Lock()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%d × %s\n", counts[k], strings.TrimSpace(k))
	}
	mu.Unlock()
	fmt.Println("requests timed:", requests)
	// Output:
	// 1 × saas/ 000001 replayed nonce
	// 1 × saas/ 000001 signature mismatch
	// 1 × saas/newInstance 000000
	// requests timed: 3
}
