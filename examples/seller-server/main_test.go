package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest"
)

// kgctl's tests probe the built server for every family; these check the
// wiring: what is mounted for which key, and the shutdown.

func testConfig() config {
	return config{accessKey: "ak-1", v1Key: "v1-1", publicURL: "https://seller.example.com"}
}

func TestMuxMountsTheFamiliesWithAKey(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	st, err := openState(context.Background(), testConfig(), log)
	require.NoError(t, err)
	mux, err := newMux(testConfig(), newProvider("https://seller.example.com", nil, log), st, log)
	require.NoError(t, err)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok\n", string(b))

	// No KOOGALLERY_KIT_KEY: the kit paths are not served.
	resp, err = http.Post(srv.URL+"/isv/produce/produceAPI/v2/tenantSync", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The same order line gets the same instance, concurrent duplicates too.
	market := koogallerytest.NewSender("ak-1")
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := market.Send(context.Background(), srv.URL+"/isv/produce", map[string]string{
				"activity": "newInstance", "orderId": "O1", "orderLineId": "O1-1", "businessId": "b" + string(rune('0'+i)), "testFlag": "0"})
			if assert.NoError(t, err) {
				assert.Equal(t, "000000", a.ResultCode)
				ids[i] = a.InstanceID
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	// A real (testFlag 0) call about an unknown instance is 000003; a
	// debugging call about one succeeds without touching anything.
	for flag, want := range map[string]string{"0": "000003", "1": "000000"} {
		a, err := market.Send(context.Background(), srv.URL+"/isv/produce", map[string]string{
			"activity": "updateInstanceStatus", "instanceId": "nope", "status": "FREEZE", "testFlag": flag})
		require.NoError(t, err)
		assert.Equal(t, want, a.ResultCode, "testFlag %s", flag)
	}
}

func TestConfigNeedsAKey(t *testing.T) {
	for _, k := range []string{"KOOGALLERY_ACCESS_KEY", "KOOGALLERY_V1_KEY", "KOOGALLERY_KIT_KEY", "HUAWEICLOUD_SDK_AK"} {
		t.Setenv(k, "")
	}
	_, err := configFromEnv(slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "KOOGALLERY_ACCESS_KEY")
	t.Setenv("KOOGALLERY_V1_KEY", "k")
	t.Setenv("KOOGALLERY_V1_ENCRYPT_TYPE", "3")
	_, err = configFromEnv(slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "KOOGALLERY_V1_ENCRYPT_TYPE")
}

// TestServeShutsDownGracefully: a call in flight when the context ends
// still gets its answer; then serve returns.
func TestServeShutsDownGracefully(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, newServer(h, log), ln, 5*time.Second, log) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	assert.Equal(t, "done", <-got)
	require.NoError(t, <-errc)
	_, err = http.Get("http://" + ln.Addr().String() + "/slow")
	assert.Error(t, err, "no longer listening")
}
