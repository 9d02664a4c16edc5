package license

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// Provider is what a seller implements to serve the License 2.0 production
// interface, 《联营License类授权码商品接入指南(2.0版本)》›「商家接入接口描述」. All
// three activities are optional for a product; a method the seller has no
// use for can return nil. The handler calls a method only for a verified,
// fresh, non-replayed call whose mandatory fields are present. KooGallery
// retries a failed call every 2 minutes for about 2 hours, so each method
// must be idempotent. Request fields name their body members, read as in
// package saas.
type Provider interface {
	// RefreshLicenseCode changes a licence code's expiry (activity
	// refreshLicenseCode).
	RefreshLicenseCode(ctx context.Context, req *RefreshLicenseCodeRequest) error
	// UpdateLicenseCodeStatus freezes or unfreezes a licence code
	// (activity updateLicenseCodeStatus).
	UpdateLicenseCodeStatus(ctx context.Context, req *UpdateLicenseCodeStatusRequest) error
	// ReleaseLicenseCode releases a licence code (activity
	// releaseLicenseCode). It must succeed when the code is already gone.
	ReleaseLicenseCode(ctx context.Context, req *ReleaseLicenseCodeRequest) error
}

// Scene is the scene member of refreshLicenseCode: why it is called.
type Scene string

// Scenes of refreshLicenseCode. Other values are passed through: KooGallery
// may add scenes.
const (
	SceneRenewal                  Scene = "RENEWAL"
	SceneUnsubscribeRenewalPeriod Scene = "UNSUBSCRIBE_RENEWAL_PERIOD"
)

// Status is the status member of updateLicenseCodeStatus.
type Status string

// Statuses of updateLicenseCodeStatus. Other values are passed through.
const (
	StatusFreeze   Status = "FREEZE"
	StatusUnfreeze Status = "UNFREEZE"
)

// RefreshLicenseCodeRequest is refreshLicenseCode, 「更新授权码有效期」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649167.html).
type RefreshLicenseCodeRequest struct {
	License     string    // license, String(64), mandatory: the licence code
	Scene       Scene     // scene, String(64), mandatory
	OrderID     string    // orderId, String(64), mandatory: the renewal or unsubscribe order
	OrderLineID string    // orderLineId, String(64), mandatory
	ProductID   string    // productId, String(64), optional: the new product if the period type changed
	ExpireTime  time.Time // expireTime, mandatory: yyyyMMddHHmmss in UTC (yyyyMMddHHmmssSSS accepted)
	TestFlag    bool      // testFlag, optional: 1 for a debugging call from the seller console
}

// UpdateLicenseCodeStatusRequest is updateLicenseCodeStatus, 「变更授权码状态」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649168.html).
type UpdateLicenseCodeStatusRequest struct {
	License  string // license, String(64), mandatory
	Status   Status // status, mandatory: FREEZE or UNFREEZE
	TestFlag bool   // testFlag, optional
}

// ReleaseLicenseCodeRequest is releaseLicenseCode, 「释放授权码」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649169.html).
type ReleaseLicenseCodeRequest struct {
	License     string // license, String(64), mandatory
	OrderID     string // orderId, String(64), optional: the unsubscribe order, if one caused the release
	OrderLineID string // orderLineId, String(64), optional
	TestFlag    bool   // testFlag, optional
}

// NewHandler returns the http.Handler for the License 2.0 production
// interface: mount it at the URL configured for the product (KooGallery
// calls POST <url>?signature=…&timestamp=…&nonce=…). accessKey is the key
// from 卖家中心 › 应用工具 › 密钥管理. The handler always answers HTTP 200 with
// a JSON result; see the package documentation for the result codes.
//
// It accepts the options of package callback that apply to it
// (callback.LicenseOption; another does not compile). It panics if
// accessKey is empty, p is nil or an option's value is invalid (programming
// errors, caught at start-up).
func NewHandler(accessKey string, p Provider, opts ...callback.LicenseOption) http.Handler {
	if p == nil {
		panic("license: nil Provider")
	}
	cfg := engine.Apply("license.NewHandler", engine.Config{Family: "license"}, engine.Options(opts))
	return engine.NewHandler(accessKey, cfg.Config, (&handler{p: p}).serve)
}

type handler struct{ p Provider }

func (h *handler) serve(ctx context.Context, body []byte, resp *engine.Response) error {
	w, test, err := engine.DecodeRequest(body, resp)
	if err != nil {
		return err
	}
	switch w.Activity {
	case "refreshLicenseCode":
		if err := errors.Join(engine.Require("license", w.License), engine.Require("scene", w.Scene),
			engine.Require("orderId", w.OrderID), engine.Require("orderLineId", w.OrderLineID)); err != nil {
			return err
		}
		expire, err := engine.RequireTime("expireTime", w.ExpireTime)
		if err != nil {
			return err
		}
		return h.p.RefreshLicenseCode(ctx, &RefreshLicenseCodeRequest{
			License: w.License, Scene: Scene(w.Scene), OrderID: w.OrderID, OrderLineID: w.OrderLineID,
			ProductID: w.ProductID, ExpireTime: expire, TestFlag: test,
		})
	case "updateLicenseCodeStatus":
		if err := errors.Join(engine.Require("license", w.License), engine.Require("status", w.Status)); err != nil {
			return err
		}
		return h.p.UpdateLicenseCodeStatus(ctx, &UpdateLicenseCodeStatusRequest{License: w.License, Status: Status(w.Status), TestFlag: test})
	case "releaseLicenseCode":
		if err := engine.Require("license", w.License); err != nil {
			return err
		}
		return h.p.ReleaseLicenseCode(ctx, &ReleaseLicenseCodeRequest{License: w.License, OrderID: w.OrderID, OrderLineID: w.OrderLineID, TestFlag: test})
	case "":
		return engine.Invalid("missing activity")
	}
	return engine.Invalid("unknown activity")
}
