package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/saas/kit"
)

// handler runs the SDK's own handler for the family on the capture, with
// its clock at --at, and reports its answer and its log's reason.
func (v *verifier) handler() {
	var logs bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &recordingProvider{}
	h := v.sdkHandler(rec, lg)
	path := v.c.URL.Path
	u := *v.c.URL
	u.Scheme, u.Host = "http", "capture.invalid"
	req, err := http.NewRequest(v.c.Method, u.String(), bytes.NewReader(v.c.Body))
	if err != nil {
		v.checks = append(v.checks, exchange.Check{Name: "SDK handler", Reason: "the captured method or URL is not a valid request: " + err.Error()})
		return
	}
	req.URL.Path = path
	req.RemoteAddr = "192.0.2.1:1234"
	for k, vs := range v.c.Header {
		if k != "Content-Length" && k != "Host" {
			req.Header[k] = vs
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var ans struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &ans)
	reason := "answers " + ans.ResultCode + " " + exchange.QuoteMsg(ans.ResultMsg)
	if r := logReason(logs.Bytes()); r != "" {
		reason += "; its log: " + r
	}
	if called := rec.calls(); len(called) > 0 {
		reason += "; the provider would receive " + strings.Join(called, ", ")
	}
	c := exchange.Check{Name: "SDK handler", ResultCode: ans.ResultCode, Pass: ans.ResultCode != "000001" && ans.ResultCode != "", Reason: reason}
	if !c.Pass {
		c.Hint = "see the failing part above"
	}
	v.checks = append(v.checks, c)
}

// sdkHandler is the SDK's handler for the family, with its clock at --at,
// the handlers' window options, rec as its provider and lg as its logger.
func (v *verifier) sdkHandler(rec *recordingProvider, lg *slog.Logger) http.Handler {
	now := func() time.Time { return v.at }
	var h http.Handler
	switch v.fam.Name {
	case "saas":
		h = saas.NewHandler(v.key, rec, callback.WithClock(now), callback.WithClockSkew(v.skew), callback.WithLogger(lg))
	case "saas-v1":
		h = saas.NewV1Handler(v.key, v1Provider{rec}, callback.WithClock(now), callback.WithClockSkew(v.skew), callback.WithV1Window(v.v1window), callback.WithLogger(lg))
	case "kit", "kit-v1":
		h = kit.NewHandler(v.key, rec, callback.WithClock(now), callback.WithClockSkew(v.skew), callback.WithV1Window(v.v1window), callback.WithLogger(lg))
	case "license":
		h = license.NewHandler(v.key, rec, callback.WithClock(now), callback.WithClockSkew(v.skew), callback.WithLogger(lg))
	case "order":
		h = order.NewNotificationHandler(v.key, func(_ context.Context, n *order.Notification) error {
			rec.note("orderNotify " + n.OrderID)
			return nil
		}, callback.WithClock(now), callback.WithClockSkew(v.skew), callback.WithLogger(lg))
	}
	return h
}

// logReason picks the reason of the handler's refusal or failure.
func logReason(b []byte) string {
	var out []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e map[string]any
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		if r, ok := e["reason"].(string); ok {
			out = append(out, r)
		} else if m, ok := e["msg"].(string); ok && e["level"] != "DEBUG" {
			out = append(out, strings.TrimPrefix(m, "koogallery: "))
		}
	}
	return strings.Join(out, "; ")
}

// recordingProvider accepts every call and notes what it received, for
// verify to say what reaches a provider.
type recordingProvider struct {
	mu  sync.Mutex
	got []string
}

func (p *recordingProvider) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, s)
}

func (p *recordingProvider) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

func (p *recordingProvider) NewInstance(_ context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	p.note("NewInstance(orderId=" + r.OrderID + ", orderLineId=" + r.OrderLineID + ")")
	return &saas.NewInstanceResponse{InstanceID: "kgctl-verify"}, nil
}

func (p *recordingProvider) QueryInstance(_ context.Context, r *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	p.note("QueryInstance(" + strings.Join(r.InstanceIDs, ",") + ")")
	return &saas.QueryInstanceResponse{}, nil
}

func (p *recordingProvider) RefreshInstance(_ context.Context, r *saas.RefreshInstanceRequest) error {
	p.note("RefreshInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) UpdateInstanceStatus(_ context.Context, r *saas.UpdateInstanceStatusRequest) error {
	p.note("UpdateInstanceStatus(instanceId=" + r.InstanceID + ", status=" + string(r.Status) + ")")
	return nil
}

func (p *recordingProvider) ReleaseInstance(_ context.Context, r *saas.ReleaseInstanceRequest) error {
	p.note("ReleaseInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) UpgradeInstance(_ context.Context, r *saas.UpgradeInstanceRequest) error {
	p.note("UpgradeInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) v1(name, id string) error {
	p.note(name + "(instanceId=" + id + ")")
	return nil
}

// The V1 provider methods share names with the V2 ones but take V1
// requests, so V1 calls go through v1Provider.
type v1Provider struct{ *recordingProvider }

func (p v1Provider) NewInstance(_ context.Context, r *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	p.note("NewInstance(orderId=" + r.OrderID + ")")
	return &saas.V1NewInstanceResponse{InstanceID: "kgctl-verify"}, nil
}
func (p v1Provider) RefreshInstance(_ context.Context, r *saas.V1RefreshInstanceRequest) error {
	return p.v1("RefreshInstance", r.InstanceID)
}
func (p v1Provider) ExpireInstance(_ context.Context, r *saas.V1ExpireInstanceRequest) error {
	return p.v1("ExpireInstance", r.InstanceID)
}
func (p v1Provider) ReleaseInstance(_ context.Context, r *saas.V1ReleaseInstanceRequest) error {
	return p.v1("ReleaseInstance", r.InstanceID)
}
func (p v1Provider) Upgrade(_ context.Context, r *saas.V1UpgradeRequest) error {
	return p.v1("Upgrade", r.InstanceID)
}
func (p v1Provider) InstanceStatus(_ context.Context, r *saas.V1InstanceStatusRequest) error {
	return p.v1("InstanceStatus", r.InstanceID)
}

func (p *recordingProvider) TenantSync(_ context.Context, r *kit.TenantSyncRequest) error {
	p.note("TenantSync(tenantId=" + r.TenantID + ", flag=" + r.Flag.String() + ")")
	return nil
}
func (p *recordingProvider) ApplicationSync(_ context.Context, r *kit.ApplicationSyncRequest) error {
	p.note("ApplicationSync(tenantId=" + r.TenantID + ", appId=" + r.AppID + ")")
	return nil
}
func (p *recordingProvider) AuthSync(_ context.Context, r *kit.AuthSyncRequest) error {
	p.note(fmt.Sprintf("AuthSync(tenantId=%s, %d users)", r.TenantID, len(r.Users)))
	return nil
}
func (p *recordingProvider) SingleOrgSync(_ context.Context, r *kit.SingleOrgSyncRequest) error {
	p.note("SingleOrgSync(orgCode=" + r.OrgCode + ")")
	return nil
}
func (p *recordingProvider) AllOrgSync(_ context.Context, r *kit.AllOrgSyncRequest) error {
	p.note(fmt.Sprintf("AllOrgSync(tenantId=%s, %d departments)", r.TenantID, len(r.Orgs)))
	return nil
}

func (p *recordingProvider) RefreshLicenseCode(_ context.Context, r *license.RefreshLicenseCodeRequest) error {
	p.note("RefreshLicenseCode(license=" + r.License + ")")
	return nil
}
func (p *recordingProvider) UpdateLicenseCodeStatus(_ context.Context, r *license.UpdateLicenseCodeStatusRequest) error {
	p.note("UpdateLicenseCodeStatus(license=" + r.License + ")")
	return nil
}
func (p *recordingProvider) ReleaseLicenseCode(_ context.Context, r *license.ReleaseLicenseCodeRequest) error {
	p.note("ReleaseLicenseCode(license=" + r.License + ")")
	return nil
}
