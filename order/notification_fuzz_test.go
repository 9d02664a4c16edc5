package order_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// FuzzNotificationHandler feeds arbitrary bodies and query strings to the
// handler, unsigned (refused with 000001, seller code untouched) and
// genuinely signed (never 000001; 000000 exactly when the seller code ran).
// Every answer is HTTP 200 with an ASCII JSON envelope; nothing panics.
func FuzzNotificationHandler(f *testing.F) {
	for _, body := range []string{
		`{"activity":"orderNotify","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"0"}`,
		`{"activity":"orderNotify","orderId":1,"orderLineId":true,"testFlag":1}`,
		`{"activity":"orderNotify","orderId":"O","orderLineId":"L","testFlag":"x"}`,
		`{"activity":"orderNotify","orderId":"O","orderId":null,"orderLineId":"L"}`,
		`{"activity":"orderNotify"}`, ` { } `, `1e9`,
	} {
		f.Add([]byte(body), "nonce=a&timestamp=0&signature=")
	}
	r := &recorder{}
	h := order.NewNotificationHandler(accessKey, r.onOrder, callback.WithLogger(slog.New(slog.DiscardHandler)))
	sender := koogallerytest.NewSender(accessKey)

	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		r.calls.Store(0)
		r.mu.Lock()
		r.got = r.got[:0] // keep memory flat over a long run
		r.mu.Unlock()
		req := httptest.NewRequest(http.MethodPost, "/isv/order", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		assert.Equal(t, "000001", callbacktest.ResultCode(t, h, req), "unsigned call accepted: %q ?%s", body, rawQuery)
		assert.Zero(t, r.calls.Load())

		call, err := sender.Sign("http://example.test/isv/order", body)
		require.NoError(t, err)
		req = httptest.NewRequest(http.MethodPost, call.URL, bytes.NewReader(call.Body))
		req.Header = call.Header
		code := callbacktest.ResultCode(t, h, req)
		assert.NotEqual(t, "000001", code, "genuine call refused: %q", body)
		assert.Equal(t, code == "000000", r.calls.Load() == 1, "code %s, seller calls %d", code, r.calls.Load())
	})
}
