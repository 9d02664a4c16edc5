package callback_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
)

const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

var at = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

func request(t *testing.T, method, rawURL string, header map[string][]string, body []byte) *callback.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return &callback.Request{Method: method, RawQuery: u.RawQuery, Header: header, Body: body}
}

func TestVerifyEachScheme(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := koogallerytest.NewClock(at)
	v2 := koogallerytest.NewSender(key, koogallerytest.WithClock(clk.Now))
	v1 := koogallerytest.NewV1Sender(key, koogallerytest.WithClock(clk.Now))

	t.Run("V2", func(t *testing.T) {
		t.Parallel()
		ver := callback.NewV2Verifier(key, callback.WithClock(clk.Now))
		c, err := v2.Sign("https://seller.example.com/isv/order", `{"activity":"orderNotify","orderId":"O1","orderLineId":"O1-1","testFlag":"0"}`)
		require.NoError(t, err)
		req := request(t, "POST", c.URL, c.Header, c.Body)
		call, err := ver.Verify(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, string(c.Body), string(call.Body))
		_, err = ver.Verify(ctx, req)
		code, msg := callback.Result(err)
		assert.Equal(t, "000001", code, "a replay")
		assert.Equal(t, "authentication failed", msg)

		forged, err := v2.Sign("https://seller.example.com/isv/order", `{"activity":"orderNotify"}`, koogallerytest.ForgedKey("guess"))
		require.NoError(t, err)
		_, err = ver.Verify(ctx, request(t, "POST", forged.URL, forged.Header, forged.Body))
		code, _ = callback.Result(err)
		assert.Equal(t, "000001", code)
	})
	t.Run("kit V2", func(t *testing.T) {
		t.Parallel()
		ver := callback.NewKitVerifier(key, callback.WithClock(clk.Now))
		c, err := v2.SignKit("https://seller.example.com/produceAPI/v2/tenantSync", `{"tenantId": "t", "flag": 1}`)
		require.NoError(t, err)
		call, err := ver.Verify(ctx, request(t, "POST", c.URL, c.Header, c.Body))
		require.NoError(t, err)
		assert.JSONEq(t, `{"tenantId":"t","flag":1}`, string(call.Body))
		_, err = ver.Verify(ctx, request(t, "GET", c.URL, c.Header, c.Body))
		code, _ := callback.Result(err)
		assert.Equal(t, "000002", code)
	})
	t.Run("kit V1", func(t *testing.T) {
		t.Parallel()
		ver := callback.NewKitV1Verifier(key, callback.WithClock(clk.Now))
		c, err := v1.SignKit("https://seller.example.com/produceAPI/tenantSync", `{"tenantId":"t","flag":1}`)
		require.NoError(t, err)
		call, err := ver.Verify(ctx, request(t, c.Method, c.URL, c.Header, c.Body))
		require.NoError(t, err)
		assert.Len(t, call.ID, 64)
		again, err := ver.Verify(ctx, request(t, c.Method, c.URL, c.Header, c.Body))
		require.NoError(t, err, "V1 has no nonce: the caller de-duplicates by ID")
		assert.Equal(t, call.ID, again.ID)
	})
	t.Run("V1", func(t *testing.T) {
		t.Parallel()
		ver := callback.NewV1Verifier(key, callback.WithClock(clk.Now))
		c, err := v1.Sign("https://seller.example.com/isv/v1", map[string]string{"activity": "expireInstance", "instanceId": "i-1"})
		require.NoError(t, err)
		call, err := ver.Verify(ctx, request(t, c.Method, c.URL, nil, nil))
		require.NoError(t, err)
		assert.Equal(t, "i-1", call.Values.Get("instanceId"))
		assert.Len(t, call.ID, 64)
		stale := callback.NewV1Verifier(key, callback.WithClock(func() time.Time { return at.Add(25 * time.Hour) }))
		_, err = stale.Verify(ctx, request(t, c.Method, c.URL, nil, nil))
		code, _ := callback.Result(err)
		assert.Equal(t, "000001", code)
	})
}

func TestVerifierMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "callback.NewV2Verifier: empty key", func() { callback.NewV2Verifier("") })
}
