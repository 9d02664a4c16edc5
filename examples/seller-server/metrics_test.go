package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest"
)

// series returns the value of the sample of metric name carrying every
// label of labels (name="value" pairs, as the text format writes them),
// and how many samples match.
func series(body, name string, labels ...string) (float64, int) {
	var v float64
	n := 0
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		head := line[:i]
		ok := true
		for _, l := range labels {
			if !strings.Contains(head, l) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		v, n = f, n+1
	}
	return v, n
}

// TestMetrics: every mounted handler reports to /metrics; genuine,
// forged and stale calls are counted by family, activity, result code and
// refusal reason.
func TestMetrics(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	st, err := openState(context.Background(), testConfig(), log)
	require.NoError(t, err)
	mux, err := newMux(testConfig(), newProvider("https://seller.example.com", nil, log), st, log)
	require.NoError(t, err)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	market := koogallerytest.NewSender("ak-1")
	newInstance := func(line string) map[string]string {
		return map[string]string{"activity": "newInstance", "orderId": "O1", "orderLineId": line, "businessId": "b-" + line, "testFlag": "0"}
	}
	for _, line := range []string{"O1-1", "O1-2"} {
		a, err := market.Send(ctx, srv.URL+"/isv/produce", newInstance(line))
		require.NoError(t, err)
		require.Equal(t, "000000", a.ResultCode)
	}
	for _, opt := range []koogallerytest.CallOption{koogallerytest.ForgedKey("guessed-key"), koogallerytest.Tampered(), koogallerytest.Stale()} {
		a, err := market.Send(ctx, srv.URL+"/isv/produce", newInstance("O1-3"), opt)
		require.NoError(t, err)
		require.Equal(t, "000001", a.ResultCode)
	}
	a, err := market.Send(ctx, srv.URL+"/isv/order", map[string]string{
		"activity": "orderNotify", "orderId": "O2", "orderLineId": "O2-1", "testFlag": "1"})
	require.NoError(t, err)
	require.Equal(t, "000000", a.ResultCode)

	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	body := string(b)

	check := func(want float64, name string, labels ...string) {
		t.Helper()
		v, n := series(body, name, labels...)
		if assert.Equal(t, 1, n, "%s%v: samples\n%s", name, labels, body) {
			assert.Equal(t, want, v, "%s%v", name, labels)
		}
	}
	saas, order := `koogallery_callback_family="saas"`, `koogallery_callback_family="order"`
	check(2, "koogallery_callback_calls_total", saas, `koogallery_callback_activity="newInstance"`, `koogallery_callback_result_code="000000"`)
	check(3, "koogallery_callback_calls_total", saas, `koogallery_callback_activity=""`, `koogallery_callback_result_code="000001"`)
	check(1, "koogallery_callback_calls_total", order, `koogallery_callback_activity="orderNotify"`, `koogallery_callback_result_code="000000"`)
	check(2, "koogallery_callback_refusals_total", saas, `koogallery_callback_reason="signature mismatch"`)
	check(1, "koogallery_callback_refusals_total", saas, `koogallery_callback_reason="timestamp outside the freshness window"`)
	check(2, "koogallery_callback_duration_seconds_count", saas, `koogallery_callback_activity="newInstance"`, `koogallery_callback_result_code="000000"`)
	check(2, "koogallery_callback_duration_seconds_bucket", saas, `koogallery_callback_activity="newInstance"`, `koogallery_callback_result_code="000000"`, `le="+Inf"`)
	assert.Contains(t, body, "# TYPE koogallery_callback_duration_seconds histogram")
	assert.Contains(t, body, "# TYPE koogallery_callback_calls_total counter")
	assert.NotContains(t, body, "O1-1", "no order ID is a label")
	_, n := series(body, "koogallery_callback_store_errors_total")
	assert.Zero(t, n, "no store error on memory")
}
