package license

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/internal/wire"
)

// Paths of the licence-code open APIs, the same on every site.
const (
	ActivatePath      = "/api/mkp-openapi-public/global/v1/license/activate"
	ActivateV2Path    = "/api/mkp-openapi-public/global/v2/license/activate"
	HeartbeatPath     = "/api/mkp-openapi-public/global/v1/license/heartbeat"
	HeartbeatV2Path   = "/api/mkp-openapi-public/global/v2/license/heartbeat"
	SoftwareUsagePath = "/api/mkp-openapi-public/global/v2/license/software-usage-info"
)

// MaxBatch is the most licence codes (or usage_info entries) one v2 call
// may carry.
const MaxBatch = 100

// Client calls the licence-code open APIs (activate, heartbeat, software
// usage) and the event file upload. It is safe for concurrent use.
//
// Failures KooGallery reports are *koogallery.APIError values, classified
// with errors.Is: 92020005 (code does not exist) is koogallery.ErrNotFound;
// 92020004 (cannot activate before the buyer received the code) and
// 92020002 (invalid parameter) are koogallery.ErrInvalidRequest; 92020001
// is koogallery.ErrAuthentication (HTTP 403) or koogallery.ErrServer (HTTP
// 500). Invalid input fails before any network call with an error matching
// koogallery.ErrInvalidRequest.
type Client struct {
	kg *koogallery.Client
}

// NewClient returns a licence Client using kg's credentials, site and HTTP
// stack.
func NewClient(kg *koogallery.Client) *Client { return &Client{kg: kg} }

// ActivateOption adjusts an activation.
type ActivateOption func(*activateParams)

type activateParams struct {
	effect time.Time
}

// WithRealEffectTime sends real_effect_time, when the software was actually
// delivered (not earlier than the order).
func WithRealEffectTime(t time.Time) ActivateOption {
	return func(p *activateParams) { p.effect = t }
}

type envelope struct {
	Data json.RawMessage `json:"data"`
}

// Activate activates one licence code (v1 API), after the buyer received
// it, and returns the code's details from license_code_info.
func (c *Client) Activate(ctx context.Context, license string, opts ...ActivateOption) (*CodeInfo, error) {
	var p activateParams
	for _, o := range opts {
		o(&p)
	}
	if err := checkCode(license); err != nil {
		return nil, fmt.Errorf("license: activate: %w", err)
	}
	body := struct {
		License        string `json:"license"`
		RealEffectTime string `json:"real_effect_time,omitempty"`
	}{License: license}
	var err error
	if body.RealEffectTime, err = effectTime(p.effect); err != nil {
		return nil, fmt.Errorf("license: activate %s: %w", license, err)
	}
	var env envelope
	if err := c.call(ctx, ActivatePath, body, &env); err != nil {
		return nil, fmt.Errorf("license: activate %s: %w", license, err)
	}
	var data struct {
		Info json.RawMessage `json:"license_code_info"`
	}
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &data) != nil || len(data.Info) == 0 || string(data.Info) == "null" {
		return nil, fmt.Errorf("license: activate %s: %w", license, noPayload("license_code_info"))
	}
	ci, err := ParseCodeInfo(data.Info)
	if err != nil {
		return nil, fmt.Errorf("license: activate %s: %w", license, &koogallery.APIError{StatusCode: http.StatusOK, Message: err.Error()})
	}
	return ci, nil
}

// ActivateBatch activates up to MaxBatch licence codes in one call (v2
// API). The answer's per-code results, where it lists them, are in
// BatchResult.Licenses (see LicenseInfo.Err); the v2 answer schema is not
// documented, so Raw keeps it.
func (c *Client) ActivateBatch(ctx context.Context, licenses []string, opts ...ActivateOption) (*BatchResult, error) {
	var p activateParams
	for _, o := range opts {
		o(&p)
	}
	if err := checkCodes(licenses); err != nil {
		return nil, fmt.Errorf("license: activate batch: %w", err)
	}
	body := struct {
		LicenseList    []string `json:"license_list"`
		RealEffectTime string   `json:"real_effect_time,omitempty"`
	}{LicenseList: licenses}
	var err error
	if body.RealEffectTime, err = effectTime(p.effect); err != nil {
		return nil, fmt.Errorf("license: activate batch: %w", err)
	}
	var env envelope
	if err := c.call(ctx, ActivateV2Path, body, &env); err != nil {
		return nil, fmt.Errorf("license: activate batch of %d: %w", len(licenses), err)
	}
	return decodeBatch(env.Data), nil
}

// HeartbeatOption adjusts a heartbeat.
type HeartbeatOption func(*heartbeatInfo)

type heartbeatInfo struct {
	ThirdPartyAccount string `json:"thirdPartyAccount"`
	IP                string `json:"ip,omitempty"`
}

// WithHeartbeatInfo sends heartbeatInfo: the end user's identity in the
// software and, optionally, the client IP. KooGallery has retired it in
// favour of ReportSoftwareUsage; it is still accepted for existing
// integrations.
func WithHeartbeatInfo(thirdPartyAccount, ip string) HeartbeatOption {
	return func(h *heartbeatInfo) { h.ThirdPartyAccount, h.IP = thirdPartyAccount, ip }
}

// Heartbeat queries one licence code (v1 API, 查询授权码, formerly the
// heartbeat): call it on the first use of the software each day and let the
// answer's status and expiry drive the software.
func (c *Client) Heartbeat(ctx context.Context, license string, opts ...HeartbeatOption) (*LicenseInfo, error) {
	if err := checkCode(license); err != nil {
		return nil, fmt.Errorf("license: heartbeat: %w", err)
	}
	var hb heartbeatInfo
	for _, o := range opts {
		o(&hb)
	}
	body := struct {
		License       string         `json:"license"`
		HeartbeatInfo *heartbeatInfo `json:"heartbeatInfo,omitempty"`
	}{License: license}
	if hb != (heartbeatInfo{}) {
		if err := checkText("thirdPartyAccount", hb.ThirdPartyAccount, true, 256); err != nil {
			return nil, fmt.Errorf("license: heartbeat %s: %w", license, err)
		}
		if err := checkText("ip", hb.IP, false, 32); err != nil {
			return nil, fmt.Errorf("license: heartbeat %s: %w", license, err)
		}
		body.HeartbeatInfo = &hb
	}
	var env envelope
	if err := c.call(ctx, HeartbeatPath, body, &env); err != nil {
		return nil, fmt.Errorf("license: heartbeat %s: %w", license, err)
	}
	var li LicenseInfo
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil, fmt.Errorf("license: heartbeat %s: %w", license, noPayload("data"))
	}
	if err := li.UnmarshalJSON(env.Data); err != nil {
		return nil, fmt.Errorf("license: heartbeat %s: %w", license, &koogallery.APIError{StatusCode: http.StatusOK, Message: err.Error()})
	}
	if li.License == "" {
		li.License = license
	}
	return &li, nil
}

// HeartbeatBatch queries up to MaxBatch licence codes in one call (v2 API).
// Its request is not documented beyond being the batch form; it is sent like ActivateBatch's, as license_list.
func (c *Client) HeartbeatBatch(ctx context.Context, licenses []string) (*BatchResult, error) {
	if err := checkCodes(licenses); err != nil {
		return nil, fmt.Errorf("license: heartbeat batch: %w", err)
	}
	body := struct {
		LicenseList []string `json:"license_list"`
	}{licenses}
	var env envelope
	if err := c.call(ctx, HeartbeatV2Path, body, &env); err != nil {
		return nil, fmt.Errorf("license: heartbeat batch of %d: %w", len(licenses), err)
	}
	return decodeBatch(env.Data), nil
}

// call sends one of the licence-code APIs. Each is idempotent, so it is
// retried like a GET: activating a code that is active changes nothing (the
// first activation's time is kept), a query is a query, and a software
// usage report states a day's totals and login identities, which a repeat
// does not add to.
func (c *Client) call(ctx context.Context, path string, body, v any) error {
	req, err := c.kg.NewRequest(ctx, http.MethodPost, path, nil, body, koogallery.Idempotent())
	if err != nil {
		return err
	}
	return c.kg.Do(ctx, req, v)
}

// noPayload is a successful answer without the member the call returns.
func noPayload(member string) error {
	return &koogallery.APIError{StatusCode: http.StatusOK, Message: "successful response without " + member}
}

// maxCodeLen is the documented maximum length of a licence code.
const maxCodeLen = 64

func checkCode(code string) error { return checkText("license code", code, true, maxCodeLen) }

func checkCodes(codes []string) error {
	if len(codes) == 0 {
		return fmt.Errorf("%w: no licence codes", koogallery.ErrInvalidRequest)
	}
	if len(codes) > MaxBatch {
		return fmt.Errorf("%w: %d licence codes, at most %d per call", koogallery.ErrInvalidRequest, len(codes), MaxBatch)
	}
	seen := make(map[string]struct{}, len(codes))
	for i, code := range codes {
		if err := checkCode(code); err != nil {
			return fmt.Errorf("code %d: %w", i, err)
		}
		if _, dup := seen[code]; dup {
			return fmt.Errorf("%w: licence code %s is listed twice", koogallery.ErrInvalidRequest, code)
		}
		seen[code] = struct{}{}
	}
	return nil
}

// checkText checks a string parameter: present if required, valid UTF-8,
// no control characters, at most max characters.
func checkText(what, v string, required bool, max int) error {
	switch {
	case v == "" && required:
		return fmt.Errorf("%w: %s is empty", koogallery.ErrInvalidRequest, what)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s is not valid UTF-8", koogallery.ErrInvalidRequest, what)
	case utf8.RuneCountInString(v) > max:
		return fmt.Errorf("%w: %s is longer than %d characters", koogallery.ErrInvalidRequest, what, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", koogallery.ErrInvalidRequest, what)
		}
	}
	return nil
}

// effectTime formats real_effect_time (UTC yyyyMMddHHmmss); zero is absent.
func effectTime(t time.Time) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return "", fmt.Errorf("%w: real_effect_time is outside the years 1970-9999", koogallery.ErrInvalidRequest)
	}
	return wire.FormatSeconds(t), nil
}
