package saas_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

// Spec §9.2–§9.4.
const (
	specIV          = "A1b2C3d4E5f6G7h8"
	specAdmin128    = "A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI=" // 'Admin@KooGallery', AES-128
	specAdmin256    = "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg=" // 'Admin@KooGallery', AES-256
	specPhone256    = "A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w=="                     // '13800138000', AES-256
	specV1TimeStamp = "20261127083000123"
	specV1Token     = "ISQPmsWS3la/5IRnLdpTh0W9iyazgtByiifep/O/0vI="
	specBody94      = `{"resultCode":"000000","resultMsg":"success","instanceId":"inst-0001"}`
	specBodySign94  = `sign_type="HMAC-SHA256", signature="MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="`
)

var specV1Time = time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC)

// specV1Params are the parameters of §9.3, in the order sent.
var specV1Params = [][2]string{
	{"timeStamp", specV1TimeStamp}, {"activity", "refreshInstance"}, {"orderId", "CS2611270001ABCDE"},
	{"instanceId", "inst-0001"}, {"productId", "OFFI000000000000000001"}, {"expireTime", "20271231235959"},
	{"periodType", "year"}, {"periodNumber", "1"}, {"testFlag", "0"}, {"authToken", specV1Token},
}

func rawQuery(params [][2]string) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

func encrypt(t *testing.T, plaintext string, et saas.EncryptType) string {
	t.Helper()
	s, err := saas.EncryptField(accessKey, plaintext, et)
	require.NoError(t, err)
	return s
}

func TestV1ActivitiesDecode(t *testing.T) {
	t.Parallel()
	email := encrypt(t, "buyer+tag@example.com", saas.AES256)
	tests := []struct {
		name   string
		params map[string]string
		want   any
		answer string
	}{
		{
			"newInstance, every field",
			map[string]string{
				"activity": "newInstance", "customerId": "c-1", "customerName": "张三", "userId": "u-1", "userName": "iam-1",
				"mobilePhone": specPhone256, "email": email, "businessId": "b-1", "orderId": "CS1", "skuCode": "sku-1",
				"productId": "P1", "trialFlag": "1", "expireTime": "20271231235959", "chargingMode": "1", "periodType": "year",
				"periodNumber": "2", "orderAmount": "99.900", "amount": "3", "diskSize": "40", "bandWidth": "5",
				"saasExtendParams": `[{"name":"emailDomainName","value":"acme.example.com"},{"name":"platformParams","value":{"k":1}},{"value":"nameless"}]`,
				"provisionType":    "1", "testFlag": "1", "somethingNew": "ignored",
			},
			&saas.V1NewInstanceRequest{
				CustomerID: "c-1", CustomerName: "张三", UserID: "u-1", UserName: "iam-1", MobilePhone: "13800138000",
				Email: "buyer+tag@example.com", BusinessID: "b-1", OrderID: "CS1", SKUCode: "sku-1", ProductID: "P1",
				TrialFlag: true, ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC), ChargingMode: order.ChargingModePeriod,
				PeriodType: order.PeriodYear, PeriodNumber: 2, OrderAmount: "99.900", Amount: 3, DiskSize: 40, BandWidth: 5,
				SaaSExtendParams: []order.ExtendParam{{Name: "emailDomainName", Value: "acme.example.com"}, {Name: "platformParams", Value: `{"k":1}`}},
				ProvisionType:    "1", TestFlag: true,
			},
			`{"resultCode":"000000","resultMsg":"success","instanceId":"b-1"}`,
		},
		{
			"newInstance, minimal, unknown charging mode kept",
			map[string]string{"activity": "newInstance", "businessId": "b-2", "orderId": "CS2", "chargingMode": "7", "expireTime": "20271231235959999"},
			&saas.V1NewInstanceRequest{BusinessID: "b-2", OrderID: "CS2", ChargingMode: "7",
				ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 999e6, time.UTC)},
			`{"resultCode":"000000","resultMsg":"success","instanceId":"b-2"}`,
		},
		{
			"refreshInstance, 17-digit expiry, refund",
			map[string]string{"activity": "refreshInstance", "orderId": "CS3", "instanceId": "i-1", "productId": "P2",
				"expireTime": "20221124023618256", "trialToFormal": "1", "periodType": "month", "periodNumber": "1", "orderAmount": "-10.5"},
			&saas.V1RefreshInstanceRequest{OrderID: "CS3", InstanceID: "i-1", ProductID: "P2",
				ExpireTime: time.Date(2022, 11, 24, 2, 36, 18, 256e6, time.UTC), TrialToFormal: true,
				PeriodType: order.PeriodMonth, PeriodNumber: 1, OrderAmount: "-10.5"},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"expireInstance",
			map[string]string{"activity": "expireInstance", "instanceId": "i-1", "orderId": "CS1", "testFlag": "1"},
			&saas.V1ExpireInstanceRequest{InstanceID: "i-1", OrderID: "CS1", TestFlag: true},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"releaseInstance",
			map[string]string{"activity": "releaseInstance", "instanceId": "i-1", "orderId": "CS1", "orderAmount": "0"},
			&saas.V1ReleaseInstanceRequest{InstanceID: "i-1", OrderID: "CS1", OrderAmount: "0"},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"upgrade",
			map[string]string{"activity": "upgrade", "instanceId": "i-1", "orderId": "CS4", "skuCode": "sku-2", "productId": "P4",
				"amount": "10", "diskSize": "100", "bandWidth": "20"},
			&saas.V1UpgradeRequest{InstanceID: "i-1", OrderID: "CS4", SKUCode: "sku-2", ProductID: "P4", Amount: 10, DiskSize: 100, BandWidth: 20},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"instanceStatus",
			map[string]string{"activity": "instanceStatus", "instanceId": "i-1", "instanceStatus": "NORMAL"},
			&saas.V1InstanceStatusRequest{InstanceID: "i-1", Status: saas.StatusNormal},
			`{"resultCode":"000000","resultMsg":"success"}`,
		},
		{
			"queryInstance",
			map[string]string{"activity": "queryInstance", "instanceId": "i-1, i-2,,i-3"},
			&saas.QueryInstanceRequest{InstanceIDs: []string{"i-1", "i-2", "i-3"}},
			`{"resultCode":"000000","resultMsg":"success","info":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, []string{"13800138000", "buyer+tag@example.com"})
			res := e.send(t, tt.params)
			assert.Equal(t, tt.answer, string(res.Body))
			assert.Equal(t, tt.want, withoutParams(p.Last()))
		})
	}
}

func TestV1ParamsKeepEverything(t *testing.T) {
	t.Parallel()
	p := &v1Provider{}
	clk := koogallerytest.NewClock(specV1Time)
	e := newV1Env(t, p, nil, callback.WithClock(clk.Now))
	e.sender = koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(e.srv.Client()), koogallerytest.WithClock(clk.Now))
	res := e.send(t, map[string]string{"activity": "expireInstance", "instanceId": "i-1", "somethingNew": "a b+c", "empty": ""})
	require.Equal(t, "000000", res.ResultCode, res.ResultMsg)
	req := callbacktest.LastAs[*saas.V1ExpireInstanceRequest](t, &p.Recorder)
	assert.Equal(t, url.Values{"activity": {"expireInstance"}, "instanceId": {"i-1"}, "somethingNew": {"a b+c"},
		"empty": {""}, "timeStamp": {"20261127083000123"}}, req.Params, "every parameter but authToken")
}

func TestV1InvalidRequestsNeverReachProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]string
		msg    string
	}{
		{"missing activity", map[string]string{"orderId": "O"}, "missing activity"},
		{"unknown activity", map[string]string{"activity": "deleteEverything"}, "unknown activity"},
		{"V2 activity name", map[string]string{"activity": "upgradeInstance", "instanceId": "i", "orderId": "O"}, "unknown activity"},
		{"bad testFlag", map[string]string{"activity": "expireInstance", "instanceId": "i", "testFlag": "yes"}, "invalid testFlag"},
		{"newInstance no orderId", map[string]string{"activity": "newInstance", "businessId": "b"}, "missing orderId"},
		{"newInstance no businessId", map[string]string{"activity": "newInstance", "orderId": "O"}, "missing businessId"},
		{"newInstance bad amount", map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "amount": "3.5"}, "invalid amount"},
		{"newInstance bad trialFlag", map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "trialFlag": "2"}, "invalid trialFlag"},
		{"newInstance bad expireTime", map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "expireTime": "2027-12-31"}, "invalid expireTime"},
		{"newInstance undecryptable phone", map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "mobilePhone": "13800138000"}, "invalid mobilePhone"},
		{"newInstance email under another key", map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b",
			"email": mustEncrypt("other-key", "a@b.c")}, "invalid email"},
		{"refresh no expireTime", map[string]string{"activity": "refreshInstance", "orderId": "O", "instanceId": "i"}, "missing expireTime"},
		{"refresh no instanceId", map[string]string{"activity": "refreshInstance", "orderId": "O", "expireTime": "20271231235959"}, "missing instanceId"},
		{"refresh impossible date", map[string]string{"activity": "refreshInstance", "orderId": "O", "instanceId": "i", "expireTime": "20270230000000"}, "invalid expireTime"},
		{"expire no instanceId", map[string]string{"activity": "expireInstance", "orderId": "O"}, "missing instanceId"},
		{"release no instanceId", map[string]string{"activity": "releaseInstance"}, "missing instanceId"},
		{"status no status", map[string]string{"activity": "instanceStatus", "instanceId": "i"}, "missing instanceStatus"},
		{"upgrade no orderId", map[string]string{"activity": "upgrade", "instanceId": "i"}, "missing orderId"},
		{"upgrade bad bandWidth", map[string]string{"activity": "upgrade", "instanceId": "i", "orderId": "O", "bandWidth": "x"}, "invalid bandWidth"},
		{"query no ids", map[string]string{"activity": "queryInstance", "instanceId": " , "}, "missing instanceId"},
		{"query 101 ids", map[string]string{"activity": "queryInstance", "instanceId": strings.Repeat("i,", 100) + "i"}, "too many instanceId values (at most 100)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, nil)
			res := e.send(t, tt.params)
			assert.Equal(t, "000002", res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.Zero(t, p.Calls.Load(), "provider must not be called")
		})
	}
}

func mustEncrypt(key, plaintext string) string {
	s, err := saas.EncryptField(key, plaintext, saas.AES256)
	if err != nil {
		panic(err)
	}
	return s
}

func TestV1SecurityRefusalsNeverReachProvider(t *testing.T) {
	t.Parallel()
	params := map[string]string{"activity": "expireInstance", "instanceId": "i-1"}
	for _, tt := range []struct {
		name string
		opts []koogallerytest.V1CallOption
	}{
		{"stale", []koogallerytest.V1CallOption{koogallerytest.V1Stale()}},
		{"from the future", []koogallerytest.V1CallOption{koogallerytest.V1At(time.Now().Add(25 * time.Hour))}},
		{"forged key", []koogallerytest.V1CallOption{koogallerytest.V1ForgedKey("not-the-key")}},
		{"tampered", []koogallerytest.V1CallOption{koogallerytest.V1Tampered()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, nil)
			res := e.send(t, params, tt.opts...)
			assert.Equal(t, `{"resultCode":"000001","resultMsg":"authentication failed"}`, string(res.Body))
			assert.NoError(t, res.BodySignErr, "refusals are signed too")
			assert.Zero(t, p.Calls.Load())
		})
	}
}

// v1Vector serves the handlers of several keys, picked by X-Test-Key, and
// sends raw queries to them.
type v1Vector struct {
	t        *testing.T
	srv      *httptest.Server
	handlers map[string]http.Handler
}

func newV1Vector(t *testing.T, p saas.V1Provider, keys []string, opts ...callback.SaaSV1Option) *v1Vector {
	v := &v1Vector{t: t, handlers: map[string]http.Handler{}}
	for _, k := range keys {
		v.handlers[k] = saas.NewV1Handler(k, p, opts...)
	}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.handlers[r.Header.Get("X-Test-Key")].ServeHTTP(w, r)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// get sends a raw query to the handler of key and returns the answer after
// checking its Body-Sign with key over the bytes received.
func (v *v1Vector) get(key, rawQuery string) (code string, body []byte, bodySign string) {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.srv.URL+"/isv/v1?"+rawQuery, nil)
	require.NoError(v.t, err)
	req.Header.Set("X-Test-Key", key)
	resp, err := v.srv.Client().Do(req)
	require.NoError(v.t, err)
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	require.Equal(v.t, http.StatusOK, resp.StatusCode)
	bodySign = resp.Header.Get("Body-Sign")
	require.NoError(v.t, v1sign.VerifyBodySign(key, body, bodySign), "Body-Sign over %s", body)
	var a koogallerytest.Answer
	require.NoError(v.t, jsonUnmarshal(body, &a))
	return a.ResultCode, body, bodySign
}

func flip(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }

// Spec §9.3 through the handler, and every changed byte of every parameter
// name and value (authToken and timeStamp included) and of the Key refused
// with 000001, signed, without calling the provider.
func TestV1SpecVectorAndChangedBytes(t *testing.T) {
	t.Parallel()
	p := &v1Provider{}
	clock := callback.WithClock(func() time.Time { return specV1Time })
	keys := []string{accessKey}
	for i := range len(accessKey) {
		keys = append(keys, flip(accessKey, i))
	}
	v := newV1Vector(t, p, keys, clock, callback.WithLogger(discard))

	for _, k := range keys[1:] {
		code, _, _ := v.get(k, rawQuery(specV1Params))
		assert.Equal(t, "000001", code, "key %q", k)
	}
	for i, param := range specV1Params {
		for part := range 2 {
			for j := range len(param[part]) {
				changed := append([][2]string(nil), specV1Params...)
				changed[i][part] = flip(param[part], j)
				code, _, _ := v.get(accessKey, rawQuery(changed))
				assert.Equal(t, "000001", code, "parameter %s, part %d, byte %d", param[0], part, j)
			}
		}
	}
	assert.Zero(t, p.Calls.Load(), "seller code must not run")

	code, body, _ := v.get(accessKey, rawQuery(specV1Params))
	assert.Equal(t, "000000", code, "the genuine call verifies: %s", body)
	assert.Equal(t, &saas.V1RefreshInstanceRequest{OrderID: "CS2611270001ABCDE", InstanceID: "inst-0001",
		ProductID: "OFFI000000000000000001", ExpireTime: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC),
		PeriodType: order.PeriodYear, PeriodNumber: 1}, withoutParams(p.Last()))
}

// Spec §9.4: the answer to a newInstance whose instance is inst-0001 is
// exactly the vector's body, and its Body-Sign exactly the vector's header.
func TestV1SpecBodySign(t *testing.T) {
	t.Parallel()
	p := &v1Provider{newInstance: func(context.Context, *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
		return &saas.V1NewInstanceResponse{InstanceID: "inst-0001"}, nil
	}}
	v := newV1Vector(t, p, []string{accessKey}, callback.WithLogger(discard))
	q := url.Values{"activity": {"newInstance"}, "orderId": {"CS2611270001ABCDE"}, "businessId": {"b"},
		"timeStamp": {time.Now().UTC().Format("20060102150405") + "000"}}
	token, err := v1sign.SignQuery(accessKey, q)
	require.NoError(t, err)
	q.Set("authToken", token)
	code, body, bodySign := v.get(accessKey, q.Encode())
	assert.Equal(t, "000000", code)
	assert.Equal(t, specBody94, string(body))
	assert.Equal(t, specBodySign94, bodySign)
}

// Every failure answer carries a Body-Sign over the bytes sent, and no
// internal detail.
func TestV1FailureAnswersSigned(t *testing.T) {
	t.Parallel()
	leak := "pq: password authentication failed for user \"billing\""
	tests := []struct {
		name      string
		err       func() error
		code, msg string
	}{
		{"not found", func() error { return saas.ErrInstanceNotFound }, "000003", "instance not found"},
		{"wrapped not found", func() error { return fmt.Errorf("freeze: %w", saas.ErrInstanceNotFound) }, "000003", "instance not found"},
		{"business code", func() error { return saas.NewResultError(saas.CodeSoldOut, "sold out") }, "000106", "sold out"},
		{"processing", func() error { return saas.ErrProcessing }, "000004", "request is being processed"},
		{"plain error", func() error { return errors.New(leak) }, "000005", "internal error"},
		{"panic", func() error { panic(leak) }, "000005", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{err: tt.err}
			e := newV1Env(t, p, nil)
			res := e.send(t, map[string]string{"activity": "expireInstance", "instanceId": "i-1"})
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.NotContains(t, string(res.Body), "billing")
			assert.NoError(t, res.BodySignErr)
		})
	}

	t.Run("wrong method and oversized query", func(t *testing.T) {
		t.Parallel()
		p := &v1Provider{}
		e := newV1Env(t, p, nil, callback.WithMaxBodyBytes(200))
		call, err := e.sender.Sign(e.url, map[string]string{"activity": "expireInstance", "instanceId": "i-1"})
		require.NoError(t, err)
		call.Method = http.MethodPost
		res, err := call.Send(context.Background())
		require.NoError(t, err, "the Body-Sign verifies")
		assert.Equal(t, "000002", res.ResultCode)
		assert.Equal(t, "method must be GET", res.ResultMsg)

		res = e.send(t, map[string]string{"activity": "expireInstance", "instanceId": strings.Repeat("i", 200)})
		assert.Equal(t, "000002", res.ResultCode)
		assert.Equal(t, "request query too large", res.ResultMsg)
		assert.Zero(t, p.Calls.Load())
	})
}

func TestNewV1HandlerMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "saas: nil V1Provider", func() { saas.NewV1Handler(accessKey, nil) })
	assert.PanicsWithValue(t, "saas: empty key", func() { saas.NewV1Handler("", &v1Provider{}) })
	assert.PanicsWithValue(t, `saas.NewV1Handler: WithEncryptType("3"): the type must be AES256 ("1") or AES128 ("2")`,
		func() { saas.NewV1Handler(accessKey, &v1Provider{}, saas.WithEncryptType("3")) })
}

func TestV1Window(t *testing.T) {
	t.Parallel()
	params := map[string]string{"activity": "releaseInstance", "instanceId": "i-1"}
	for _, tt := range []struct {
		name string
		opts []callback.SaaSV1Option
		age  time.Duration
		code string
	}{
		{"23 h old, default", nil, 23 * time.Hour, "000000"},
		{"25 h old, default", nil, 25 * time.Hour, "000001"},
		{"a month old, window off", []callback.SaaSV1Option{callback.WithV1Window(0)}, 30 * 24 * time.Hour, "000000"},
		{"2 h old, 1 h window", []callback.SaaSV1Option{callback.WithV1Window(time.Hour)}, 2 * time.Hour, "000001"},
		{"59 min old, 1 h window", []callback.SaaSV1Option{callback.WithV1Window(time.Hour)}, 59 * time.Minute, "000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, nil, tt.opts...)
			res := e.send(t, params, koogallerytest.V1At(time.Now().Add(-tt.age)))
			assert.Equal(t, tt.code, res.ResultCode)
		})
	}
}
