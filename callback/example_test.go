package callback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
)

// A seller whose callbacks arrive through a queue (or a serverless
// runtime's event) verifies each delivery's parts, then decodes and answers
// it itself.
func ExampleVerifier_Verify() {
	const accessKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	orders := callback.NewV2Verifier(accessKey, callback.WithClock(clk.Now))

	// What the queue delivers: a genuinely signed order notification, then
	// the same delivery again.
	sender := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	signed, err := sender.Sign("https://seller.example.com/isv/order",
		`{"activity":"orderNotify","orderId":"CS2611270001","orderLineId":"CS2611270001-000001","testFlag":"0"}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse(signed.URL)
	delivery := &callback.Request{Method: "POST", RawQuery: u.RawQuery, Header: signed.Header, Body: signed.Body}

	for range 2 {
		call, err := orders.Verify(context.Background(), delivery)
		code, msg := callback.Result(err)
		if err == nil {
			var n struct{ OrderID string }
			if err := json.Unmarshal(call.Body, &n); err != nil {
				code, msg = "000002", "invalid parameter"
			}
			fmt.Println("order", n.OrderID)
		}
		answer, _ := json.Marshal(map[string]string{"resultCode": code, "resultMsg": msg})
		fmt.Println(string(answer))
	}
	// Output:
	// order CS2611270001
	// {"resultCode":"000000","resultMsg":"success"}
	// {"resultCode":"000001","resultMsg":"authentication failed"}
}
