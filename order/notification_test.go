package order_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

const accessKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

type recorder struct {
	calls atomic.Int64
	mu    sync.Mutex
	got   []order.Notification
	err   error
	panic bool
}

func (r *recorder) onOrder(_ context.Context, n *order.Notification) error {
	r.calls.Add(1)
	r.mu.Lock()
	r.got = append(r.got, *n)
	r.mu.Unlock()
	if r.panic {
		panic("order pipeline crashed")
	}
	return r.err
}

func serve(t *testing.T, r *recorder, opts ...callback.NotificationOption) (string, *koogallerytest.Sender, *callbacktest.LogBuffer) {
	t.Helper()
	logs := &callbacktest.LogBuffer{}
	opts = append([]callback.NotificationOption{callback.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}, opts...)
	mux := http.NewServeMux()
	mux.Handle("/isv/order", order.NewNotificationHandler(accessKey, r.onOrder, opts...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { assert.NotContains(t, logs.String(), accessKey) })
	return srv.URL + "/isv/order", koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client())), logs
}

func send(t *testing.T, s *koogallerytest.Sender, url string, body any, opts ...koogallerytest.CallOption) *koogallerytest.Answer {
	t.Helper()
	res, err := s.Send(context.Background(), url, body, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	return res
}

func TestNotification(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body string
		want       order.Notification
	}{
		{"documented", `{"activity":"orderNotify","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"0"}`,
			order.Notification{OrderID: "CS1", OrderLineID: "CS1-000001"}},
		{"debug call", `{"activity":"orderNotify","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`,
			order.Notification{OrderID: "MOCKPERIODYEARNEW", OrderLineID: "MOCKPERIODYEARNEW-000001", TestFlag: true}},
		{"testFlag absent, as a number elsewhere, unknown fields", `{"orderLineId":"L","activity":"orderNotify","orderId":"O","x":{"y":null}}`,
			order.Notification{OrderID: "O", OrderLineID: "L"}},
		{"testFlag as a number", `{"activity":"orderNotify","orderId":"O","orderLineId":"L","testFlag":1}`,
			order.Notification{OrderID: "O", OrderLineID: "L", TestFlag: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{}
			url, s, _ := serve(t, r)
			res := send(t, s, url, tt.body)
			assert.Equal(t, `{"resultCode":"000000","resultMsg":"success"}`, string(res.Body))
			assert.Equal(t, []order.Notification{tt.want}, r.got)
		})
	}
}

func TestRefusedNotificationsNeverReachSellerCode(t *testing.T) {
	t.Parallel()
	valid := `{"activity":"orderNotify","orderId":"O","orderLineId":"L","testFlag":"0"}`
	for _, tt := range []struct {
		name, body, code, msg string
		opts                  []koogallerytest.CallOption
	}{
		{"stale", valid, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.Stale()}},
		{"forged", valid, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.ForgedKey("x")}},
		{"tampered", valid, "000001", "authentication failed", []koogallerytest.CallOption{koogallerytest.Tampered()}},
		{"kit scheme is not accepted", valid, "000001", "authentication failed", nil},
		{"other activity", `{"activity":"newInstance","orderId":"O","orderLineId":"L"}`, "000002", "unknown activity", nil},
		{"no activity", `{"orderId":"O","orderLineId":"L"}`, "000002", "missing activity", nil},
		{"no orderId", `{"activity":"orderNotify","orderLineId":"L"}`, "000002", "missing orderId", nil},
		{"no orderLineId", `{"activity":"orderNotify","orderId":"O"}`, "000002", "missing orderLineId", nil},
		{"bad testFlag", `{"activity":"orderNotify","orderId":"O","orderLineId":"L","testFlag":"maybe"}`, "000002", "invalid testFlag", nil},
		{"garbage", `{"activity":"orderNotify",`, "000002", "request body is not a JSON object", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{}
			url, s, _ := serve(t, r)
			var res *koogallerytest.Answer
			if tt.name == "kit scheme is not accepted" {
				call, err := s.SignKit(url, tt.body)
				require.NoError(t, err)
				res, err = call.Send(context.Background())
				require.NoError(t, err)
			} else {
				res = send(t, s, url, tt.body, tt.opts...)
			}
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.Zero(t, r.calls.Load())
		})
	}
}

func TestReplayedNotification(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	url, s, _ := serve(t, r)
	first := send(t, s, url, `{"activity":"orderNotify","orderId":"O","orderLineId":"L"}`, koogallerytest.WithNonce("N-1"))
	assert.Equal(t, "000000", first.ResultCode)
	// The same nonce and body signed again at a later instant is a new,
	// genuine call (the timestamp is signed), not a replay.
	again := send(t, s, url, `{"activity":"orderNotify","orderId":"O","orderLineId":"L"}`, koogallerytest.WithNonce("N-1"),
		koogallerytest.At(time.Now().Add(time.Second)))
	assert.Equal(t, "000000", again.ResultCode)

	call, err := s.Sign(url, `{"activity":"orderNotify","orderId":"O","orderLineId":"L"}`)
	require.NoError(t, err)
	_, err = call.Send(context.Background())
	require.NoError(t, err)
	replay, err := call.Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "000001", replay.ResultCode)
	assert.Equal(t, int64(3), r.calls.Load())
}

func TestSellerErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		r         *recorder
		code, msg string
	}{
		{"invalid", &recorder{err: fmt.Errorf("order %s unknown: %w", "O", order.ErrInvalidParameter)}, "000002", "invalid parameter"},
		{"custom code", &recorder{err: order.NewResultError("000104", "billing is down")}, "000104", "billing is down"},
		{"plain error", &recorder{err: errors.New("query order O: APIGW.0301 signature for AK HPUA... invalid")}, "000005", "internal error"},
		{"panic", &recorder{panic: true}, "000005", "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, s, logs := serve(t, tt.r)
			res := send(t, s, url, `{"activity":"orderNotify","orderId":"O","orderLineId":"L","testFlag":"0"}`)
			assert.Equal(t, tt.code, res.ResultCode)
			assert.Equal(t, tt.msg, res.ResultMsg)
			assert.NotContains(t, string(res.Body), "APIGW")
			if tt.code == "000005" {
				assert.Contains(t, logs.String(), `"level":"ERROR"`)
			}
		})
	}
	var re *order.ResultError
	require.ErrorAs(t, fmt.Errorf("w: %w", order.NewResultError("000002", "bad")), &re)
	assert.ErrorIs(t, re, order.ErrInvalidParameter)
	assert.Equal(t, "koogallery: result 000002: bad", re.Error())
}

func TestNotificationOptions(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	r := &recorder{}
	url, s, _ := serve(t, r, callback.WithClock(func() time.Time { return at }), callback.WithClockSkew(30*time.Second),
		callback.WithMaxBodyBytes(80), callback.WithReplayCacheSize(10))
	body := `{"activity":"orderNotify","orderId":"O","orderLineId":"L"}`
	assert.Equal(t, "000000", send(t, s, url, body, koogallerytest.At(at.Add(-89*time.Second))).ResultCode)
	assert.Equal(t, "000001", send(t, s, url, body, koogallerytest.At(at.Add(-91*time.Second))).ResultCode)
	big := `{"activity":"orderNotify","orderId":"` + string(bytes.Repeat([]byte("O"), 60)) + `","orderLineId":"L"}`
	assert.Equal(t, "000002", send(t, s, url, big, koogallerytest.At(at)).ResultCode)
}

func TestNewNotificationHandlerMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "order: nil notification func", func() { order.NewNotificationHandler(accessKey, nil) })
	assert.PanicsWithValue(t, "order: empty access key", func() {
		order.NewNotificationHandler("", func(context.Context, *order.Notification) error { return nil })
	})

}
