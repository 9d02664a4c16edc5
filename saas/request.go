package saas

import (
	"context"
	"time"
)

// Provider is what a seller implements to serve the SaaS V2 basic
// production interface: one method per activity. The handler calls a method
// only for a verified, fresh, non-replayed call whose mandatory fields are
// present. Return nil for success, or an error: a *ResultError (or one of the
// Err sentinels) anywhere in its chain chooses the result code; any other
// error answers 000005 without its text reaching KooGallery.
//
// KooGallery waits 5 s for an answer. Provision asynchronously when it takes
// longer: return a NewInstanceResponse with Pending set, and report progress
// through QueryInstance.
type Provider interface {
	// NewInstance provisions what an order line bought (activity
	// newInstance). The handler calls it at most once per order line; see
	// Store.
	NewInstance(ctx context.Context, req *NewInstanceRequest) (*NewInstanceResponse, error)
	// QueryInstance reports instances' access information and usage
	// (activity queryInstance).
	QueryInstance(ctx context.Context, req *QueryInstanceRequest) (*QueryInstanceResponse, error)
	// RefreshInstance changes an instance's expiry: renewal, trial to
	// formal, unsubscribing a renewal period (activity refreshInstance).
	RefreshInstance(ctx context.Context, req *RefreshInstanceRequest) error
	// UpdateInstanceStatus freezes or unfreezes an instance (activity
	// updateInstanceStatus).
	UpdateInstanceStatus(ctx context.Context, req *UpdateInstanceStatusRequest) error
	// ReleaseInstance deletes an instance (activity releaseInstance). It
	// must succeed when the instance is already gone.
	ReleaseInstance(ctx context.Context, req *ReleaseInstanceRequest) error
	// UpgradeInstance applies an upgrade order to an instance (activity
	// upgradeInstance). The handler calls it at most once per upgrade order
	// line; see Store.
	UpgradeInstance(ctx context.Context, req *UpgradeInstanceRequest) error
}

// NewInstanceRequest is newInstance, 《SaaS类商品接入指南 V2.0》›「创建实例」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649427.html).
// It carries no buyer or product details: fetch them with the order open API
// (order.Client.QueryOrder).
type NewInstanceRequest struct {
	OrderID     string // orderId, String(64), mandatory
	OrderLineID string // orderLineId, String(64), mandatory
	// BusinessID is businessId, String(64), mandatory. It differs on every
	// call, retries included; KooGallery recommends the first call's value
	// as the instance ID.
	BusinessID string
	TestFlag   bool // testFlag, optional: a debugging call; answer quickly, touch no real data
	// PendingInstanceID is set by the handler, not KooGallery: an earlier
	// call for this order line answered Pending with this instance ID. Do
	// not provision again; report that instance's state, with Pending false
	// once it is ready.
	PendingInstanceID string
}

// NewInstanceResponse answers newInstance.
type NewInstanceResponse struct {
	InstanceID string // instanceId, String(64), required: the same for every call about the order line
	// Pending answers resultCode 000004 instead of 000000: provisioning
	// continues asynchronously and KooGallery polls QueryInstance.
	Pending bool
}

// QueryInstanceRequest is queryInstance, V2 and V1 alike:
// 《SaaS类商品接入指南 V2.0》›「查询实例信息」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649428.html).
type QueryInstanceRequest struct {
	// InstanceIDs is instanceId, mandatory: a comma-separated list of 1 to
	// 100 IDs (more answers 000002), split and trimmed.
	InstanceIDs []string
	TestFlag    bool // testFlag, optional
}

// QueryInstanceResponse answers queryInstance.
type QueryInstanceResponse struct {
	Info []InstanceInfo // sent as info, one element per instance
}

// InstanceInfo is one element of a queryInstance answer's info.
type InstanceInfo struct {
	InstanceID string      // instanceId, String(64), required
	AppInfo    *AppInfo    // appInfo, omitted when nil
	UsageInfo  []UsageInfo // usageInfo: pay-per-use consumption, omitted when empty
}

// AppInfo is appInfo, how a buyer reaches an instance; empty optional
// members are omitted. NewV1Handler encrypts UserName and Password.
type AppInfo struct {
	FrontEndURL string // frontEndUrl, String(512), required
	AdminURL    string // adminUrl, String(512), optional
	UserName    string // userName, String(128), optional: administrator account
	Password    string // password, String(128), optional: initial administrator password
	Memo        string // memo, String(1024), optional; all non-ASCII text is sent as \u escapes
}

// UsageInfo is one element of usageInfo, a pay-per-use instance's usage.
type UsageInfo struct {
	RelatedInstanceID string    // relatedInstanceId, String(64), omitted when empty
	UsageValue        float64   // usageValue, required: cumulative, Double(12,4), rounded to 4 decimals
	StatisticalTime   time.Time // statisticalTime, required: sent as yyyyMMddHHmmssSSS in UTC
	DashboardURL      string    // dashboardUrl, String(512), omitted when empty
}

// Scene is the scene member of refreshInstance: why it is called.
type Scene string

// Scenes of refreshInstance. Other values are passed through: KooGallery may
// add scenes.
const (
	SceneTrialToFormal            Scene = "TRIAL_TO_FORMAL"
	SceneRenewal                  Scene = "RENEWAL"
	SceneUnsubscribeRenewalPeriod Scene = "UNSUBSCRIBE_RENEWAL_PERIOD"
	SceneRenewalChange            Scene = "RENEWAL_CHANGE"
)

// RefreshInstanceRequest is refreshInstance, 《SaaS类商品接入指南 V2.0》›「更新实例」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649429.html).
type RefreshInstanceRequest struct {
	Scene Scene // scene, String(64), mandatory
	// OrderID and OrderLineID are orderId and orderLineId, String(64),
	// mandatory: the conversion, renewal or unsubscribe order's.
	OrderID     string
	OrderLineID string
	InstanceID  string // instanceId, String(64), mandatory
	ProductID   string // productId, String(64), optional: the new product if the period type changed
	// ExpireTime is expireTime, mandatory: the new expiry, yyyyMMddHHmmss in
	// UTC (17-digit yyyyMMddHHmmssSSS accepted).
	ExpireTime time.Time
	TestFlag   bool // testFlag, optional
}

// Status is the status member of updateInstanceStatus (V2), or the
// instanceStatus parameter of V1 instanceStatus: the state asked for.
type Status string

// Statuses of updateInstanceStatus. Other values are passed through.
const (
	StatusFreeze   Status = "FREEZE"
	StatusUnfreeze Status = "UNFREEZE"
)

// UpdateInstanceStatusRequest is updateInstanceStatus, 《SaaS类商品接入指南 V2.0》›「更新实例状态」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649430.html).
type UpdateInstanceStatusRequest struct {
	InstanceID string // instanceId, String(64), mandatory
	Status     Status // status (not V1's instanceStatus), String(32), mandatory: FREEZE or UNFREEZE
	TestFlag   bool   // testFlag, optional
}

// ReleaseInstanceRequest is releaseInstance, 《SaaS类商品接入指南 V2.0》›「释放实例」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649431.html).
type ReleaseInstanceRequest struct {
	InstanceID string // instanceId, String(64), mandatory
	// OrderID and OrderLineID are orderId and orderLineId, String(64),
	// optional: the unsubscribe order's when an unsubscription caused the
	// release, "" otherwise.
	OrderID     string
	OrderLineID string
	TestFlag    bool // testFlag, optional
}

// UpgradeInstanceRequest is upgradeInstance, 《SaaS类商品接入指南 V2.0》›「实例升级」
// (https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649432.html).
// The new specification comes from the order open API.
type UpgradeInstanceRequest struct {
	InstanceID string // instanceId, String(64), mandatory: unchanged by the upgrade
	// OrderID and OrderLineID are orderId and orderLineId, String(64),
	// mandatory: the upgrade order's.
	OrderID     string
	OrderLineID string
	TestFlag    bool // testFlag, optional
}
