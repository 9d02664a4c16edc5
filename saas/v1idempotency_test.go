package saas_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

func v1NewInstance(orderID, businessID string) map[string]string {
	return map[string]string{"activity": "newInstance", "orderId": orderID, "businessId": businessID, "chargingMode": "1"}
}

// KooGallery re-sending newInstance 500 times at once for one order (each a
// separately signed request with its own businessId) provisions once, and
// every call gets the same instance ID and credentials. A later re-send, as
// when the buyer opens the console, gets them too: the AppInfo comes from
// QueryInstance for the recorded instance.
func TestV1NewInstanceConcurrentDuplicatesProvisionOnce(t *testing.T) {
	t.Parallel()
	var provisioned atomic.Int64
	app := &saas.AppInfo{FrontEndURL: "https://acme.example.com", UserName: "admin", Password: "initial-Pw1"}
	p := &v1Provider{
		newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
			provisioned.Add(1)
			time.Sleep(100 * time.Millisecond) // slow enough for every duplicate to arrive meanwhile
			return &saas.V1NewInstanceResponse{InstanceID: "inst-" + req.BusinessID, AppInfo: app}, nil
		},
		queryInstance: func(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
			return &saas.QueryInstanceResponse{Info: []saas.InstanceInfo{{InstanceID: req.InstanceIDs[0], AppInfo: app}}}, nil
		},
	}
	e := newV1Env(t, p, []string{app.Password})
	transport := e.srv.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 500
	client := &http.Client{Transport: transport}
	t.Cleanup(transport.CloseIdleConnections)
	sender := koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(client))

	const n = 500
	calls := make([]*koogallerytest.V1Call, n)
	for i := range calls {
		c, err := sender.Sign(e.url, v1NewInstance("CS1", "biz-"+strconv.Itoa(i)))
		require.NoError(t, err)
		calls[i] = c
	}
	answers := make([]*koogallerytest.V1Answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := c.Send(context.Background())
			if assert.NoError(t, err) && assert.Equal(t, "000000", res.ResultCode, res.ResultMsg) {
				answers[i] = res
			}
		}()
	}
	close(start)
	wg.Wait()

	assert.Equal(t, int64(1), provisioned.Load(), "provisioned exactly once")
	require.NotNil(t, answers[0])
	for i, a := range answers {
		if assert.NotNil(t, a, "call %d", i) && assert.NotNil(t, a.AppInfo, "call %d", i) {
			assert.Equal(t, answers[0].InstanceID, a.InstanceID, "call %d", i)
			assert.Equal(t, app.Password, a.AppInfo.Password, "call %d", i)
		}
	}
	res := e.send(t, v1NewInstance("CS1", "biz-late"))
	assert.Equal(t, answers[0].InstanceID, res.InstanceID)
	require.NotNil(t, res.AppInfo)
	assert.Equal(t, app.UserName, res.AppInfo.UserName)
	assert.Equal(t, int64(1), provisioned.Load())
}

// newInstance is keyed on orderId, and on orderId+productId for pay-per-use,
// one-time and package orders (chargingMode 0, 3, 5).
func TestV1NewInstanceKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode      string
		instances int
	}{
		{"1", 1}, {"", 1}, {"7", 1}, {"PERIOD", 1},
		{"0", 2}, {"3", 2}, {"5", 2}, {"ON_DEMAND", 2},
	} {
		t.Run("chargingMode "+tt.mode, func(t *testing.T) {
			t.Parallel()
			var provisioned atomic.Int64
			p := &v1Provider{newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
				provisioned.Add(1)
				return &saas.V1NewInstanceResponse{InstanceID: "inst-" + req.ProductID}, nil
			}}
			e := newV1Env(t, p, nil)
			ids := map[string]bool{}
			for _, product := range []string{"P1", "P2", "P1", "P2"} {
				res := e.send(t, map[string]string{"activity": "newInstance", "orderId": "CS1", "businessId": "b",
					"productId": product, "chargingMode": tt.mode})
				require.Equal(t, "000000", res.ResultCode)
				ids[res.InstanceID] = true
			}
			assert.Equal(t, int64(tt.instances), provisioned.Load())
			assert.Len(t, ids, tt.instances)
		})
	}
}

// Two replicas sharing a Store provision once; keys are documented.
func TestV1NewInstanceSharedStore(t *testing.T) {
	t.Parallel()
	store := &keyStore{Store: saas.NewMemoryStore(10)}
	var provisioned atomic.Int64
	p := &v1Provider{newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
		provisioned.Add(1)
		return &saas.V1NewInstanceResponse{InstanceID: "inst-" + req.BusinessID}, nil
	}}
	a := newV1Env(t, p, nil, callback.WithStore(store, 0))
	b := newV1Env(t, p, nil, callback.WithStore(store, 0))
	first := a.send(t, v1NewInstance("CS 1/x", "b1"))
	second := b.send(t, v1NewInstance("CS 1/x", "b2"))
	assert.Equal(t, "inst-b1", first.InstanceID)
	assert.Equal(t, "inst-b1", second.InstanceID)
	a.send(t, map[string]string{"activity": "newInstance", "orderId": "CS2", "businessId": "b", "chargingMode": "0", "productId": "P/1"})
	a.send(t, map[string]string{"activity": "upgrade", "orderId": "UP1", "instanceId": "inst-b1"})
	assert.Equal(t, int64(2), provisioned.Load())
	assert.Equal(t, []string{"v1.newInstance/CS%201%2Fx/", "v1.newInstance/CS%201%2Fx/", "v1.newInstance/CS2/P%2F1", "v1.upgrade/UP1/"}, store.keys)
}

func TestV1NewInstanceFailureIsRetried(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int64
	p := &v1Provider{newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
		switch attempts.Add(1) {
		case 1:
			return nil, saas.NewResultError(saas.CodeNoResource, "")
		case 2:
			return nil, saas.ErrProcessing // V1 has no Pending: 000004 and KooGallery re-sends
		case 3:
			return &saas.V1NewInstanceResponse{}, nil // no instance ID: a seller bug, 000005
		}
		return &saas.V1NewInstanceResponse{InstanceID: "i-" + req.BusinessID}, nil
	}}
	e := newV1Env(t, p, nil)
	for i, want := range []string{"000100", "000004", "000005", "000000", "000000"} {
		res := e.send(t, v1NewInstance("O", "b"+strconv.Itoa(i)))
		assert.Equal(t, want, res.ResultCode, "attempt %d", i)
		if want != "000000" {
			assert.Empty(t, res.InstanceID, "a failure carries no instance ID")
		} else {
			assert.Equal(t, "i-b3", res.InstanceID)
		}
	}
	assert.Equal(t, int64(4), attempts.Load())
}

// A re-sent newInstance whose QueryInstance fails is still answered with the
// instance, without appInfo.
func TestV1NewInstanceReplayWithoutAppInfo(t *testing.T) {
	t.Parallel()
	p := &v1Provider{
		newInstance: func(context.Context, *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
			return &saas.V1NewInstanceResponse{InstanceID: "i-1", AppInfo: &saas.AppInfo{FrontEndURL: "https://x"}}, nil
		},
		queryInstance: func(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
			return nil, errors.New("not implemented for periodic products")
		},
	}
	e := newV1Env(t, p, nil)
	res := e.send(t, v1NewInstance("O", "b1"))
	require.NotNil(t, res.AppInfo)
	res = e.send(t, v1NewInstance("O", "b2"))
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success","instanceId":"i-1"}`, string(res.Body))
	assert.Contains(t, e.logs.String(), "QueryInstance failed for a re-sent newInstance")
}

func TestV1UpgradeOncePerOrder(t *testing.T) {
	t.Parallel()
	var upgrades atomic.Int64
	p := &v1Provider{err: func() error { upgrades.Add(1); return nil }}
	e := newV1Env(t, p, nil)
	for range 3 {
		res := e.send(t, map[string]string{"activity": "upgrade", "orderId": "UP1", "instanceId": "i-1", "skuCode": "big"})
		assert.Equal(t, "000000", res.ResultCode)
	}
	e.send(t, map[string]string{"activity": "upgrade", "orderId": "UP2", "instanceId": "i-1", "skuCode": "bigger"})
	assert.Equal(t, int64(2), upgrades.Load())
}

// The same signed request delivered again (KooGallery's own re-send, or a
// URL replayed from an access log) is answered 000000 without calling the
// provider again, once it succeeded; a failure is retried; a new signature
// (KooGallery's next retry) calls the provider, whose own idempotency then
// applies.
func TestV1IdenticalDeliveries(t *testing.T) {
	t.Parallel()
	for _, activity := range []map[string]string{
		{"activity": "refreshInstance", "orderId": "R1", "instanceId": "i-1", "expireTime": "20271231235959"},
		{"activity": "expireInstance", "instanceId": "i-1"},
		{"activity": "releaseInstance", "instanceId": "i-1"},
		{"activity": "instanceStatus", "instanceId": "i-1", "instanceStatus": "FREEZE"},
	} {
		t.Run(activity["activity"], func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int64
			p := &v1Provider{err: func() error {
				if attempts.Add(1) == 1 {
					return errors.New("database down")
				}
				return nil
			}}
			e := newV1Env(t, p, nil)
			call, err := e.sender.Sign(e.url, activity)
			require.NoError(t, err)
			for i, want := range []string{"000005", "000000", "000000", "000000"} {
				res, err := call.Send(context.Background())
				require.NoError(t, err)
				assert.Equal(t, want, res.ResultCode, "delivery %d", i)
			}
			assert.Equal(t, int64(2), attempts.Load(), "failure retried, success not repeated")

			// The token spelled without its '=' padding is the same signed
			// request.
			alt := *call
			token := url.QueryEscape(call.AuthToken)
			require.Contains(t, call.URL, token)
			alt.URL = strings.Replace(call.URL, token, url.QueryEscape(strings.TrimRight(call.AuthToken, "=")), 1)
			require.NotEqual(t, call.URL, alt.URL)
			res, err := alt.Send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "000000", res.ResultCode)
			assert.Equal(t, int64(2), attempts.Load())

			res = e.send(t, activity, koogallerytest.V1At(time.Now().Add(time.Second)))
			assert.Equal(t, "000000", res.ResultCode)
			assert.Equal(t, int64(3), attempts.Load(), "a newly signed call reaches the provider")
		})
	}
}

func TestV1ConcurrentIdenticalDeliveries(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int64
	p := &v1Provider{err: func() error {
		attempts.Add(1)
		time.Sleep(50 * time.Millisecond)
		return nil
	}}
	e := newV1Env(t, p, nil)
	call, err := e.sender.Sign(e.url, map[string]string{"activity": "expireInstance", "instanceId": "i-1"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := call.Send(context.Background())
			if assert.NoError(t, err) {
				assert.Equal(t, "000000", res.ResultCode)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), attempts.Load())
}

// The V1 replay guard never forgets a served call inside its window: at its
// bound it answers new calls 000005 (retryable), and a replayed URL of the
// first call is still answered without running it again.
func TestV1ReplayGuardFullRefusesRatherThanForgets(t *testing.T) {
	t.Parallel()
	p := &v1Provider{}
	e := newV1Env(t, p, nil, callback.WithReplayCacheSize(2))
	first, err := e.sender.Sign(e.url, map[string]string{"activity": "expireInstance", "instanceId": "i-0"})
	require.NoError(t, err)
	res, err := first.Send(context.Background())
	require.NoError(t, err)
	require.Equal(t, "000000", res.ResultCode)
	require.Equal(t, "000000", e.send(t, map[string]string{"activity": "expireInstance", "instanceId": "i-1"}).ResultCode)
	assert.Equal(t, "000005", e.send(t, map[string]string{"activity": "expireInstance", "instanceId": "i-2"}).ResultCode)
	assert.Contains(t, e.logs.String(), "WithReplayCacheSize")
	res, err = first.Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "000000", res.ResultCode)
	assert.Equal(t, int64(2), p.Calls.Load(), "the replayed URL did not run again; i-2 did not run")
}
