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

// NewInstanceRequest is the newInstance call (spec callbacks.md §5.1). It
// carries no buyer or product details: fetch them with the order open API
// (order.Client.QueryOrder).
type NewInstanceRequest struct {
	OrderID     string
	OrderLineID string
	// BusinessID differs on every call, retries included. KooGallery
	// recommends the first call's value as the instance ID.
	BusinessID string
	// TestFlag marks a debugging call from the seller console: answer
	// quickly and touch no real data.
	TestFlag bool
	// PendingInstanceID is set by the handler, not KooGallery: an earlier
	// call for this order line answered Pending with this instance ID. Do
	// not provision again; report that instance's state, with Pending false
	// once it is ready.
	PendingInstanceID string
}

// NewInstanceResponse answers newInstance.
type NewInstanceResponse struct {
	// InstanceID identifies the instance, at most 64 characters; the same
	// for every call about the same order line.
	InstanceID string
	// Pending answers 000004: provisioning continues asynchronously and
	// KooGallery polls QueryInstance for the result.
	Pending bool
}

// QueryInstanceRequest is the queryInstance call (§5.2).
type QueryInstanceRequest struct {
	// InstanceIDs holds 1 to 100 instance IDs, split from the wire's
	// comma-separated list.
	InstanceIDs []string
	TestFlag    bool
}

// QueryInstanceResponse answers queryInstance.
type QueryInstanceResponse struct {
	Info []InstanceInfo
}

// InstanceInfo describes one instance in a queryInstance answer.
type InstanceInfo struct {
	InstanceID string
	// AppInfo is how the buyer reaches the instance; nil omits it.
	AppInfo *AppInfo
	// UsageInfo reports pay-per-use consumption.
	UsageInfo []UsageInfo
}

// AppInfo is how a buyer reaches an instance. V2 sends it in plain text
// (spec §3.9); non-ASCII text is sent as \u escapes.
type AppInfo struct {
	FrontEndURL string // required, at most 512 characters
	AdminURL    string
	UserName    string // administrator account, at most 128 characters
	Password    string // initial administrator password, at most 128 characters
	Memo        string // at most 1024 characters
}

// UsageInfo is one usage figure of a pay-per-use instance (§4.7).
type UsageInfo struct {
	RelatedInstanceID string
	// UsageValue is cumulative, with at most 4 decimals (Double(12,4)); it is
	// rounded to 4 decimals on the wire.
	UsageValue float64
	// StatisticalTime is sent as yyyyMMddHHmmssSSS in UTC.
	StatisticalTime time.Time
	DashboardURL    string
}

// Scene says why refreshInstance is called.
type Scene string

// Scenes of refreshInstance. Other values are passed through: KooGallery may
// add scenes.
const (
	SceneTrialToFormal            Scene = "TRIAL_TO_FORMAL"
	SceneRenewal                  Scene = "RENEWAL"
	SceneUnsubscribeRenewalPeriod Scene = "UNSUBSCRIBE_RENEWAL_PERIOD"
	SceneRenewalChange            Scene = "RENEWAL_CHANGE"
)

// RefreshInstanceRequest is the refreshInstance call (§5.3).
type RefreshInstanceRequest struct {
	Scene Scene
	// OrderID and OrderLineID are the conversion, renewal or unsubscribe
	// order's.
	OrderID     string
	OrderLineID string
	InstanceID  string
	// ProductID is the new product ID when the period type changed.
	ProductID string
	// ExpireTime is the instance's new expiry, in UTC.
	ExpireTime time.Time
	TestFlag   bool
}

// Status is the state updateInstanceStatus asks for.
type Status string

// Statuses of updateInstanceStatus. Other values are passed through.
const (
	StatusFreeze   Status = "FREEZE"
	StatusUnfreeze Status = "UNFREEZE"
)

// UpdateInstanceStatusRequest is the updateInstanceStatus call (§5.4).
type UpdateInstanceStatusRequest struct {
	InstanceID string
	Status     Status
	TestFlag   bool
}

// ReleaseInstanceRequest is the releaseInstance call (§5.5).
type ReleaseInstanceRequest struct {
	InstanceID string
	// OrderID and OrderLineID are the unsubscribe order's, when an
	// unsubscription caused the release; empty otherwise.
	OrderID     string
	OrderLineID string
	TestFlag    bool
}

// UpgradeInstanceRequest is the upgradeInstance call (§5.6). The new
// specification comes from the order open API.
type UpgradeInstanceRequest struct {
	InstanceID string
	// OrderID and OrderLineID are the upgrade order's.
	OrderID     string
	OrderLineID string
	TestFlag    bool
}
