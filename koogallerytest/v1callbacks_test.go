package koogallerytest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// Spec §9.3, §9.4 and §9.7.
const (
	v1Token    = "ISQPmsWS3la/5IRnLdpTh0W9iyazgtByiifep/O/0vI="
	v1KitToken = "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog="
	v1Body94   = `{"resultCode":"000000","resultMsg":"success","instanceId":"inst-0001"}`
	v1Sign94   = `sign_type="HMAC-SHA256", signature="MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="`
)

var v1Params = map[string]string{
	"activity": "refreshInstance", "expireTime": "20271231235959", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE",
	"periodNumber": "1", "periodType": "year", "productId": "OFFI000000000000000001", "testFlag": "0", "timeStamp": "20261127083000123",
}

func TestV1SignMatchesSpecVectors(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewV1Sender(vecKey)
	c, err := s.Sign("https://seller.example.com/isv/v1", v1Params)
	require.NoError(t, err)
	assert.Equal(t, v1Token, c.AuthToken, "§9.3")
	assert.Equal(t, "20261127083000123", c.TimeStamp)
	assert.Equal(t, http.MethodGet, c.Method)
	assert.Nil(t, c.Body)
	u, err := url.Parse(c.URL)
	require.NoError(t, err)
	assert.Equal(t, "/isv/v1", u.Path)
	assert.Contains(t, u.RawQuery, "authToken=ISQPmsWS3la%2F5IRnLdpTh0W9iyazgtByiifep%2FO%2F0vI%3D", "percent-encoded, as KooGallery sends it")
	q, err := v1sign.ParseQuery(u.RawQuery)
	require.NoError(t, err)
	assert.NoError(t, q.Verify(vecKey))

	c, err = s.Sign("https://seller.example.com/isv/v1?tenant=a", v1Params)
	require.NoError(t, err)
	u, err = url.Parse(c.URL)
	require.NoError(t, err)
	assert.Equal(t, "a", u.Query().Get("tenant"), "the configured URL's own query is kept, and signed")
	q, err = v1sign.ParseQuery(u.RawQuery)
	require.NoError(t, err)
	assert.NoError(t, q.Verify(vecKey))

	k, err := s.SignKit("https://seller.example.com/isv/produce/produceAPI/tenantSync", kitWireBody)
	require.NoError(t, err)
	assert.Equal(t, v1KitToken, k.AuthToken, "§9.7")
	assert.Equal(t, v1KitToken, k.Header.Get("authToken"))
	assert.Equal(t, kitWireBody, string(k.Body), "a body with a timeStamp is sent as given")
	assert.Equal(t, "20261127163000123", k.TimeStamp)
	assert.Equal(t, http.MethodPost, k.Method)
}

func TestV1SignStampsTime(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewV1Sender(vecKey)
	c, err := s.Sign("https://x/isv/v1", map[string]string{"activity": "expireInstance"}, koogallerytest.V1At(vecTime))
	require.NoError(t, err)
	assert.Equal(t, "20261127083000123", c.TimeStamp, "UTC for the basic interface")

	k, err := s.SignKit("https://x/produceAPI/tenantSync", map[string]any{"tenantId": "t", "flag": 1}, koogallerytest.V1At(vecTime))
	require.NoError(t, err)
	assert.Equal(t, "20261127163000123", k.TimeStamp, "GMT+8 for the kit")
	assert.Equal(t, `{"timeStamp":"20261127163000123","flag":1,"tenantId":"t"}`, string(k.Body))
	assert.NoError(t, v1sign.VerifyKit(vecKey, k.Body, k.AuthToken))

	k, err = s.SignKit("https://x/produceAPI/tenantSync", `{}`, koogallerytest.V1At(vecTime))
	require.NoError(t, err)
	assert.Equal(t, `{"timeStamp":"20261127163000123"}`, string(k.Body))

	_, err = s.SignKit("https://x/produceAPI/tenantSync", `[1]`)
	assert.ErrorContains(t, err, "not a JSON object")
}

// Each option produces a call the verifier refuses.
func TestV1CallOptions(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewV1Sender(vecKey)
	verify := func(c *koogallerytest.V1Call) error {
		u, err := url.Parse(c.URL)
		require.NoError(t, err)
		q, err := v1sign.ParseQuery(u.RawQuery)
		require.NoError(t, err)
		return q.Verify(vecKey)
	}
	params := map[string]string{"activity": "expireInstance", "instanceId": "i"}

	c, err := s.Sign("https://x/v1", params, koogallerytest.V1ForgedKey("guess"))
	require.NoError(t, err)
	assert.ErrorIs(t, verify(c), v1sign.ErrMismatch)
	c, err = s.Sign("https://x/v1", params, koogallerytest.V1Tampered())
	require.NoError(t, err)
	assert.ErrorIs(t, verify(c), v1sign.ErrMismatch)
	c, err = s.Sign("https://x/v1", params, koogallerytest.V1Stale())
	require.NoError(t, err)
	assert.NoError(t, verify(c), "stale, but genuinely signed")
	stamp, err := time.Parse("20060102150405.000", c.TimeStamp[:14]+"."+c.TimeStamp[14:])
	require.NoError(t, err)
	assert.InDelta(t, 25*time.Hour, time.Since(stamp), float64(time.Minute))

	k, err := s.SignKit("https://x/produceAPI/tenantSync", kitWireBody, koogallerytest.V1Tampered())
	require.NoError(t, err)
	assert.ErrorIs(t, v1sign.VerifyKit(vecKey, k.Body, k.AuthToken), v1sign.ErrMismatch)
	k, err = s.SignKit("https://x/produceAPI/tenantSync", kitWireBody, koogallerytest.V1ForgedKey("guess"))
	require.NoError(t, err)
	assert.ErrorIs(t, v1sign.VerifyKit(vecKey, k.Body, k.AuthToken), v1sign.ErrMismatch)
}

// answering serves a fixed answer with a given Body-Sign header.
func answering(t *testing.T, body, bodySign string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if bodySign != "" {
			w.Header().Set("Body-Sign", bodySign)
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Send checks the Body-Sign of every answer, as KooGallery does, over the
// bytes received.
func TestV1SendChecksBodySign(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewV1Sender(vecKey)
	params := map[string]string{"activity": "newInstance"}
	for _, tt := range []struct {
		name, body, sign string
		ok               bool
	}{
		{"§9.4", v1Body94, v1Sign94, true},
		{"no space after the comma", v1Body94, strings.Replace(v1Sign94, ", ", ",", 1), true},
		{"missing", v1Body94, "", false},
		{"over other bytes", v1Body94 + " ", v1Sign94, false},
		{"another key's", v1Body94, v1sign.BodySign("other", []byte(v1Body94)), false},
		{"unquoted", v1Body94, `sign_type=HMAC-SHA256, signature=MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE=`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := answering(t, tt.body, tt.sign)
			res, err := s.Send(context.Background(), target, params)
			require.NotNil(t, res, "the answer is returned either way")
			assert.Equal(t, "000000", res.ResultCode)
			assert.Equal(t, "inst-0001", res.InstanceID)
			assert.Equal(t, tt.sign, res.BodySign)
			if tt.ok {
				assert.NoError(t, err)
				assert.NoError(t, res.BodySignErr)
			} else {
				assert.ErrorIs(t, err, koogallerytest.ErrBodySign)
				assert.ErrorIs(t, res.BodySignErr, koogallerytest.ErrBodySign)
			}
			res, err = s.SendKit(context.Background(), target+"/produceAPI/tenantSync", map[string]any{"tenantId": "t"})
			require.NotNil(t, res)
			assert.Equal(t, tt.ok, err == nil, "kit answers are checked too")
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		t.Parallel()
		target := answering(t, "OK", v1sign.BodySign(vecKey, []byte("OK")))
		res, err := s.Send(context.Background(), target, params)
		assert.ErrorContains(t, err, "not a JSON object")
		assert.NotErrorIs(t, err, koogallerytest.ErrBodySign)
		assert.Equal(t, "OK", string(res.Body))
	})
}

// Send decrypts the credentials of V1 answers, and reports those KooGallery
// could not show: undecryptable, or over 128 characters.
func TestV1SendChecksAppInfo(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewV1Sender(vecKey)
	enc := func(pt string, et saas.EncryptType) string {
		v, err := saas.EncryptField(vecKey, pt, et)
		require.NoError(t, err)
		return v
	}
	signed := func(body string) string { return answering(t, body, v1sign.BodySign(vecKey, []byte(body))) }
	params := map[string]string{"activity": "newInstance"}

	res, err := s.Send(context.Background(), signed(`{"resultCode":"000000","resultMsg":"success","instanceId":"i","encryptType":"2",`+
		`"appInfo":{"frontEndUrl":"https://f","adminUrl":"https://a","userName":"`+enc("admin", saas.AES128)+`","password":"`+enc("pw", saas.AES128)+`","memo":"\u6b22\u8fce"}}`), params)
	require.NoError(t, err)
	assert.Equal(t, "2", res.EncryptType)
	assert.Equal(t, &koogallerytest.V1AppInfo{FrontEndURL: "https://f", AdminURL: "https://a", UserName: "admin", Password: "pw", Memo: "欢迎"}, res.AppInfo)

	res, err = s.Send(context.Background(), signed(`{"resultCode":"000000","resultMsg":"success","info":[{"instanceId":"a"},`+
		`{"instanceId":"b","appInfo":{"frontEndUrl":"https://b","password":"`+enc("pw", saas.AES256)+`"}}]}`), params)
	require.NoError(t, err)
	assert.Equal(t, []koogallerytest.V1Info{{InstanceID: "a"}, {InstanceID: "b", AppInfo: &koogallerytest.V1AppInfo{FrontEndURL: "https://b", Password: "pw"}}}, res.Info)

	for name, body := range map[string]string{
		"wrong size":    `{"resultCode":"000000","resultMsg":"s","encryptType":"1","appInfo":{"password":"` + enc("pw", saas.AES128) + `"}}`,
		"plain text":    `{"resultCode":"000000","resultMsg":"s","appInfo":{"userName":"admin"}}`,
		"too long":      `{"resultCode":"000000","resultMsg":"s","appInfo":{"password":"` + enc(strings.Repeat("p", 80), saas.AES256) + `"}}`,
		"unknown type":  `{"resultCode":"000000","resultMsg":"s","encryptType":"3","appInfo":{"password":"x"}}`,
		"bad info item": `{"resultCode":"000000","resultMsg":"s","info":[{"instanceId":"a","appInfo":{"userName":"admin"}}]}`,
	} {
		_, err := s.Send(context.Background(), signed(body), params)
		assert.ErrorIs(t, err, koogallerytest.ErrAppInfo, name)
		assert.False(t, errors.Is(err, koogallerytest.ErrBodySign), name)
	}
}

// End to end against the real V1 handler: a genuine call goes through with
// a verified Body-Sign; stale, forged and tampered calls are refused, and
// the refusals are signed too.
func TestV1SenderAgainstHandler(t *testing.T) {
	t.Parallel()
	var expired []string
	p := &expirer{expired: &expired}
	srv := httptest.NewServer(saas.NewV1Handler(vecKey, p, callback.WithLogger(discard())))
	t.Cleanup(srv.Close)
	s := koogallerytest.NewV1Sender(vecKey, koogallerytest.WithHTTPClient(srv.Client()))
	params := map[string]string{"activity": "expireInstance", "instanceId": "i-1"}
	for _, tt := range []struct {
		name string
		opts []koogallerytest.V1CallOption
		code string
	}{
		{"genuine", nil, "000000"},
		{"stale", []koogallerytest.V1CallOption{koogallerytest.V1Stale()}, "000001"},
		{"forged", []koogallerytest.V1CallOption{koogallerytest.V1ForgedKey("guess")}, "000001"},
		{"tampered", []koogallerytest.V1CallOption{koogallerytest.V1Tampered()}, "000001"},
	} {
		res, err := s.Send(context.Background(), srv.URL, params, tt.opts...)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.code, res.ResultCode, tt.name)
	}
	assert.Equal(t, []string{"i-1"}, expired)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// expirer is a V1 provider that records expired instances.
type expirer struct{ expired *[]string }

func (e *expirer) NewInstance(context.Context, *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	return nil, saas.ErrInvalidParameter
}

func (e *expirer) RefreshInstance(context.Context, *saas.V1RefreshInstanceRequest) error { return nil }

func (e *expirer) ExpireInstance(_ context.Context, req *saas.V1ExpireInstanceRequest) error {
	*e.expired = append(*e.expired, req.InstanceID)
	return nil
}

func (e *expirer) ReleaseInstance(context.Context, *saas.V1ReleaseInstanceRequest) error { return nil }

func (e *expirer) Upgrade(context.Context, *saas.V1UpgradeRequest) error { return nil }

func (e *expirer) InstanceStatus(context.Context, *saas.V1InstanceStatusRequest) error { return nil }

func (e *expirer) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}
