package saas

import (
	"context"
	"net/url"
	"time"

	"github.com/isvkit/koogallery/order"
)

// V1Provider is what a seller implements to serve the SaaS V1 basic
// production interface (spec callbacks.md §4): one method per V1 activity,
// named after it. The handler calls a method only for a verified call whose
// mandatory fields are present; errors choose the result code as for
// Provider (a *ResultError or an Err sentinel in the chain; anything else
// answers 000005 without its text reaching KooGallery).
//
// Periodic products need NewInstance, RefreshInstance, ExpireInstance and
// ReleaseInstance; pay-per-use products NewInstance, ReleaseInstance,
// InstanceStatus and QueryInstance; Upgrade is optional. A method a product
// does not need may return ErrInvalidParameter.
//
// KooGallery waits 5 s for an answer and V1 has no asynchronous
// provisioning: a NewInstance that cannot finish in time returns
// ErrProcessing (000004), and KooGallery re-sends the call, hourly for three
// hours, until an answer says 000000.
type V1Provider interface {
	// NewInstance provisions what an order bought (activity newInstance).
	// The handler calls it at most once per order (per order and product
	// for pay-per-use, one-time and package products); see NewV1Handler.
	NewInstance(ctx context.Context, req *V1NewInstanceRequest) (*V1NewInstanceResponse, error)
	// RefreshInstance renews an instance or turns a trial into a paid
	// instance (activity refreshInstance).
	RefreshInstance(ctx context.Context, req *V1RefreshInstanceRequest) error
	// ExpireInstance freezes an expired instance, keeping its data through
	// the freeze period (activity expireInstance). It must succeed for an
	// instance already frozen.
	ExpireInstance(ctx context.Context, req *V1ExpireInstanceRequest) error
	// ReleaseInstance deletes an instance (activity releaseInstance). It
	// must succeed when the instance is already gone.
	ReleaseInstance(ctx context.Context, req *V1ReleaseInstanceRequest) error
	// Upgrade applies an upgrade order to an instance (activity upgrade).
	// The handler calls it at most once per upgrade order.
	Upgrade(ctx context.Context, req *V1UpgradeRequest) error
	// InstanceStatus freezes or unfreezes a pay-per-use instance (activity
	// instanceStatus).
	InstanceStatus(ctx context.Context, req *V1InstanceStatusRequest) error
	// QueryInstance reports instances' access information and usage
	// (activity queryInstance). The handler encrypts AppInfo.UserName and
	// Password. It also asks QueryInstance for the AppInfo of an instance
	// when answering a re-sent newInstance; see NewV1Handler.
	QueryInstance(ctx context.Context, req *QueryInstanceRequest) (*QueryInstanceResponse, error)
}

// V1NewInstanceRequest is the V1 newInstance call (spec §4.1). Unlike V2's,
// it carries the buyer and the product.
type V1NewInstanceRequest struct {
	// CustomerID is the buyer's Huawei account (tenant, domain) ID;
	// CustomerName its name.
	CustomerID   string
	CustomerName string
	// UserID and UserName identify the buyer's IAM sub-user, sent only to
	// products that create accounts from IAM user names.
	UserID   string
	UserName string
	// MobilePhone and Email are the buyer's, decrypted by the handler (they
	// arrive AES-encrypted); sent only to products that create accounts from
	// them. Never log them.
	MobilePhone string
	Email       string
	// BusinessID differs on every call, retries included. KooGallery
	// recommends the first call's value as the instance ID.
	BusinessID string
	OrderID    string
	// SKUCode is the specification bought; it stays the same across
	// renewals. ProductID differs per period type under one SKUCode.
	SKUCode   string
	ProductID string
	// TrialFlag marks a trial instance.
	TrialFlag bool
	// ExpireTime is for reference only (the real expiry arrives with
	// ExpireInstance); zero when not sent. UTC.
	ExpireTime time.Time
	// ChargingMode is empty when not sent.
	ChargingMode order.ChargingMode
	// PeriodType and PeriodNumber describe a periodic order's period.
	PeriodType   order.PeriodType
	PeriodNumber int
	// OrderAmount is the amount paid, a decimal with up to three places, as
	// sent (empty when not sent): parse it with a decimal type, not a float.
	OrderAmount string
	// Amount, DiskSize and BandWidth are the linear attributes the buyer
	// chose (count, disk size, bandwidth); zero when not sent.
	Amount    int
	DiskSize  int
	BandWidth int
	// SaaSExtendParams are the saasExtendParams name/value pairs, such as
	// emailDomainName; nil when absent or unreadable (then see Params).
	SaaSExtendParams []order.ExtendParam
	// ProvisionType is passed through; its meaning is undocumented [GAP].
	ProvisionType string
	// TestFlag marks a debugging call from the seller console: answer
	// quickly and touch no real data.
	TestFlag bool
	// Params holds every query parameter as received (URL-decoded, the
	// authToken left out), including those this package does not model.
	Params url.Values
}

// V1NewInstanceResponse answers V1 newInstance.
type V1NewInstanceResponse struct {
	// InstanceID identifies the instance, at most 64 characters, the same
	// for every call about the same order.
	InstanceID string
	// AppInfo is how the buyer reaches the instance; the handler encrypts
	// UserName and Password. Leave it nil only if the credentials reach the
	// buyer by SMS or e-mail instead.
	AppInfo *AppInfo
}

// V1RefreshInstanceRequest is the V1 refreshInstance call (§4.2): a
// renewal, an unsubscribed renewal (negative OrderAmount) or a trial turned
// into a paid instance.
type V1RefreshInstanceRequest struct {
	// OrderID is the renewal order's, not the original purchase's.
	OrderID    string
	InstanceID string
	// ProductID is the new product ID when the period type changed.
	ProductID string
	// ExpireTime is the instance's new expiry, in UTC.
	ExpireTime time.Time
	// TrialToFormal marks a trial turned into a paid instance.
	TrialToFormal bool
	PeriodType    order.PeriodType
	PeriodNumber  int
	// OrderAmount is the renewal amount as sent, negative for a refunded
	// renewal.
	OrderAmount string
	TestFlag    bool
	Params      url.Values
}

// V1ExpireInstanceRequest is the V1 expireInstance call (§4.3).
type V1ExpireInstanceRequest struct {
	InstanceID string
	// OrderID is the original purchase order's.
	OrderID  string
	TestFlag bool
	Params   url.Values
}

// V1ReleaseInstanceRequest is the V1 releaseInstance call (§4.4).
type V1ReleaseInstanceRequest struct {
	InstanceID  string
	OrderID     string
	OrderAmount string
	TestFlag    bool
	Params      url.Values
}

// V1UpgradeRequest is the V1 upgrade call (§4.5).
type V1UpgradeRequest struct {
	// InstanceID is the instance upgraded; it keeps its ID.
	InstanceID string
	// OrderID is the upgrade order's.
	OrderID string
	// SKUCode is the new specification (unchanged when only linear
	// attributes grew), ProductID the new product.
	SKUCode   string
	ProductID string
	Amount    int
	DiskSize  int
	BandWidth int
	TestFlag  bool
	Params    url.Values
}

// V1InstanceStatusRequest is the V1 instanceStatus call (§4.6), which
// freezes (StatusFreeze) or unfreezes (StatusNormal) a pay-per-use instance.
// Other status values are passed through [GAP: the enumeration is not
// documented].
type V1InstanceStatusRequest struct {
	InstanceID string
	Status     Status
	TestFlag   bool
	Params     url.Values
}

// StatusNormal is the V1 instanceStatus value that unfreezes an instance.
const StatusNormal Status = "NORMAL"
