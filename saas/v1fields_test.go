package saas_test

import (
	"context"
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
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

func TestFieldHelpersSpecVectors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, field, want string
		et                saas.EncryptType
	}{
		{"AES-128 admin", specAdmin128, "Admin@KooGallery", saas.AES128},
		{"AES-256 admin", specAdmin256, "Admin@KooGallery", saas.AES256},
		{"AES-256 phone", specPhone256, "13800138000", saas.AES256},
		{"default is AES-256", specPhone256, "13800138000", ""},
		{"'+' arrived as ' '", strings.ReplaceAll(specAdmin128, "+", " "), "Admin@KooGallery", saas.AES128},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := saas.DecryptField(accessKey, tt.field, tt.et)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFieldHelpersRoundTrip(t *testing.T) {
	t.Parallel()
	for _, et := range []saas.EncryptType{saas.AES128, saas.AES256} {
		for _, pt := range []string{"", "a", "Admin@KooGallery", "exactly-16-bytes", "密码 😀 +/=", strings.Repeat("x", 79), strings.Repeat("y", 1000)} {
			enc, err := saas.EncryptField(accessKey, pt, et)
			require.NoError(t, err)
			assert.Regexp(t, `^[A-Za-z0-9]{16}[A-Za-z0-9+/]+=*$`, enc)
			got, err := saas.DecryptField(accessKey, enc, et)
			require.NoError(t, err)
			assert.Equal(t, pt, got, "encryptType %s", et)
			if len(pt) <= 79 {
				assert.LessOrEqual(t, len(enc), 128, "fits KooGallery's limit")
			}
		}
	}
	a, err := saas.EncryptField(accessKey, "same", saas.AES256)
	require.NoError(t, err)
	b, err := saas.EncryptField(accessKey, "same", saas.AES256)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "a fresh IV every time")
}

func TestFieldHelpersErrors(t *testing.T) {
	t.Parallel()
	_, err := saas.EncryptField(accessKey, "x", "3")
	assert.ErrorIs(t, err, saas.ErrEncryptType)
	_, err = saas.DecryptField(accessKey, specAdmin256, "9")
	assert.ErrorIs(t, err, saas.ErrEncryptType)
	_, err = saas.DecryptField(accessKey, "short", saas.AES256)
	assert.ErrorIs(t, err, saas.ErrMalformedField)
	_, err = saas.DecryptField(accessKey, specIV+"not base64!", saas.AES256)
	assert.ErrorIs(t, err, saas.ErrMalformedField)
	_, err = saas.DecryptField("another-key", specAdmin256, saas.AES256)
	assert.ErrorIs(t, err, saas.ErrFieldDecrypt)
	assert.NotContains(t, err.Error(), "another-key")
	assert.NotContains(t, err.Error(), specAdmin256)
	_, err = saas.DecryptField(accessKey, specAdmin128, saas.AES256)
	assert.ErrorIs(t, err, saas.ErrFieldDecrypt, "the wrong size does not decrypt")
}

// signedRaw signs params and builds the raw query by hand, with escape
// choosing how each value is written.
func signedRaw(t *testing.T, params map[string]string, escape func(name, value string) string) string {
	t.Helper()
	return signedRawEscaped(t, accessKey, params, escape)
}

// signedRawWithKey signs params with key into a percent-encoded raw query.
func signedRawWithKey(t *testing.T, key string, params map[string]string) string {
	t.Helper()
	return signedRawEscaped(t, key, params, func(_, v string) string { return url.QueryEscape(v) })
}

func signedRawEscaped(t *testing.T, key string, params map[string]string, escape func(name, value string) string) string {
	t.Helper()
	q := url.Values{"timeStamp": {time.Now().UTC().Format("20060102150405") + "000"}}
	for k, v := range params {
		q.Set(k, v)
	}
	token, err := v1sign.SignQuery(key, q)
	require.NoError(t, err)
	q.Set("authToken", token)
	parts := make([]string, 0, len(q))
	for k := range q {
		parts = append(parts, url.QueryEscape(k)+"="+escape(k, q.Get(k)))
	}
	return strings.Join(parts, "&")
}

func TestV1IncomingFieldsDecrypted(t *testing.T) {
	t.Parallel()
	newInstance := func(phone string) map[string]string {
		return map[string]string{"activity": "newInstance", "orderId": "O-" + phone[:20], "businessId": "b", "mobilePhone": phone}
	}
	for _, tt := range []struct {
		name    string
		opts    []callback.SaaSV1Option
		phone   string
		want    string
		warning bool
	}{
		{"AES-256 by default", nil, specPhone256, "13800138000", false},
		{"AES-128 configured", []callback.SaaSV1Option{saas.WithEncryptType(saas.AES128)}, specAdmin128, "Admin@KooGallery", false},
		{"AES-128 arriving at an AES-256 handler: fallback, warned", nil, specAdmin128, "Admin@KooGallery", true},
		{"AES-256 arriving at an AES-128 handler: fallback, warned", []callback.SaaSV1Option{saas.WithEncryptType(saas.AES128)}, specAdmin256, "Admin@KooGallery", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, []string{tt.want}, tt.opts...)
			res := e.send(t, newInstance(tt.phone))
			require.Equal(t, "000000", res.ResultCode, res.ResultMsg)
			assert.Equal(t, tt.want, callbacktest.LastAs[*saas.V1NewInstanceRequest](t, &p.Recorder).MobilePhone)
			if tt.warning {
				assert.Contains(t, e.logs.String(), "other AES key size")
			} else {
				assert.NotContains(t, e.logs.String(), "other AES key size")
			}
		})
	}

	// KooGallery percent-encodes; an older sender may leave the Base64 '+'
	// literal, which reads as ' ': the authToken still verifies and the value
	// still decrypts.
	t.Run("'+' left un-encoded", func(t *testing.T) {
		t.Parallel()
		p := &v1Provider{}
		e := newV1Env(t, p, []string{"Admin@KooGallery"}, saas.WithEncryptType(saas.AES128))
		raw := signedRaw(t, map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "email": specAdmin128},
			func(name, value string) string {
				if name == "email" {
					return strings.ReplaceAll(url.QueryEscape(value), "%2B", "+")
				}
				return url.QueryEscape(value)
			})
		require.Contains(t, raw, "neKPe+RLly")
		resp, err := e.srv.Client().Get(e.url + "?" + raw)
		require.NoError(t, err)
		defer resp.Body.Close()
		var a struct{ ResultCode string }
		require.NoError(t, jsonDecode(resp, &a))
		assert.Equal(t, "000000", a.ResultCode)
		assert.Equal(t, "Admin@KooGallery", callbacktest.LastAs[*saas.V1NewInstanceRequest](t, &p.Recorder).Email)
	})
}

func TestV1AppInfoEncrypted(t *testing.T) {
	t.Parallel()
	app := &saas.AppInfo{FrontEndURL: "https://acme.example.com/?a=1&b=<2>", AdminURL: "https://acme.example.com/admin",
		UserName: "admin@acme", Password: `S3cret!+/="\`, Memo: "欢迎 😀"}
	for _, et := range []saas.EncryptType{saas.AES256, saas.AES128} {
		t.Run("encryptType "+string(et), func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{
				newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
					return &saas.V1NewInstanceResponse{InstanceID: "i-" + req.OrderID, AppInfo: app}, nil
				},
				queryInstance: func(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
					out := &saas.QueryInstanceResponse{}
					for _, id := range req.InstanceIDs {
						out.Info = append(out.Info, saas.InstanceInfo{InstanceID: id, AppInfo: app,
							UsageInfo: []saas.UsageInfo{{UsageValue: 1.5, StatisticalTime: specV1Time}}})
					}
					out.Info = append(out.Info, saas.InstanceInfo{InstanceID: "no-app"})
					return out, nil
				},
			}
			e := newV1Env(t, p, []string{app.Password, app.UserName}, saas.WithEncryptType(et))
			res := e.send(t, map[string]string{"activity": "newInstance", "orderId": "CS1", "businessId": "b"})
			require.Equal(t, "000000", res.ResultCode)
			assert.Equal(t, string(et), res.EncryptType)
			require.NotNil(t, res.AppInfo)
			assert.Equal(t, app.UserName, res.AppInfo.UserName)
			assert.Equal(t, app.Password, res.AppInfo.Password)
			assert.Equal(t, app.Memo, res.AppInfo.Memo)
			assert.Equal(t, app.FrontEndURL, res.AppInfo.FrontEndURL)
			body := string(res.Body)
			assert.Contains(t, body, `"memo":"\u6b22\u8fce \ud83d\ude00"`, "non-ASCII memo as \\u escapes")
			assert.Contains(t, body, `"instanceId":"i-CS1","encryptType":"`+string(et)+`","appInfo":{"frontEndUrl":"https://acme.example.com/?a=1&b=<2>"`)
			assert.NotContains(t, body, "admin@acme")
			assert.NotContains(t, body, "S3cret")

			var wire struct {
				AppInfo struct{ UserName, Password string } `json:"appInfo"`
			}
			require.NoError(t, jsonUnmarshal(res.Body, &wire))
			for _, v := range []string{wire.AppInfo.UserName, wire.AppInfo.Password} {
				assert.Regexp(t, `^[A-Za-z0-9]{16}`, v)
				assert.LessOrEqual(t, len(v), 128)
			}
			got, err := saas.DecryptField(accessKey, wire.AppInfo.Password, et)
			require.NoError(t, err)
			assert.Equal(t, app.Password, got)

			res = e.send(t, map[string]string{"activity": "queryInstance", "instanceId": "i-1,i-2"})
			require.Equal(t, "000000", res.ResultCode, res.ResultMsg)
			assert.Equal(t, string(et), res.EncryptType)
			require.Len(t, res.Info, 3)
			assert.Equal(t, "i-2", res.Info[1].InstanceID)
			assert.Equal(t, app.Password, res.Info[1].AppInfo.Password)
			assert.Nil(t, res.Info[2].AppInfo)
			assert.Contains(t, string(res.Body), `"usageInfo":[{"usageValue":1.5,"statisticalTime":"20261127083000123"}]`)
			assert.NotContains(t, string(res.Body), "S3cret")
		})
	}

	t.Run("no appInfo, no encryptType", func(t *testing.T) {
		t.Parallel()
		p := &v1Provider{}
		e := newV1Env(t, p, nil)
		res := e.send(t, map[string]string{"activity": "queryInstance", "instanceId": "i"})
		assert.Equal(t, `{"resultCode":"000000","resultMsg":"success","info":[]}`, string(res.Body))
	})
}

// KooGallery accepts at most 128 characters, IV included: 79 bytes of
// plaintext fit, 80 do not, and the handler answers 000005 and logs why
// rather than truncating; the password itself is never logged.
func TestV1AppInfoLengthLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		user     string
		password string
		code     string
	}{
		{"79 bytes fit", "admin", strings.Repeat("p", 79), "000000"},
		{"80-byte password", "admin", "secret-" + strings.Repeat("p", 73), "000005"},
		{"80-byte user name", "user-" + strings.Repeat("u", 75), "pw", "000005"},
		{"27 three-byte characters fit", "admin", strings.Repeat("密", 26) + "a", "000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{newInstance: func(context.Context, *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
				return &saas.V1NewInstanceResponse{InstanceID: "i", AppInfo: &saas.AppInfo{FrontEndURL: "https://x", UserName: tt.user, Password: tt.password}}, nil
			}}
			e := newV1Env(t, p, []string{tt.password, tt.user})
			res := e.send(t, map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b"})
			assert.Equal(t, tt.code, res.ResultCode)
			if tt.code == "000005" {
				assert.Equal(t, `{"resultCode":"000005","resultMsg":"internal error"}`, string(res.Body))
				assert.Contains(t, e.logs.String(), "plaintext must be at most 79 bytes")
				assert.Contains(t, e.logs.String(), `"level":"ERROR"`)
			} else {
				assert.Equal(t, tt.password, res.AppInfo.Password)
			}
		})
	}
}

// saasExtendParams: a JSON array string, or [GAP] its Base64; anything else
// leaves SaaSExtendParams nil, the order provisioned, the raw value in
// Params, and a warning without the value.
func TestV1SaaSExtendParams(t *testing.T) {
	t.Parallel()
	const array = `[{"name":"emailDomainName","value":"acme.example.com"},{"name":"n","value":7}]`
	want := []order.ExtendParam{{Name: "emailDomainName", Value: "acme.example.com"}, {Name: "n", Value: "7"}}
	b64 := "W3sibmFtZSI6ImVtYWlsRG9tYWluTmFtZSIsInZhbHVlIjoiYWNtZS5leGFtcGxlLmNvbSJ9LHsibmFtZSI6Im4iLCJ2YWx1ZSI6N31d"
	for _, tt := range []struct {
		name, value string
		want        []order.ExtendParam
	}{
		{"JSON array", array, want},
		{"JSON array with spaces", " \n" + array + " ", want},
		{"Base64 of it", b64, want},
		{"unpadded URL-safe Base64 of it", strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimRight(b64, "=")), want},
		{"empty array", "[]", []order.ExtendParam{}},
		{"garbage", "{not json", nil},
		{"an object, not an array", `{"name":"a","value":"b"}`, nil},
		{"Base64 of garbage", "bm90IGpzb24=", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &v1Provider{}
			e := newV1Env(t, p, nil)
			res := e.send(t, map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "saasExtendParams": tt.value})
			require.Equal(t, "000000", res.ResultCode)
			req := callbacktest.LastAs[*saas.V1NewInstanceRequest](t, &p.Recorder)
			assert.Equal(t, tt.want, req.SaaSExtendParams)
			assert.Equal(t, tt.value, req.Params.Get("saasExtendParams"))
			if tt.want == nil {
				assert.Contains(t, e.logs.String(), "saasExtendParams is neither")
				assert.NotContains(t, e.logs.String(), tt.value)
			}
		})
	}
}

func TestV1ChargingModes(t *testing.T) {
	t.Parallel()
	for wire, want := range map[string]order.ChargingMode{
		"0": order.ChargingModeOnDemand, "1": order.ChargingModePeriod, "3": order.ChargingModeOneTime,
		"5": order.ChargingModeOnDemandPackage, "": "", "7": "7", "PERIOD": order.ChargingModePeriod, "ON_DEMAND": order.ChargingModeOnDemand,
	} {
		p := &v1Provider{}
		h := saas.NewV1Handler(accessKey, p, callback.WithLogger(discard))
		raw := signedRaw(t, map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b", "chargingMode": wire},
			func(_, v string) string { return url.QueryEscape(v) })
		rec := httptestGet(h, "/?"+raw)
		require.Contains(t, rec, `"resultCode":"000000"`, "chargingMode %q", wire)
		assert.Equal(t, want, callbacktest.LastAs[*saas.V1NewInstanceRequest](t, &p.Recorder).ChargingMode, "chargingMode %q", wire)
	}
}

func httptestGet(h http.Handler, target string) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Body.String()
}
