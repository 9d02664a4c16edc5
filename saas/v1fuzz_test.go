package saas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// countingV1 is a V1Provider that counts calls and always succeeds.
func countingV1(calls *atomic.Int64) *v1Provider {
	return &v1Provider{
		newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
			calls.Add(1)
			return &saas.V1NewInstanceResponse{InstanceID: req.BusinessID,
				AppInfo: &saas.AppInfo{FrontEndURL: req.CustomerName, UserName: "admin", Memo: req.CustomerName}}, nil
		},
		queryInstance: func(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
			calls.Add(1)
			info := make([]saas.InstanceInfo, len(req.InstanceIDs))
			for i, id := range req.InstanceIDs {
				info[i] = saas.InstanceInfo{InstanceID: id, AppInfo: &saas.AppInfo{FrontEndURL: id, Memo: id}}
			}
			return &saas.QueryInstanceResponse{Info: info}, nil
		},
		err: func() error { calls.Add(1); return nil },
	}
}

// FuzzV1Handler feeds arbitrary query strings to the V1 handler, as sent
// (must be refused with 000001, the provider untouched) and genuinely signed
// (must never be refused as unauthenticated, and a 000002 must not have
// reached the provider). Every answer is HTTP 200, an ASCII JSON envelope and
// signed with Body-Sign; nothing panics.
func FuzzV1Handler(f *testing.F) {
	for _, q := range []string{
		strings.Replace(rawQuery(specV1Params), "inst-0001", "inst-0002", 1), // §9.3 with a changed byte
		"activity=newInstance&orderId=O&businessId=b&chargingMode=0&productId=P&customerName=%E5%BC%A0",
		"activity=newInstance&orderId=O&businessId=b&mobilePhone=" + url.QueryEscape(specPhone256),
		"activity=newInstance&orderId=O&businessId=b&saasExtendParams=%5B%7B%22name%22%3A%22a%22%2C%22value%22%3A1%7D%5D",
		"activity=queryInstance&instanceId=i-1%2Ci-2",
		"activity=refreshInstance&orderId=O&instanceId=i&expireTime=20271231235959",
		"activity=expireInstance&instanceId=i&testFlag=1",
		"activity=releaseInstance&instanceId=i",
		"activity=upgrade&orderId=U&instanceId=i&amount=3",
		"activity=instanceStatus&instanceId=i&instanceStatus=FREEZE",
		"activity=newInstance&amount=x", "a=%zz", "&&=&", "activity", ";;;",
	} {
		f.Add(q)
	}
	var calls atomic.Int64
	p := countingV1(&calls)
	h := saas.NewV1Handler(accessKey, p, callback.WithLogger(discard))
	sender := koogallerytest.NewV1Sender(accessKey)

	f.Fuzz(func(t *testing.T, rawQuery string) {
		calls.Store(0)
		p.Mu.Lock()
		p.Reqs = p.Reqs[:0] // keep memory flat over a long run
		p.Mu.Unlock()
		req := httptest.NewRequest(http.MethodGet, "/isv/v1", nil)
		req.URL.RawQuery = rawQuery
		code, body := callbacktest.SignedResult(t, h, req, accessKey)
		assert.Equal(t, "000001", code, "unsigned call accepted: %q → %s", rawQuery, body)
		assert.Zero(t, calls.Load())

		values, _ := url.ParseQuery(rawQuery)
		params := make(map[string]string, len(values))
		for k, v := range values {
			if k != "" && k != v1sign.ParamTimeStamp && len(v) > 0 {
				params[k] = v[0]
			}
		}
		call, err := sender.Sign("http://example.test/isv/v1", params)
		require.NoError(t, err)
		code, body = callbacktest.SignedResult(t, h, httptest.NewRequest(http.MethodGet, call.URL, nil), accessKey)
		assert.NotEqual(t, "000001", code, "genuine call refused: %q → %s", call.URL, body)
		if code == "000002" {
			assert.Zero(t, calls.Load(), "a malformed call reached the provider: %q", call.URL)
		}
	})
}

// FuzzV1FieldDecryption sends arbitrary encrypted-field values, and the
// encryption of arbitrary plaintexts, as a signed newInstance's mobilePhone
// and email: a value either decrypts (000000, the provider sees exactly the
// plaintext) or answers 000002 without reaching the provider; nothing
// panics or answers 000005.
func FuzzV1FieldDecryption(f *testing.F) {
	f.Add(specPhone256, "13800138000", false)
	f.Add(specAdmin128, "Admin@KooGallery", true)
	f.Add(specAdmin256, "", false)
	f.Add(specIV+"////", "密码 😀", true)
	f.Add("A1b2C3d4E5f6G7h8neKPe RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI", "\xff", false)
	f.Add("", "x", true)
	var calls atomic.Int64
	p := &v1Provider{newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
		calls.Add(1)
		return &saas.V1NewInstanceResponse{InstanceID: "i"}, nil
	}}
	h := saas.NewV1Handler(accessKey, p, callback.WithLogger(discard))
	sender := koogallerytest.NewV1Sender(accessKey)
	var order atomic.Int64

	f.Fuzz(func(t *testing.T, value, plaintext string, aes128 bool) {
		send := func(field, v string) (string, *saas.V1NewInstanceRequest) {
			calls.Store(0)
			p.Mu.Lock()
			p.Reqs = p.Reqs[:0] // keep memory flat over a long run
			p.Mu.Unlock()
			// A fresh order each time: a recorded one would not reach the provider.
			call, err := sender.Sign("http://example.test/isv/v1", map[string]string{"activity": "newInstance",
				"orderId": "O" + strconv.FormatInt(order.Add(1), 10), "businessId": "b", field: v})
			require.NoError(t, err)
			code, body := callbacktest.SignedResult(t, h, httptest.NewRequest(http.MethodGet, call.URL, nil), accessKey)
			require.Contains(t, []string{"000000", "000002"}, code, "%s=%q → %s", field, v, body)
			if code == "000002" {
				assert.Zero(t, calls.Load())
				return code, nil
			}
			req := callbacktest.LastAs[*saas.V1NewInstanceRequest](t, &p.Recorder)
			return code, req
		}

		code, req := send("mobilePhone", value)
		if code == "000000" && value != "" {
			want, err := saas.DecryptField(accessKey, value, saas.AES256)
			if err != nil {
				want, err = saas.DecryptField(accessKey, value, saas.AES128)
			}
			require.NoError(t, err, "the handler decrypted what the helpers cannot")
			assert.Equal(t, want, req.MobilePhone)
		}

		et := saas.AES256
		if aes128 {
			et = saas.AES128
		}
		enc, err := saas.EncryptField(accessKey, plaintext, et)
		require.NoError(t, err)
		code, req = send("email", enc)
		if utf8.ValidString(plaintext) {
			require.Equal(t, "000000", code)
			assert.Equal(t, plaintext, req.Email)
		} else {
			assert.Equal(t, "000002", code, "a plaintext that is not UTF-8 is refused")
		}
	})
}
