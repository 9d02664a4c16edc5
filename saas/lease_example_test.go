package saas_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/store"
)

// A replica that died in the middle of NewInstance leaves its claim on the
// order line: the others answer 000005 until its lease runs out, then one
// takes it over. WithClaimLease shortens the lease from five minutes.
func ExampleWithClaimLease() {
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	shared := store.NewMemory(1000, store.WithClock(clk.Now)) // stand-in for Redis or PostgreSQL
	// The replica that died had claimed the order line, as the handler does.
	_, _, _ = shared.Claim(context.Background(), "newInstance/CS1/CS1-000001", 30*time.Second)

	h := saas.NewHandler("test-access-key", &shop{instances: map[string]time.Time{}},
		callback.WithStore(shared, 0), callback.WithClaimLease(30*time.Second),
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	kg := koogallerytest.NewSender("test-access-key", koogallerytest.WithClock(clk.Now))
	for _, wait := range []time.Duration{0, 30 * time.Second} {
		clk.Advance(wait)
		res, err := kg.Send(context.Background(), srv.URL, map[string]string{
			"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %s %q\n", res.ResultCode, res.ResultMsg, res.InstanceID)
	}
	// Output:
	// 000005 order line is being processed; retry later ""
	// 000000 success "inst-CS1-000001"
}
