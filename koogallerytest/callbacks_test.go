package koogallerytest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest"
)

// Spec callbacks.md §9.5 and §9.6.
const (
	vecKey       = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	vecNonce     = "Q7ZP0L3XW9M2K8RT"
	vecTimestamp = "1795768200123"
	v2WireBody   = `{"orderLineId":"CS2611270001ABCDE-000001","activity":"newInstance","testFlag":"0","orderId":"CS2611270001ABCDE","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","extra":null}`
	v2Signature  = "8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318"
	kitWireBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	kitSignature = "3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b"
)

var vecTime = time.UnixMilli(1795768200123)

func TestSignMatchesSpecVectors(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewSender(vecKey)

	c, err := s.Sign("https://seller.example.com/isv/produce?tenant=a", v2WireBody, koogallerytest.At(vecTime), koogallerytest.WithNonce(vecNonce))
	require.NoError(t, err)
	u, err := url.Parse(c.URL)
	require.NoError(t, err)
	assert.Equal(t, "/isv/produce", u.Path)
	q := u.Query()
	assert.Equal(t, v2Signature, q.Get("signature"), "§9.5: the canonical payload is what is signed")
	assert.Equal(t, vecTimestamp, q.Get("timestamp"))
	assert.Equal(t, vecNonce, q.Get("nonce"))
	assert.Equal(t, "a", q.Get("tenant"), "the configured URL's own query is kept")
	assert.Equal(t, v2WireBody, string(c.Body), "the body is sent as given")
	assert.Equal(t, "application/json;charset=utf8", c.Header.Get("Content-Type"))
	assert.Equal(t, vecNonce, c.Nonce)
	assert.Equal(t, vecTimestamp, c.Timestamp)

	k, err := s.SignKit("https://seller.example.com/isv/produce/produceAPI/v2/tenantSync", []byte(kitWireBody),
		koogallerytest.At(vecTime), koogallerytest.WithNonce(vecNonce))
	require.NoError(t, err)
	assert.Equal(t, kitSignature, k.Header.Get("x-sign"), "§9.6")
	assert.Equal(t, vecTimestamp, k.Header.Get("x-timestamp"))
	assert.Equal(t, vecNonce, k.Header.Get("x-nonce"))
	assert.NotContains(t, k.URL, "signature=")
}

func TestCallOptions(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewSender(vecKey)
	body := map[string]string{"activity": "orderNotify", "orderId": "O&<1>", "orderLineId": "L"}
	sig := func(c *koogallerytest.Call) string {
		u, err := url.Parse(c.URL)
		require.NoError(t, err)
		return u.Query().Get("signature")
	}

	plain, err := s.Sign("http://x.test/", body, koogallerytest.At(vecTime), koogallerytest.WithNonce("N"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"activity":"orderNotify","orderId":"O&<1>","orderLineId":"L"}`, string(plain.Body))
	assert.Contains(t, string(plain.Body), `"O&<1>"`, "no HTML escaping, like Jackson")

	forged, err := s.Sign("http://x.test/", body, koogallerytest.At(vecTime), koogallerytest.WithNonce("N"), koogallerytest.ForgedKey("other"))
	require.NoError(t, err)
	assert.NotEqual(t, sig(plain), sig(forged))
	assert.Equal(t, plain.Body, forged.Body)

	tampered, err := s.Sign("http://x.test/", body, koogallerytest.At(vecTime), koogallerytest.WithNonce("N"), koogallerytest.Tampered())
	require.NoError(t, err)
	assert.Equal(t, sig(plain), sig(tampered), "signed before tampering")
	assert.JSONEq(t, `{"tampered":"1","activity":"orderNotify","orderId":"O&<1>","orderLineId":"L"}`, string(tampered.Body))

	stale, err := s.Sign("http://x.test/", body, koogallerytest.Stale())
	require.NoError(t, err)
	ts, err := strconv.ParseInt(stale.Timestamp, 10, 64)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(-2*time.Minute), time.UnixMilli(ts), 5*time.Second)

	fresh1, err := s.Sign("http://x.test/", body)
	require.NoError(t, err)
	fresh2, err := s.Sign("http://x.test/", body)
	require.NoError(t, err)
	assert.Len(t, fresh1.Nonce, 16)
	assert.NotEqual(t, fresh1.Nonce, fresh2.Nonce, "a fresh nonce per call")
}

func TestTamperedShapes(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewSender(vecKey)
	for body, want := range map[string]string{
		`{}`:         `{"tampered":"1"}`,
		` { } `:      ` {"tampered":"1" } `,
		`[1]`:        `[1]x`,
		`not json {`: `not json {x`,
	} {
		c, err := s.Sign("http://x.test/", body, koogallerytest.Tampered())
		require.NoError(t, err)
		assert.Equal(t, want, string(c.Body), body)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	s := koogallerytest.NewSender(vecKey)
	_, err := s.Sign("http://x.test/", make(chan int))
	assert.ErrorContains(t, err, "koogallerytest: sign")
	_, err = s.Sign("http://[::1", "{}")
	assert.ErrorContains(t, err, "koogallerytest: sign")
	_, err = s.Send(context.Background(), "http://[::1", "{}")
	assert.Error(t, err)
}

func TestCallSend(t *testing.T) {
	t.Parallel()
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r)
		bodies = append(bodies, string(b))
		if strings.Contains(string(b), "html") {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<h1>502</h1>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"resultCode":"000004","resultMsg":"later","instanceId":"i-9","extra":[1]}`))
	}))
	t.Cleanup(srv.Close)
	s := koogallerytest.NewSender(vecKey, koogallerytest.WithHTTPClient(srv.Client()))

	c, err := s.Sign(srv.URL+"/cb", `{"a":"b"}`)
	require.NoError(t, err)
	for range 2 { // the second send is a replay of the first
		res, err := c.Send(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "000004", res.ResultCode)
		assert.Equal(t, "later", res.ResultMsg)
		assert.Equal(t, "i-9", res.InstanceID)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "application/json", res.ContentType)
		var extra struct{ Extra []int }
		require.NoError(t, json.Unmarshal(res.Body, &extra))
		assert.Equal(t, []int{1}, extra.Extra)
	}
	require.Len(t, got, 2)
	assert.Equal(t, got[0].URL.RawQuery, got[1].URL.RawQuery)
	assert.Equal(t, http.MethodPost, got[0].Method)
	assert.Equal(t, []string{`{"a":"b"}`, `{"a":"b"}`}, bodies)

	res, err := s.Send(context.Background(), srv.URL, `{"html":"1"}`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a JSON object")
	require.NotNil(t, res)
	assert.Equal(t, "<h1>502</h1>", string(res.Body))
}

func TestCallRequestDoesNotShareHeaders(t *testing.T) {
	t.Parallel()
	c, err := koogallerytest.NewSender(vecKey).SignKit("http://x.test/", `{}`)
	require.NoError(t, err)
	req, err := c.Request(context.Background())
	require.NoError(t, err)
	req.Header.Set("x-sign", "changed")
	assert.NotEqual(t, "changed", c.Header.Get("x-sign"))
	b, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
}

// One Clock given to a handler and to both senders keeps them in step on
// any date: what the handler accepts and refuses depends only on the clock.
func TestSharedClockDrivesSendersAndHandler(t *testing.T) {
	t.Parallel()
	clk := koogallerytest.NewClock(time.Date(2031, 6, 30, 23, 59, 59, 0, time.UTC))
	v2 := koogallerytest.NewSender(vecKey, koogallerytest.WithClock(clk.Now))
	v1 := koogallerytest.NewV1Sender(vecKey, koogallerytest.WithClock(clk.Now))

	c, err := v2.Sign("http://x.test/", `{"activity":"orderNotify"}`)
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatInt(clk.Now().UnixMilli(), 10), c.Timestamp)
	stale, err := v2.Sign("http://x.test/", `{}`, koogallerytest.Stale())
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatInt(clk.Now().Add(-2*time.Minute).UnixMilli(), 10), stale.Timestamp, "Stale is relative to the sender's clock")

	clk.Advance(90 * time.Minute)
	q, err := v1.Sign("http://x.test/", map[string]string{"activity": "expireInstance"})
	require.NoError(t, err)
	assert.Equal(t, "20310701012959000", q.TimeStamp, "UTC, 90 minutes on")
	old, err := v1.Sign("http://x.test/", map[string]string{"activity": "expireInstance"}, koogallerytest.V1Stale())
	require.NoError(t, err)
	assert.Equal(t, "20310630002959000", old.TimeStamp, "25 hours before the sender's clock")
	kit, err := v1.SignKit("http://x.test/produceAPI/tenantSync", `{"tenantId":"t"}`)
	require.NoError(t, err)
	assert.Equal(t, "20310701092959000", kit.TimeStamp, "the kit's timeStamp is GMT+8")
}
