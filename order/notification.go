package order

import (
	"context"
	"errors"
	"net/http"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// Notification is KooGallery's order notification, sent after a buyer's
// payment succeeds for any product type except images: a JSON body with
// "activity":"orderNotify" (《订单通知》›「订单通知接口描述」,
// https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0000002091799153.html).
// It carries only the order's identity: fetch the order with
// Client.QueryOrder. Members are read as in package saas.
type Notification struct {
	OrderID     string // orderId, String(64), mandatory
	OrderLineID string // orderLineId, String(64), mandatory
	TestFlag    bool   // testFlag, String(2): 1 for a debugging call (touch no real data), 0 or absent otherwise
}

// NewNotificationHandler returns the http.Handler for order notifications:
// mount it at the URL configured in the seller console (KooGallery calls
// POST <url>?signature=…&timestamp=…&nonce=…). accessKey is the key from
// 卖家中心 › 应用工具 › 密钥管理.
//
// The handler verifies the call (signature in constant time, 60-second
// freshness window plus skew, nonce replay), decodes it and calls onOrder;
// refused (000001) and malformed (000002) calls never reach onOrder. It
// always answers HTTP 200 with a JSON result: 000000 when onOrder returns
// nil, the code of a ResultError in the returned error's chain, and 000005
// for any other error or a panic, whose text is logged and never sent.
//
// It accepts the options of package callback that apply to it
// (callback.NotificationOption; another does not compile). It panics if
// accessKey is empty, onOrder is nil or an option's value is invalid
// (programming errors, caught at start-up).
func NewNotificationHandler(accessKey string, onOrder func(context.Context, *Notification) error, opts ...callback.NotificationOption) http.Handler {
	if onOrder == nil {
		panic("order: nil notification func")
	}
	cfg := engine.Apply("order.NewNotificationHandler", engine.Config{Family: "order"}, engine.Options(opts))
	return engine.NewHandler(accessKey, cfg.Config, func(ctx context.Context, body []byte, resp *engine.Response) error {
		f, test, err := engine.DecodeRequest(body, resp)
		if err != nil {
			return err
		}
		switch f.Activity {
		case "orderNotify":
		case "":
			return engine.Invalid("missing activity")
		default:
			return engine.Invalid("unknown activity")
		}
		// testFlag is documented as mandatory; its absence is tolerated as 0.
		if err := errors.Join(engine.Require("orderId", f.OrderID), engine.Require("orderLineId", f.OrderLineID)); err != nil {
			return err
		}
		return onOrder(ctx, &Notification{OrderID: f.OrderID, OrderLineID: f.OrderLineID, TestFlag: test})
	})
}

// ResultError is an error that answers KooGallery with a chosen result code
// and message (see koogallery.ResultError): return one, or wrap one, from the
// notification func; any other error answers 000005.
type ResultError = koogallery.ResultError

// NewResultError returns a ResultError for code. A code that is not six
// digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return koogallery.NewResultError(code, message)
}

// ErrInvalidParameter answers 000002: the notification is unacceptable.
var ErrInvalidParameter = &ResultError{Code: engine.CodeInvalid, Message: "invalid parameter"}
