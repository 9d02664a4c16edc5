package order_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

func ExampleNewNotificationHandler() {
	const accessKey = "test-access-key"
	onOrder := func(ctx context.Context, n *order.Notification) error {
		// Typically: o, err := orders.QueryOrder(ctx, n.OrderID), then act on o.
		fmt.Println("paid:", n.OrderID, n.OrderLineID, "test:", n.TestFlag)
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/isv/order", order.NewNotificationHandler(accessKey, onOrder, order.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := koogallerytest.NewSender(accessKey).Send(context.Background(), srv.URL+"/isv/order", map[string]string{
		"activity": "orderNotify", "orderId": "MOCKPERIODYEARNEW", "orderLineId": "MOCKPERIODYEARNEW-000001", "testFlag": "1",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Body))
	// Output:
	// paid: MOCKPERIODYEARNEW MOCKPERIODYEARNEW-000001 test: true
	// {"resultCode":"000000","resultMsg":"success"}
}
