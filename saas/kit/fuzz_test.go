package kit_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

var kitNames = []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync", "unknownSync"}

// FuzzKitHandler feeds arbitrary bodies to every kit interface, both
// versions: as sent (must be refused with 000001, the provider untouched)
// and genuinely signed (must never be refused as unauthenticated, and a
// 000002 must not have reached the provider). Every answer is HTTP 200 with
// an ASCII JSON envelope, V1 answers are signed with Body-Sign, and nothing
// panics.
func FuzzHandler(f *testing.F) {
	for _, body := range []string{
		specKitBody,
		`{"tenantId":"t","appId":"a","clientId":"c","clientSecret":"QUJD","flag":1}`,
		`{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"userName":"u","role":"admin","enable":"true","employeeType":1,"extension":{"a":[1]}}]}`,
		`{"tenantId":"t","appId":"a","flag":"3","userList":"[{\"userName\":\"u\",\"enable\":false}]"}`,
		`{"tenantId":"t","orgCode":"o","orgName":"n","parentCode":"p","flag":2}`,
		`{"tenantId":"t","orgInfo":"[{\"orgCode\":\"a\",\"name\":\"A\",\"parentCode\":\"b\"},{\"orgCode\":\"b\",\"parentCode\":\"a\"}]"}`,
		`{"tenantId":"t","orgInfoList":[{"orgCode":"a","orgName":"A"}],"testFlag":1}`,
		`{"flag":{}}`, `[]`, `{`, ``, `null`, `{"timeStamp":null}`,
	} {
		for i := range kitNames {
			f.Add([]byte(body), uint8(i), i%2 == 0)
		}
	}
	var calls atomic.Int64
	p := &kitProvider{err: func(any) error { calls.Add(1); return nil }}
	// No V1 window: a fuzzed timeStamp must not turn a genuine call into a
	// refusal; the window has its own tests.
	h := kit.NewHandler(accessKey, p, callback.WithLogger(discard), callback.WithV1Window(0), kit.WithPrivateKey(testKitKey(f)))
	v2 := koogallerytest.NewSender(accessKey)
	v1 := koogallerytest.NewV1Sender(accessKey)

	f.Fuzz(func(t *testing.T, body []byte, iface uint8, useV1 bool) {
		calls.Store(0)
		p.reset()
		name := kitNames[int(iface)%len(kitNames)]
		path := "http://example.test/isv/produce/produceAPI/v2/" + name
		if useV1 {
			path = "http://example.test/isv/produce/produceAPI/" + name
		}
		serve := func(req *http.Request) string {
			if useV1 {
				code, _ := callbacktest.SignedResult(t, h, req, accessKey)
				return code
			}
			return callbacktest.ResultCode(t, h, req)
		}

		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("authToken", "qr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog=") // §9.7 with a changed byte
		req.Header.Set("x-sign", specKitSign)
		req.Header.Set("x-nonce", specKitNonce)
		req.Header.Set("x-timestamp", specKitTS)
		assert.Equal(t, "000001", serve(req), "unsigned call accepted: %q", body)
		assert.Zero(t, calls.Load())

		var r *http.Request
		var err error
		if useV1 {
			c, serr := v1.SignKit(path, body)
			if serr != nil {
				return // no V1 authToken exists for a body that is not a JSON object with a timeStamp
			}
			r, err = c.Request(context.Background())
		} else {
			c, serr := v2.SignKit(path, body)
			require.NoError(t, serr)
			r, err = c.Request(context.Background())
		}
		require.NoError(t, err)
		code := serve(r)
		assert.NotEqual(t, "000001", code, "genuine call refused: %q", body)
		if code == "000002" {
			assert.Zero(t, calls.Load(), "a malformed call reached the provider: %q", body)
		}
	})
}
