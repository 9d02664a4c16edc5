package order_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// Mount the handler, then test it as KooGallery calls it: koogallerytest
// signs calls exactly as KooGallery does, on a clock shared with the handler
// so that the example passes on any date.
func ExampleNewNotificationHandler() {
	const accessKey = "test-access-key" // from 卖家中心 › 应用工具 › 密钥管理
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	onOrder := func(ctx context.Context, n *order.Notification) error {
		// Typically: o, err := orders.QueryOrder(ctx, n.OrderID), then act on o.
		fmt.Println("paid:", n.OrderID, n.OrderLineID, "test:", n.TestFlag)
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/isv/order", order.NewNotificationHandler(accessKey, onOrder,
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/isv/order"

	ctx := context.Background()
	kg := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	body := map[string]string{
		"activity": "orderNotify", "orderId": "MOCKPERIODYEARNEW", "orderLineId": "MOCKPERIODYEARNEW-000001", "testFlag": "1",
	}
	call, err := kg.Sign(url, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("POST", string(call.Body))
	res, err := call.Send(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Body))

	// Refused before reaching onOrder: a forged call.
	res, err = kg.Send(ctx, url, body, koogallerytest.ForgedKey("guessed-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("forged:", string(res.Body))
	// Output:
	// POST {"activity":"orderNotify","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}
	// paid: MOCKPERIODYEARNEW MOCKPERIODYEARNEW-000001 test: true
	// {"resultCode":"000000","resultMsg":"success"}
	// forged: {"resultCode":"000001","resultMsg":"authentication failed"}
}
