package saas

import (
	"context"
	"net/url"
	"time"

	"github.com/isvkit/koogallery/order"
)

// V1Provider is what a seller implements to serve the SaaS V1 basic
// production interface, 《通用和自服务SaaS类商品接入指南 V1.0》›「接口描述」: one
// method per V1 activity, named after it. The handler calls a method only
// for a verified call whose mandatory parameters are present; errors choose
// the result code as for Provider (a *ResultError or an Err sentinel in the
// chain; anything else answers 000005 without its text reaching KooGallery).
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

// V1NewInstanceRequest is V1 activity newInstance,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「新购商品」. Unlike V2's, it carries the
// buyer and the product. Each field names its query parameter; only
// businessId and orderId are checked, other fields are zero when absent.
type V1NewInstanceRequest struct {
	CustomerID   string // customerId, String(100): the buyer's Huawei account (tenant, domain) ID
	CustomerName string // customerName, String(64): the buyer account's name
	UserID       string // userId, String(64): the buyer's IAM sub-user, for IAM-based accounts only
	UserName     string // userName, String(64): that sub-user's name
	// MobilePhone and Email are mobilePhone and email, delivered decrypted
	// (they arrive AES-encrypted, see WithEncryptType; a value that does not
	// decrypt answers 000002); sent only to products that create accounts
	// from them. Never log them.
	MobilePhone string
	Email       string
	// BusinessID is businessId, String(64), mandatory. It differs on every
	// call, retries included; KooGallery recommends the first call's value
	// as the instance ID.
	BusinessID string
	OrderID    string // orderId, String(64), mandatory
	SKUCode    string // skuCode, String(64): the specification, the same across renewals
	ProductID  string // productId, String(64): differs per period type under one SKUCode
	TrialFlag  bool   // trialFlag: 1 for a trial instance, 0 or absent otherwise
	// ExpireTime is expireTime, yyyyMMddHHmmss in UTC, for reference only:
	// the real expiry arrives with ExpireInstance.
	ExpireTime time.Time
	// ChargingMode is chargingMode: 0, 1, 3 and 5 become the order
	// package's ON_DEMAND, PERIOD, ONE_TIME and ON_DEMAND_PKG; others stay as sent.
	ChargingMode order.ChargingMode
	PeriodType   order.PeriodType // periodType, String(10): year or month, for periodic orders
	PeriodNumber int              // periodNumber, Integer(2): the number of periods
	// OrderAmount is orderAmount, the amount paid with up to three decimals,
	// as sent: parse it with a decimal type, not a float.
	OrderAmount string
	Amount      int // amount, Integer(4): the count the buyer chose
	DiskSize    int // diskSize, Integer(4): the disk size the buyer chose
	BandWidth   int // bandWidth, Integer(4): the bandwidth the buyer chose
	// SaaSExtendParams is saasExtendParams, String(2048): a JSON array of
	// {name, value} objects, such as emailDomainName, or its Base64. nil when
	// absent or unreadable (then see Params).
	SaaSExtendParams []order.ExtendParam
	ProvisionType    string // provisionType, passed through: Huawei does not document it
	TestFlag         bool   // testFlag: a debugging call; answer quickly, touch no real data
	// Params holds every query parameter as received (URL-decoded, the
	// authToken left out), including those this package does not model.
	Params url.Values
}

// V1NewInstanceResponse answers V1 newInstance.
type V1NewInstanceResponse struct {
	InstanceID string // instanceId, String(64), required: the same for every call about the order
	// AppInfo is sent as appInfo with its UserName and Password encrypted,
	// and encryptType. Leave it nil only if the credentials reach the buyer
	// by SMS or e-mail instead.
	AppInfo *AppInfo
}

// V1RefreshInstanceRequest is V1 activity refreshInstance,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「商品续费」: a renewal, an unsubscribed
// renewal (negative OrderAmount) or a trial turned into a paid instance.
type V1RefreshInstanceRequest struct {
	OrderID       string           // orderId, String(64), mandatory: the renewal order, not the purchase
	InstanceID    string           // instanceId, String(64), mandatory
	ProductID     string           // productId, String(64), optional: the new product if the period type changed
	ExpireTime    time.Time        // expireTime, mandatory: the new expiry, yyyyMMddHHmmss in UTC
	TrialToFormal bool             // trialToFormal: 1 for a trial turned into a paid instance, absent otherwise
	PeriodType    order.PeriodType // periodType, String(10), optional
	PeriodNumber  int              // periodNumber, Integer(2), optional
	OrderAmount   string           // orderAmount as sent, optional: negative for a refunded renewal
	TestFlag      bool             // testFlag
	Params        url.Values       // every parameter but authToken
}

// V1ExpireInstanceRequest is V1 activity expireInstance,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「商品过期」.
type V1ExpireInstanceRequest struct {
	InstanceID string     // instanceId, String(64), mandatory
	OrderID    string     // orderId, String(64): the original purchase order
	TestFlag   bool       // testFlag
	Params     url.Values // every parameter but authToken
}

// V1ReleaseInstanceRequest is V1 activity releaseInstance,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「商品资源释放」.
type V1ReleaseInstanceRequest struct {
	InstanceID  string     // instanceId, String(64), mandatory
	OrderID     string     // orderId, String(64)
	OrderAmount string     // orderAmount as sent, optional
	TestFlag    bool       // testFlag
	Params      url.Values // every parameter but authToken
}

// V1UpgradeRequest is V1 activity upgrade,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「商品升级」.
type V1UpgradeRequest struct {
	InstanceID string     // instanceId, String(64), mandatory: unchanged by the upgrade
	OrderID    string     // orderId, String(64), mandatory: the upgrade order
	SKUCode    string     // skuCode: the new specification (unchanged if only linear attributes grew)
	ProductID  string     // productId: the new product
	Amount     int        // amount, optional
	DiskSize   int        // diskSize, optional
	BandWidth  int        // bandWidth, optional
	TestFlag   bool       // testFlag
	Params     url.Values // every parameter but authToken
}

// V1InstanceStatusRequest is V1 activity instanceStatus,
// 《通用和自服务SaaS类商品接入指南 V1.0》›「资源状态变更」, which freezes or
// unfreezes a pay-per-use instance.
type V1InstanceStatusRequest struct {
	InstanceID string     // instanceId, String(64), mandatory
	Status     Status     // instanceStatus (not V2's status), String(32), mandatory: FREEZE or NORMAL
	TestFlag   bool       // testFlag
	Params     url.Values // every parameter but authToken
}

// StatusNormal is the V1 instanceStatus value that unfreezes an instance.
const StatusNormal Status = "NORMAL"
