package license_test

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
	"github.com/isvkit/koogallery/license"
)

// FuzzHandler feeds arbitrary bodies and query strings to the handler,
// unsigned (refused with 000001, provider untouched) and genuinely signed
// (never 000001; a 000002 never reached the provider). Every answer is HTTP
// 200 with an ASCII JSON envelope, and nothing panics.
func FuzzHandler(f *testing.F) {
	for _, body := range []string{
		`{"activity":"refreshLicenseCode","expireTime":"20271231235959","license":"L","orderId":"O","orderLineId":"L1","scene":"RENEWAL","testFlag":"1"}`,
		`{"activity":"updateLicenseCodeStatus","license":"L","status":"FREEZE"}`,
		`{"activity":"releaseLicenseCode","license":"L","orderId":null}`,
		`{"activity":"releaseLicenseCode","license":7,"testFlag":0}`,
		`{"activity":[]}`, `null`, `{"a":"\"}`,
	} {
		f.Add([]byte(body), "signature=AB&timestamp=1795768200123&nonce=n")
	}
	p := &provider{}
	sender := koogallerytest.NewSender(accessKey)

	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		// A handler per input: a long run sends more genuine calls within
		// the 60 s window than the default replay cache holds, and a full
		// cache answers 000005, as it should.
		h := license.NewHandler(accessKey, p, callback.WithLogger(slog.New(slog.DiscardHandler)))
		p.calls.Store(0)
		req := httptest.NewRequest(http.MethodPost, "/isv/license", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		assert.Equal(t, "000001", callbacktest.ResultCode(t, h, req), "unsigned call accepted: %q ?%s", body, rawQuery)
		assert.Zero(t, p.calls.Load())

		call, err := sender.Sign("http://example.test/isv/license", body)
		require.NoError(t, err)
		req = httptest.NewRequest(http.MethodPost, call.URL, bytes.NewReader(call.Body))
		req.Header = call.Header
		code := callbacktest.ResultCode(t, h, req)
		assert.NotEqual(t, "000001", code, "genuine call refused: %q", body)
		if code == "000002" {
			assert.Zero(t, p.calls.Load(), "a malformed call reached the provider")
		} else {
			assert.Equal(t, "000000", code)
			assert.Equal(t, int64(1), p.calls.Load())
		}
	})
}
