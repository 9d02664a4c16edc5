package saas

// The names below moved: the joint-operation kit sync and its OAuth login
// to package saas/kit, the usage push to package saas/usage, the order
// types to package order. They stay here, as aliases and thin forwarding
// wrappers, so that code written against earlier versions keeps compiling.

import (
	"context"
	"crypto"
	"crypto/rsa"
	"net/http"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas/kit"
	"github.com/isvkit/koogallery/saas/usage"
)

// Deprecated: use order.ChargingMode.
type ChargingMode = order.ChargingMode

// Deprecated: use the order package's constants.
const (
	ChargingModeOnDemand        = order.ChargingModeOnDemand
	ChargingModePeriod          = order.ChargingModePeriod
	ChargingModeOneTime         = order.ChargingModeOneTime
	ChargingModeOnDemandPackage = order.ChargingModeOnDemandPackage
)

// Deprecated: use order.PeriodType.
type PeriodType = order.PeriodType

// Deprecated: use the order package's constants.
const (
	PeriodYear  = order.PeriodYear
	PeriodMonth = order.PeriodMonth
	PeriodDay   = order.PeriodDay
)

// Deprecated: use order.ExtendParam.
type ExtendParam = order.ExtendParam

// Deprecated: use kit.NewHandler.
func NewKitHandler(key string, p KitProvider, opts ...Option) http.Handler {
	return kit.NewHandler(key, p, opts...)
}

// Deprecated: use kit.WithPrivateKey.
func WithKitPrivateKey(k crypto.Decrypter) Option { return kit.WithPrivateKey(k) }

// Deprecated: use the kit package's names.
type (
	KitProvider            = kit.Provider
	KitVersion             = kit.Version
	KitFlag                = kit.Flag
	TenantSyncRequest      = kit.TenantSyncRequest
	ApplicationSyncRequest = kit.ApplicationSyncRequest
	AuthSyncRequest        = kit.AuthSyncRequest
	KitUser                = kit.User
	KitRole                = kit.Role
	EmployeeType           = kit.EmployeeType
	SingleOrgSyncRequest   = kit.SingleOrgSyncRequest
	AllOrgSyncRequest      = kit.AllOrgSyncRequest
	KitOrg                 = kit.Org
	KitOrgNode             = kit.OrgNode
	OAuthClient            = kit.OAuthClient
	OAuthOption            = kit.OAuthOption
	OAuthToken             = kit.OAuthToken
	OAuthUser              = kit.OAuthUser
	OAuthError             = kit.OAuthError
)

// Deprecated: use the kit package's constants.
const (
	KitV1              = kit.V1
	KitV2              = kit.V2
	KitFlagDelete      = kit.FlagDelete
	KitFlagAdd         = kit.FlagAdd
	KitFlagModify      = kit.FlagModify
	KitFlagRevoke      = kit.FlagRevoke
	KitRoleUser        = kit.RoleUser
	KitRoleAdmin       = kit.RoleAdmin
	EmployeeRegular    = kit.EmployeeRegular
	EmployeeIntern     = kit.EmployeeIntern
	EmployeeDispatched = kit.EmployeeDispatched
	EmployeeOutsourced = kit.EmployeeOutsourced
	MaxKitUsers        = kit.MaxUsers
	OAuthTokenPath     = kit.OAuthTokenPath
	OAuthUserInfoPath  = kit.OAuthUserInfoPath
	OAuthLogoutPath    = kit.OAuthLogoutPath
)

// Deprecated: use kit.ParsePrivateKey.
func ParseKitPrivateKey(data []byte) (*rsa.PrivateKey, error) { return kit.ParsePrivateKey(data) }

// Deprecated: use kit.DecryptClientSecret.
func DecryptClientSecret(key crypto.Decrypter, clientSecret string) (string, error) {
	return kit.DecryptClientSecret(key, clientSecret)
}

// Deprecated: use kit.NewOAuthClient.
func NewOAuthClient(domain, clientID, clientSecret string, opts ...OAuthOption) (*OAuthClient, error) {
	return kit.NewOAuthClient(domain, clientID, clientSecret, opts...)
}

// Deprecated: use kit.WithOAuthHTTPClient.
func WithOAuthHTTPClient(hc *http.Client) OAuthOption { return kit.WithOAuthHTTPClient(hc) }

// Deprecated: use kit.WithOAuthTimeout.
func WithOAuthTimeout(d time.Duration) OAuthOption { return kit.WithOAuthTimeout(d) }

// Deprecated: use kit.ParseOAuthError.
func ParseOAuthError(status int, body []byte, secrets ...string) *OAuthError {
	return kit.ParseOAuthError(status, body, secrets...)
}

// Deprecated: use usage.Client.
type Client struct{ c *usage.Client }

// Deprecated: use usage.Option.
type ClientOption = usage.Option

// Deprecated: use usage.NewClient.
func NewClient(kg *koogallery.Client, opts ...ClientOption) *Client {
	return &Client{c: usage.NewClient(kg, opts...)}
}

// Deprecated: use usage.WithSellerKey.
func WithSellerKey(key string) ClientOption { return usage.WithSellerKey(key) }

// Deprecated: use usage.WithClock.
func WithClientClock(now func() time.Time) ClientOption { return usage.WithClock(now) }

// Deprecated: use usage.Client.Push.
func (c *Client) PushUsage(ctx context.Context, records []UsageRecord) (*UsageResult, error) {
	return c.c.Push(ctx, records)
}

// Deprecated: use usage.Client.PushLegacy.
func (c *Client) PushLegacyUsage(ctx context.Context, records []UsageRecord) (*UsageResult, error) {
	return c.c.PushLegacy(ctx, records)
}

// Deprecated: use usage.Client.PushInBatches.
func (c *Client) PushUsageInBatches(ctx context.Context, records []UsageRecord) ([]BatchResult, error) {
	return c.c.PushInBatches(ctx, records)
}

// Deprecated: use the usage package's names.
type (
	UsageRecord   = usage.Record
	UsageResult   = usage.Result
	AbnormalUsage = usage.Abnormal
	BatchResult   = usage.BatchResult
	Decimal       = usage.Decimal
)

// Deprecated: use the usage package's constants.
const (
	MaxUsageRecords  = usage.MaxRecords
	MaxUsageDecimals = usage.MaxDecimals
	UsagePath        = usage.Path
	LegacyUsagePath  = usage.LegacyPath
)

// Deprecated: use usage.ErrBatchNotSent.
var ErrBatchNotSent = usage.ErrBatchNotSent

// Deprecated: use usage.Validate.
func ValidateUsage(records []UsageRecord) error { return usage.Validate(records) }

// Deprecated: use usage.Encode.
func EncodeUsage(records []UsageRecord) ([]byte, error) { return usage.Encode(records) }

// Deprecated: use usage.ParseDecimal.
func ParseDecimal(s string) (Decimal, error) { return usage.ParseDecimal(s) }

// Deprecated: use usage.DecimalFromInt.
func DecimalFromInt(n int64) (Decimal, error) { return usage.DecimalFromInt(n) }

// Deprecated: use usage.DecimalFromFloat.
func DecimalFromFloat(f float64) (Decimal, error) { return usage.DecimalFromFloat(f) }

// Deprecated: use usage.MustDecimal.
func MustDecimal(s string) Decimal { return usage.MustDecimal(s) }
