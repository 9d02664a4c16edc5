package saas_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// FuzzHandler feeds arbitrary bodies and query strings to the handler, both
// unsigned (must be refused with 000001, the provider untouched) and
// genuinely signed (must never be refused as unauthenticated, and a 000002
// must not have reached the provider). Every answer is HTTP 200 with an
// ASCII JSON envelope, and nothing panics.
func FuzzHandler(f *testing.F) {
	for _, body := range []string{
		`{"activity":"newInstance","businessId":"b","orderId":"O","orderLineId":"L","testFlag":"0"}`,
		`{"activity":"queryInstance","instanceId":"i-1,i-2"}`,
		`{"activity":"refreshInstance","expireTime":"20271231235959","instanceId":"i","orderId":"O","orderLineId":"L","scene":"RENEWAL"}`,
		`{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE"}`,
		`{"activity":"releaseInstance","instanceId":"i"}`,
		`{"activity":"upgradeInstance","instanceId":"i","orderId":"O","orderLineId":"L","testFlag":1}`,
		`{"activity":"newInstance","orderId":{"x":1}}`,
		`[]`, `{`, ``, `{"activity":"\u006eewInstance","orderId":"\ud800"}`,
	} {
		f.Add([]byte(body), "signature=00&timestamp=1&nonce=n")
	}
	var calls atomic.Int64
	p := &provider{
		newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
			calls.Add(1)
			return &saas.NewInstanceResponse{InstanceID: req.BusinessID, Pending: len(req.OrderID)%2 == 1}, nil
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
	h := saas.NewHandler(accessKey, p, callback.WithLogger(slog.New(slog.DiscardHandler)))
	sender := koogallerytest.NewSender(accessKey)

	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		calls.Store(0)
		p.Mu.Lock()
		p.Reqs = p.Reqs[:0] // keep memory flat over a long run
		p.Mu.Unlock()
		req := httptest.NewRequest(http.MethodPost, "/isv/produce", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		code := callbacktest.ResultCode(t, h, req)
		assert.Equal(t, "000001", code, "unsigned call accepted: %q ?%s", body, rawQuery)
		assert.Zero(t, calls.Load())

		call, err := sender.Sign("http://example.test/isv/produce", body)
		require.NoError(t, err)
		req = httptest.NewRequest(http.MethodPost, call.URL, bytes.NewReader(call.Body))
		req.Header = call.Header
		code = callbacktest.ResultCode(t, h, req)
		assert.NotEqual(t, "000001", code, "genuine call refused: %q", body)
		if code == "000002" {
			assert.Zero(t, calls.Load(), "a malformed call reached the provider")
		}
	})
}
