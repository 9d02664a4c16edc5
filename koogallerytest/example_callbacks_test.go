package koogallerytest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// A seller tests its order-notification handler end to end: a genuine call
// goes through; its replay, a stale call, a forged one and a tampered one are
// refused with 000001 and never reach the seller's code.
func ExampleSender() {
	const accessKey = "test-access-key"
	handler := order.NewNotificationHandler(accessKey, func(_ context.Context, n *order.Notification) error {
		fmt.Println("provisioning order", n.OrderID, "test:", n.TestFlag)
		return nil
	}, callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx := context.Background()
	sender := koogallerytest.NewSender(accessKey)
	body := map[string]string{
		"activity":    "orderNotify",
		"orderId":     "MOCKPERIODYEARNEW",
		"orderLineId": "MOCKPERIODYEARNEW-000001",
		"testFlag":    "1",
	}

	call, err := sender.Sign(srv.URL, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, label := range []string{"genuine", "replayed"} {
		res, err := call.Send(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(label, res.ResultCode, res.ResultMsg)
	}
	for label, opt := range map[string]koogallerytest.CallOption{
		"forged":   koogallerytest.ForgedKey("guessed-key"),
		"stale":    koogallerytest.Stale(),
		"tampered": koogallerytest.Tampered(),
	} {
		res, err := sender.Send(ctx, srv.URL, body, opt)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(label, res.ResultCode)
	}
	// Unordered output:
	// provisioning order MOCKPERIODYEARNEW test: true
	// genuine 000000 success
	// replayed 000001 authentication failed
	// forged 000001
	// stale 000001
	// tampered 000001
}

// SignKit signs a joint-operation kit call with the x-sign headers; with the
// time and nonce pinned it reproduces a known-answer vector.
func ExampleSender_SignKit() {
	sender := koogallerytest.NewSender("5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17")
	call, err := sender.SignKit("https://seller.example.com/isv/produce/produceAPI/v2/tenantSync",
		`{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`,
		koogallerytest.At(time.UnixMilli(1795768200123)), koogallerytest.WithNonce("Q7ZP0L3XW9M2K8RT"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("x-sign:", call.Header.Get("x-sign"))
	fmt.Println("x-timestamp:", call.Header.Get("x-timestamp"))
	fmt.Println("x-nonce:", call.Header.Get("x-nonce"))
	// Output:
	// x-sign: 3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b
	// x-timestamp: 1795768200123
	// x-nonce: Q7ZP0L3XW9M2K8RT
}
