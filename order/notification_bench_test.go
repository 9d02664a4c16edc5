package order_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

const successAnswer = `{"resultCode":"000000","resultMsg":"success"}`

// notifyAnswer is the lean verifier's decoding and answer of an
// orderNotify.
func notifyAnswer(dst, body []byte) ([]byte, error) {
	var n struct{ Activity, OrderID, OrderLineID, TestFlag string }
	if err := json.Unmarshal(body, &n); err != nil {
		return dst, err
	}
	if n.Activity != "orderNotify" || n.OrderID == "" {
		return dst, errors.New("not an order notification")
	}
	return append(dst, successAnswer...), nil
}

// presignNotifications signs a round of order notifications, each for a new
// order.
func presignNotifications(b *testing.B) []benchtest.Call {
	sender := koogallerytest.NewSender(accessKey)
	return benchtest.Presign(b, func(i int) (benchtest.Call, error) {
		n := strconv.Itoa(i)
		return v2Call(sender.Sign("http://kg.test/isv/order", `{"activity":"orderNotify","orderId":"CS`+n+`","orderLineId":"CS`+n+`-000001","testFlag":"0"}`))
	})
}

// BenchmarkNotificationPresigned serves an orderNotify, signed beforehand
// and without a network, through NewNotificationHandler (signature, window,
// replay cache, decoding), a lean hand-written V2 verifier and a bare
// handler, side by side; a fresh handler per round of calls (outside the
// timer), so that its replay cache starts empty.
func BenchmarkNotificationPresigned(b *testing.B) {
	onOrder := func(context.Context, *order.Notification) error { return nil }
	benchtest.Compare(b, presignNotifications,
		benchtest.Variant{Name: "handler", Handler: func() http.Handler {
			return order.NewNotificationHandler(accessKey, onOrder, callback.WithLogger(slog.New(slog.DiscardHandler)))
		}},
		benchtest.Variant{Name: "lean", Handler: func() http.Handler { return benchtest.LeanV2(accessKey, notifyAnswer) }},
		benchtest.Variant{Name: "bare", Handler: func() http.Handler { return benchtest.Bare(successAnswer) }},
	)
}

// v2Call is the benchtest.Call of a koogallerytest V2 or kit V2 call, or err.
func v2Call(c *koogallerytest.Call, err error) (benchtest.Call, error) {
	if err != nil {
		return benchtest.Call{}, err
	}
	return benchtest.Call{Method: http.MethodPost, URL: c.URL, Header: c.Header, Body: c.Body}, nil
}
