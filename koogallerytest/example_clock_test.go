package koogallerytest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// One Clock drives the handler's freshness window and the sender's
// timestamps, so a test reads the same on any date and can move time: a
// call signed now and delivered two minutes later is stale.
func ExampleNewClock() {
	const accessKey = "test-access-key"
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	handler := order.NewNotificationHandler(accessKey, func(context.Context, *order.Notification) error { return nil },
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(handler)
	defer srv.Close()
	sender := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	body := map[string]string{"activity": "orderNotify", "orderId": "CS1", "orderLineId": "CS1-000001"}

	ctx := context.Background()
	late, err := sender.Sign(srv.URL, body) // stamped 08:30:00
	if err != nil {
		fmt.Println(err)
		return
	}
	clk.Advance(2 * time.Minute) // the handler now reads 08:32:00
	res, err := late.Send(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	ms, _ := strconv.ParseInt(late.Timestamp, 10, 64)
	fmt.Println("signed at", time.UnixMilli(ms).UTC().Format("15:04"), "sent at", clk.Now().Format("15:04"), res.ResultCode)
	res, err = sender.Send(ctx, srv.URL, body) // stamped 08:32:00
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed and sent at", clk.Now().Format("15:04"), res.ResultCode)
	// Output:
	// signed at 08:30 sent at 08:32 000001
	// signed and sent at 08:32 000000
}
