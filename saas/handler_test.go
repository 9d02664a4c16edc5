package saas_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

func TestActivitiesDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		want   any
		answer string
	}{
		{
			"newInstance",
			`{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}`,
			&saas.NewInstanceRequest{OrderID: "CS1", OrderLineID: "CS1-000001", BusinessID: "b-1", TestFlag: true},
			`{"resultCode":"000000","resultMsg":"success","instanceId":"b-1"}`,
		},
		{
			"newInstance legacy rich body, numbers, unknown fields",
			`{"activity":"newInstance","businessId":7,"orderId":123,"orderLineId":"123-1","testFlag":0,` +
				`"buyerInfo":{"customerId":"c"},"orderInfo":[{"productInfo":[{"skuCode":"s"}]}],"extra":null}`,
			&saas.NewInstanceRequest{OrderID: "123", OrderLineID: "123-1", BusinessID: "7"},
			`{"resultCode":"000000","resultMsg":"success","instanceId":"7"}`,
		},
		{
			"queryInstance",
			`{"activity":"queryInstance","instanceId":" i-1, i-2,,i-3 ","testFlag":"1"}`,
			&saas.QueryInstanceRequest{InstanceIDs: []string{"i-1", "i-2", "i-3"}, TestFlag: true},
			`{"resultCode":"000000","resultMsg":"success","info":[]}`,
		},
		{
			"refreshInstance 14 digits",
			`{"activity":"refreshInstance","expireTime":"20271231235959","instanceId":"i-1","orderId":"CS2","orderLineId":"CS2-1","productId":"P2","scene":"RENEWAL","testFlag":"0"}`,
			&saas.RefreshInstanceRequest{Scene: saas.SceneRenewal, OrderID: "CS2", OrderLineID: "CS2-1", InstanceID: "i-1", ProductID: "P2",
				ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC)},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"refreshInstance 17 digits, unknown scene passed through",
			`{"activity":"refreshInstance","expireTime":"20221124023618256","instanceId":"i-1","orderId":"CS2","orderLineId":"CS2-1","scene":"SOMETHING_NEW"}`,
			&saas.RefreshInstanceRequest{Scene: "SOMETHING_NEW", OrderID: "CS2", OrderLineID: "CS2-1", InstanceID: "i-1",
				ExpireTime: time.Date(2022, 11, 24, 2, 36, 18, 256e6, time.UTC)},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"updateInstanceStatus",
			`{"activity":"updateInstanceStatus","instanceId":"i-1","status":"FREEZE","testFlag":"0"}`,
			&saas.UpdateInstanceStatusRequest{InstanceID: "i-1", Status: saas.StatusFreeze},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"releaseInstance",
			`{"activity":"releaseInstance","instanceId":"i-1","orderId":"CS3","orderLineId":"CS3-1"}`,
			&saas.ReleaseInstanceRequest{InstanceID: "i-1", OrderID: "CS3", OrderLineID: "CS3-1"},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"releaseInstance without order",
			`{"activity":"releaseInstance","instanceId":"i-1"}`,
			&saas.ReleaseInstanceRequest{InstanceID: "i-1"},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"upgradeInstance",
			`{"activity":"upgradeInstance","instanceId":"i-1","orderId":"CS4","orderLineId":"CS4-1","testFlag":"1"}`,
			&saas.UpgradeInstanceRequest{InstanceID: "i-1", OrderID: "CS4", OrderLineID: "CS4-1", TestFlag: true},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{}
			e := newEnv(t, p)
			res := e.send(t, tt.body)
			assert.Equal(t, tt.answer, string(res.Body))
			assert.Equal(t, tt.want, p.Last())
		})
	}
}

func TestInvalidRequestsNeverReachProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, msg string
	}{
		{"not JSON", `activity=newInstance`, "request body is not a JSON object"},
		{"array", `[{"activity":"newInstance"}]`, "request body is not a JSON object"},
		{"empty body", ``, "request body is not a JSON object"},
		{"missing activity", `{"orderId":"O"}`, "missing activity"},
		{"unknown activity", `{"activity":"deleteEverything"}`, "unknown activity"},
		{"V1 activity name", `{"activity":"expireInstance","instanceId":"i"}`, "unknown activity"},
		{"object where a string belongs", `{"activity":"newInstance","orderId":{"id":"O"},"orderLineId":"L","businessId":"B"}`, "invalid orderId"},
		{"bad testFlag", `{"activity":"releaseInstance","instanceId":"i","testFlag":"yes"}`, "invalid testFlag"},
		{"newInstance no orderId", `{"activity":"newInstance","orderLineId":"L","businessId":"B"}`, "missing orderId"},
		{"newInstance null orderId", `{"activity":"newInstance","orderId":null,"orderLineId":"L","businessId":"B"}`, "missing orderId"},
		{"newInstance no orderLineId", `{"activity":"newInstance","orderId":"O","businessId":"B"}`, "missing orderLineId"},
		{"newInstance no businessId", `{"activity":"newInstance","orderId":"O","orderLineId":"L"}`, "missing businessId"},
		{"queryInstance no ids", `{"activity":"queryInstance","instanceId":" , ,"}`, "missing instanceId"},
		{"queryInstance 101 ids", `{"activity":"queryInstance","instanceId":"` + strings.Repeat("i,", 100) + `i"}`, "too many instanceId values (at most 100)"},
		{"refresh no scene", `{"activity":"refreshInstance","expireTime":"20271231235959","instanceId":"i","orderId":"O","orderLineId":"L"}`, "missing scene"},
		{"refresh no expireTime", `{"activity":"refreshInstance","instanceId":"i","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "missing expireTime"},
		{"refresh bad expireTime", `{"activity":"refreshInstance","expireTime":"2027-12-31","instanceId":"i","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "invalid expireTime"},
		{"refresh impossible date", `{"activity":"refreshInstance","expireTime":"20270230000000","instanceId":"i","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "invalid expireTime"},
		{"refresh no instanceId", `{"activity":"refreshInstance","expireTime":"20271231235959","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`, "missing instanceId"},
		{"status no status", `{"activity":"updateInstanceStatus","instanceId":"i"}`, "missing status"},
		{"status no instanceId", `{"activity":"updateInstanceStatus","status":"FREEZE"}`, "missing instanceId"},
		{"release no instanceId", `{"activity":"releaseInstance","orderId":"O"}`, "missing instanceId"},
		{"upgrade no orderLineId", `{"activity":"upgradeInstance","instanceId":"i","orderId":"O"}`, "missing orderLineId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{}
			e := newEnv(t, p)
			res := e.send(t, tt.body)
			assert.Equal(t, "000002", res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.Zero(t, p.Calls.Load(), "provider must not be called")
		})
	}
}

func TestSecurityRefusalsNeverReachProvider(t *testing.T) {
	t.Parallel()
	body := `{"activity":"releaseInstance","instanceId":"i-1"}`
	for _, tt := range []struct {
		name string
		opts []koogallerytest.CallOption
	}{
		{"stale", []koogallerytest.CallOption{koogallerytest.Stale()}},
		{"from the future", []koogallerytest.CallOption{koogallerytest.At(time.Now().Add(2 * time.Minute))}},
		{"forged key", []koogallerytest.CallOption{koogallerytest.ForgedKey("not-the-key")}},
		{"tampered body", []koogallerytest.CallOption{koogallerytest.Tampered()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{}
			e := newEnv(t, p)
			res := e.send(t, body, tt.opts...)
			assert.Equal(t, `{"resultCode":"000001","resultMsg":"authentication failed"}`, string(res.Body))
			assert.Zero(t, p.Calls.Load())
		})
	}

	t.Run("replay", func(t *testing.T) {
		t.Parallel()
		p := &provider{}
		e := newEnv(t, p)
		call, err := e.sender.Sign(e.url, body)
		require.NoError(t, err)
		first, err := call.Send(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "000000", first.ResultCode)
		again, err := call.Send(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "000001", again.ResultCode)
		assert.Equal(t, int64(1), p.Calls.Load())
	})
}

// Spec §9.5 through the SaaS handler, and every changed byte of body,
// signature, nonce, timestamp and key refused without calling the provider.
func TestSpecVectorAndChangedBytes(t *testing.T) {
	t.Parallel()
	const (
		nonce = "Q7ZP0L3XW9M2K8RT"
		ts    = "1795768200123"
		body  = `{"activity":"newInstance","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","orderId":"CS2611270001ABCDE","orderLineId":"CS2611270001ABCDE-000001","testFlag":"0"}`
		sig   = "8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318"
	)
	clock := callback.WithClock(func() time.Time { return time.UnixMilli(1795768200123) })
	p := &provider{}
	handlers := map[string]http.Handler{accessKey: saas.NewHandler(accessKey, p, clock)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[r.Header.Get("X-Test-Key")].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	send := func(key, sig, nonce, ts, body string) string {
		t.Helper()
		q := "signature=" + url.QueryEscape(sig) + "&timestamp=" + url.QueryEscape(ts) + "&nonce=" + url.QueryEscape(nonce)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/?"+q, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Test-Key", key)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var a koogallerytest.Answer
		require.NoError(t, jsonDecode(resp, &a))
		return a.ResultCode
	}
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }

	for i := range len(accessKey) {
		k := flip(accessKey, i)
		handlers[k] = saas.NewHandler(k, p, clock)
	}
	for i := range len(accessKey) {
		assert.Equal(t, "000001", send(flip(accessKey, i), sig, nonce, ts, body), "key byte %d", i)
	}
	for i := range len(body) {
		assert.Equal(t, "000001", send(accessKey, sig, nonce, ts, flip(body, i)), "body byte %d", i)
	}
	for i := range len(sig) {
		assert.Equal(t, "000001", send(accessKey, flip(sig, i), nonce, ts, body), "signature byte %d", i)
	}
	for i := range len(nonce) {
		assert.Equal(t, "000001", send(accessKey, sig, flip(nonce, i), ts, body), "nonce byte %d", i)
	}
	for i := range len(ts) {
		assert.Equal(t, "000001", send(accessKey, sig, nonce, flip(ts, i), body), "timestamp byte %d", i)
	}
	assert.Zero(t, p.Calls.Load(), "seller code must not run")

	assert.Equal(t, "000000", send(accessKey, strings.ToLower(sig), nonce, ts, body), "the genuine call verifies")
	assert.Equal(t, &saas.NewInstanceRequest{OrderID: "CS2611270001ABCDE", OrderLineID: "CS2611270001ABCDE-000001",
		BusinessID: "2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f"}, p.Last())
	assert.Equal(t, "000001", send(accessKey, sig, nonce, ts, body), "and only once")
}

func TestProviderErrors(t *testing.T) {
	t.Parallel()
	leak := "pq: password authentication failed for user \"billing\""
	tests := []struct {
		name      string
		err       error
		code, msg string
	}{
		{"not found", saas.ErrInstanceNotFound, "000003", "instance not found"},
		{"wrapped not found", fmt.Errorf("freeze i-1: %w", saas.ErrInstanceNotFound), "000003", "instance not found"},
		{"invalid parameter", saas.ErrInvalidParameter, "000002", "invalid parameter"},
		{"processing", saas.ErrProcessing, "000004", "request is being processed"},
		{"business code", saas.NewResultError(saas.CodeSoldOut, "sold out for today"), "000106", "sold out for today"},
		{"business code default message", saas.NewResultError(saas.CodeLicenseQuotaExhausted, ""), "000900", "license quota exhausted"},
		{"bad code", saas.NewResultError("106", "x"), "000005", "internal error"},
		{"plain error", errors.New(leak), "000005", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{err: func() error { return tt.err }}
			e := newEnv(t, p)
			res := e.send(t, `{"activity":"updateInstanceStatus","instanceId":"i-1","status":"FREEZE"}`)
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.NotContains(t, string(res.Body), "billing")
			if tt.code == "000005" {
				assert.Contains(t, e.logs.String(), `"level":"ERROR"`)
			}
		})
	}
}

func TestResultErrorIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("lookup: %w", saas.NewResultError("000003", "no such instance"))
	assert.ErrorIs(t, err, saas.ErrInstanceNotFound)
	assert.NotErrorIs(t, err, saas.ErrInvalidParameter)
	var re *saas.ResultError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "no such instance", re.Message)
	assert.Equal(t, "koogallery: result 000003: no such instance", re.Error())
}

func TestNewInstanceProviderMistakes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		fn   func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error)
	}{
		{"nil response", func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) { return nil, nil }},
		{"empty instance id", func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
			return &saas.NewInstanceResponse{Pending: true}, nil
		}},
		{"ErrProcessing instead of Pending", func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
			return nil, saas.ErrProcessing
		}},
		{"panic", func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
			panic("provider bug")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &provider{newInstance: tt.fn}
			e := newEnv(t, p)
			body := map[string]string{"activity": "newInstance", "orderId": "O", "orderLineId": "L", "businessId": "B"}
			res := e.send(t, body)
			assert.Equal(t, `{"resultCode":"000005","resultMsg":"internal error"}`, string(res.Body))
			// Not recorded: the retry calls the provider again.
			e.send(t, body)
			assert.Equal(t, int64(2), p.Calls.Load())
		})
	}
}

func TestQueryInstanceAnswer(t *testing.T) {
	t.Parallel()
	p := &provider{queryInstance: func(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
		return &saas.QueryInstanceResponse{Info: []saas.InstanceInfo{
			{
				InstanceID: req.InstanceIDs[0],
				AppInfo: &saas.AppInfo{FrontEndURL: "https://acme.example.com/?a=1&b=<2>", AdminURL: "https://acme.example.com/admin",
					UserName: "admin", Password: `p"w\d`, Memo: "欢迎 😀"},
				UsageInfo: []saas.UsageInfo{
					{RelatedInstanceID: "r-1", UsageValue: 12.34567, StatisticalTime: time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC), DashboardURL: "https://d"},
					{UsageValue: 2, StatisticalTime: time.Date(2026, 11, 27, 16, 30, 0, 0, time.FixedZone("CST", 8*3600))},
				},
			},
			{InstanceID: req.InstanceIDs[1], AppInfo: &saas.AppInfo{FrontEndURL: "https://b"}},
		}}, nil
	}}
	e := newEnv(t, p)
	res := e.send(t, `{"activity":"queryInstance","instanceId":"i-1,i-2"}`)
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success","info":[`+
		`{"instanceId":"i-1","appInfo":{"frontEndUrl":"https://acme.example.com/?a=1&b=<2>","adminUrl":"https://acme.example.com/admin",`+
		`"userName":"admin","password":"p\"w\\d","memo":"\u6b22\u8fce \ud83d\ude00"},"usageInfo":[`+
		`{"relatedInstanceId":"r-1","usageValue":12.3457,"statisticalTime":"20261127083000123","dashboardUrl":"https://d"},`+
		`{"usageValue":2,"statisticalTime":"20261127083000000"}]},`+
		`{"instanceId":"i-2","appInfo":{"frontEndUrl":"https://b"}}]}`, string(res.Body))

	var decoded struct {
		Info []struct {
			AppInfo struct{ Memo string } `json:"appInfo"`
		} `json:"info"`
	}
	require.NoError(t, jsonUnmarshal(res.Body, &decoded))
	assert.Equal(t, "欢迎 😀", decoded.Info[0].AppInfo.Memo)
}

func TestQueryInstanceBadUsageValue(t *testing.T) {
	t.Parallel()
	p := &provider{queryInstance: func(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
		return &saas.QueryInstanceResponse{Info: []saas.InstanceInfo{{InstanceID: "i", UsageInfo: []saas.UsageInfo{{UsageValue: math.NaN()}}}}}, nil
	}}
	e := newEnv(t, p)
	res := e.send(t, `{"activity":"queryInstance","instanceId":"i"}`)
	assert.Equal(t, `{"resultCode":"000005","resultMsg":"internal error"}`, string(res.Body))
}

func TestNewHandlerMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "saas: nil Provider", func() { saas.NewHandler(accessKey, nil) })
	assert.PanicsWithValue(t, "saas: empty access key", func() { saas.NewHandler("", &provider{}) })
}

func TestOptions(t *testing.T) {
	t.Parallel()
	p := &provider{}
	e := newEnv(t, p, callback.WithMaxBodyBytes(100), callback.WithClockSkew(0), callback.WithReplayCacheSize(1))
	big := `{"activity":"releaseInstance","instanceId":"` + strings.Repeat("i", 100) + `"}`
	assert.Equal(t, "request body too large", e.send(t, big).ResultMsg)
	assert.Equal(t, "000001", e.send(t, `{"activity":"releaseInstance","instanceId":"i"}`, koogallerytest.At(time.Now().Add(-61*time.Second))).ResultCode, "no skew allowance")
	assert.Equal(t, "000000", e.send(t, `{"activity":"releaseInstance","instanceId":"i"}`).ResultCode)
}
