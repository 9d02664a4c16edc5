package license_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/saas"
)

const accessKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

type provider struct {
	calls atomic.Int64
	mu    sync.Mutex
	last  any
	err   error
	panic bool
}

func (p *provider) record(req any) error {
	p.calls.Add(1)
	p.mu.Lock()
	p.last = req
	p.mu.Unlock()
	if p.panic {
		panic("licence backend exploded")
	}
	return p.err
}

func (p *provider) RefreshLicenseCode(_ context.Context, req *license.RefreshLicenseCodeRequest) error {
	return p.record(req)
}

func (p *provider) UpdateLicenseCodeStatus(_ context.Context, req *license.UpdateLicenseCodeStatusRequest) error {
	return p.record(req)
}

func (p *provider) ReleaseLicenseCode(_ context.Context, req *license.ReleaseLicenseCodeRequest) error {
	return p.record(req)
}

func serve(t *testing.T, p license.Provider) (url string, sender *koogallerytest.Sender, logs *callbacktest.LogBuffer) {
	t.Helper()
	logs = &callbacktest.LogBuffer{}
	mux := http.NewServeMux()
	mux.Handle("/isv/license", license.NewHandler(accessKey, p, callback.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { assert.NotContains(t, logs.String(), accessKey) })
	return srv.URL + "/isv/license", koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client())), logs
}

func send(t *testing.T, sender *koogallerytest.Sender, url string, body any, opts ...koogallerytest.CallOption) *koogallerytest.Answer {
	t.Helper()
	res, err := sender.Send(context.Background(), url, body, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	return res
}

func TestActivities(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body string
		want       any
	}{
		{"refresh", `{"activity":"refreshLicenseCode","expireTime":"20271231235959","license":"LIC-1","orderId":"CS5","orderLineId":"CS5-1","productId":"P","scene":"RENEWAL","testFlag":"1"}`,
			&license.RefreshLicenseCodeRequest{License: "LIC-1", Scene: license.SceneRenewal, OrderID: "CS5", OrderLineID: "CS5-1", ProductID: "P",
				ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC), TestFlag: true}},
		{"refresh 17 digits, unknown scene", `{"activity":"refreshLicenseCode","expireTime":"20271231235959001","license":"LIC-1","orderId":"CS5","orderLineId":"CS5-1","scene":"NEW_SCENE"}`,
			&license.RefreshLicenseCodeRequest{License: "LIC-1", Scene: "NEW_SCENE", OrderID: "CS5", OrderLineID: "CS5-1",
				ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 1e6, time.UTC)}},
		{"status", `{"activity":"updateLicenseCodeStatus","license":"LIC-1","status":"UNFREEZE","testFlag":0}`,
			&license.UpdateLicenseCodeStatusRequest{License: "LIC-1", Status: license.StatusUnfreeze}},
		{"release", `{"activity":"releaseLicenseCode","license":"LIC-1","orderId":"CS6","orderLineId":"CS6-1","unknown":{"x":[1]}}`,
			&license.ReleaseLicenseCodeRequest{License: "LIC-1", OrderID: "CS6", OrderLineID: "CS6-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{}
			url, sender, _ := serve(t, p)
			res := send(t, sender, url, tt.body)
			assert.Equal(t, `{"resultCode":"000000","resultMsg":"success"}`, string(res.Body))
			assert.Equal(t, tt.want, p.last)
		})
	}
}

func TestInvalidCallsNeverReachProvider(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body, code, msg string
		opts                  []koogallerytest.CallOption
	}{
		{"stale", `{"activity":"releaseLicenseCode","license":"L"}`, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.Stale()}},
		{"forged", `{"activity":"releaseLicenseCode","license":"L"}`, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.ForgedKey("guess")}},
		{"tampered", `{"activity":"releaseLicenseCode","license":"L"}`, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.Tampered()}},
		{"not an object", `"releaseLicenseCode"`, "000002", "request body is not a JSON object", nil},
		{"SaaS activity", `{"activity":"newInstance","orderId":"O","orderLineId":"L","businessId":"B"}`, "000002", "unknown activity", nil},
		{"no activity", `{"license":"L"}`, "000002", "missing activity", nil},
		{"refresh no license", `{"activity":"refreshLicenseCode","expireTime":"20271231235959","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "000002", "missing license", nil},
		{"refresh no scene", `{"activity":"refreshLicenseCode","expireTime":"20271231235959","license":"L","orderId":"O","orderLineId":"L"}`, "000002", "missing scene", nil},
		{"refresh no orderLineId", `{"activity":"refreshLicenseCode","expireTime":"20271231235959","license":"L","orderId":"O","scene":"RENEWAL"}`, "000002", "missing orderLineId", nil},
		{"refresh bad expireTime", `{"activity":"refreshLicenseCode","expireTime":"tomorrow","license":"L","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "000002", "invalid expireTime", nil},
		{"status no status", `{"activity":"updateLicenseCodeStatus","license":"L"}`, "000002", "missing status", nil},
		{"release no license", `{"activity":"releaseLicenseCode"}`, "000002", "missing license", nil},
		{"array license", `{"activity":"releaseLicenseCode","license":["L"]}`, "000002", "invalid license", nil},
		{"bad testFlag", `{"activity":"releaseLicenseCode","license":"L","testFlag":"2"}`, "000002", "invalid testFlag", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{}
			url, sender, _ := serve(t, p)
			res := send(t, sender, url, tt.body, tt.opts...)
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.Zero(t, p.calls.Load())
		})
	}
}

func TestReplayRefused(t *testing.T) {
	t.Parallel()
	p := &provider{}
	url, sender, logs := serve(t, p)
	call, err := sender.Sign(url, `{"activity":"releaseLicenseCode","license":"L"}`)
	require.NoError(t, err)
	for i, want := range []string{"000000", "000001", "000001"} {
		res, err := call.Send(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, res.ResultCode, "send %d", i)
	}
	assert.Equal(t, int64(1), p.calls.Load())
	assert.Contains(t, logs.String(), "replayed nonce")
}

func TestProviderErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		p         *provider
		code, msg string
	}{
		{"not found", &provider{err: license.ErrLicenseNotFound}, "000003", "license code not found"},
		{"wrapped", &provider{err: fmt.Errorf("freeze: %w", license.ErrInvalidParameter)}, "000002", "invalid parameter"},
		{"business code", &provider{err: license.NewResultError("000900", "quota used up")}, "000900", "quota used up"},
		{"another package's result error", &provider{err: saas.ErrInstanceNotFound}, "000003", "instance not found"},
		{"plain error", &provider{err: errors.New("ldap://admin:s3cret@10.1.1.1 unreachable")}, "000005", "internal error"},
		{"panic", &provider{panic: true}, "000005", "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, sender, logs := serve(t, tt.p)
			res := send(t, sender, url, `{"activity":"updateLicenseCodeStatus","license":"L","status":"FREEZE"}`)
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.NotContains(t, string(res.Body), "s3cret")
			assert.NotContains(t, string(res.Body), "exploded")
			if tt.code == "000005" {
				assert.Contains(t, logs.String(), `"level":"ERROR"`)
			}
			// Still serving.
			tt.p.err, tt.p.panic = nil, false
			assert.Equal(t, "000000", send(t, sender, url, `{"activity":"releaseLicenseCode","license":"L"}`).ResultCode)
		})
	}
}

func TestResultErrorIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("x: %w", license.NewResultError("000003", "gone"))
	assert.ErrorIs(t, err, license.ErrLicenseNotFound)
	assert.NotErrorIs(t, err, license.ErrInvalidParameter)
	assert.Equal(t, "koogallery: result 000003: gone", errors.Unwrap(err).Error())
}

func TestNewHandlerMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "license: nil Provider", func() { license.NewHandler(accessKey, nil) })
	assert.PanicsWithValue(t, "license: empty access key", func() { license.NewHandler("", &provider{}) })
	assert.PanicsWithValue(t, "license.NewHandler: WithMaxBodyBytes(0): the limit must be positive; WithReplayCacheSize(-1): the size must be positive",
		func() {
			license.NewHandler(accessKey, &provider{}, callback.WithMaxBodyBytes(0), callback.WithReplayCacheSize(-1))
		})
	assert.NotPanics(t, func() {
		license.NewHandler(accessKey, &provider{}, callback.WithClock(nil), callback.WithLogger(nil), callback.WithClockSkew(0), nil)
	}, "nil clock and logger mean the defaults; a nil option is skipped")
}

func TestOptions(t *testing.T) {
	t.Parallel()
	p := &provider{}
	at := time.Now().Add(-10 * time.Minute)
	h := license.NewHandler(accessKey, p,
		callback.WithClock(func() time.Time { return at }), callback.WithClockSkew(-1),
		callback.WithMaxBodyBytes(64), callback.WithReplayCacheSize(1), callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	sender := koogallerytest.NewSender(accessKey)
	res := send(t, sender, srv.URL, `{"activity":"releaseLicenseCode","license":"L"}`, koogallerytest.At(at))
	assert.Equal(t, "000000", res.ResultCode, "the handler's clock decides freshness")
	res = send(t, sender, srv.URL, `{"activity":"releaseLicenseCode","license":"L"}`)
	assert.Equal(t, "000001", res.ResultCode)
	res = send(t, sender, srv.URL, `{"activity":"releaseLicenseCode","license":"`+string(bytes.Repeat([]byte("L"), 64))+`"}`, koogallerytest.At(at))
	assert.Equal(t, "request body too large", res.ResultMsg)
}
