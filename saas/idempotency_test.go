package saas_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
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

func newInstanceBody(orderID, lineID, businessID string) map[string]string {
	return map[string]string{"activity": "newInstance", "orderId": orderID, "orderLineId": lineID, "businessId": businessID}
}

// KooGallery re-sending newInstance 1,000 times at once for one order line
// provisions once, and every call gets the same instance ID.
func TestNewInstanceConcurrentDuplicatesProvisionOnce(t *testing.T) {
	t.Parallel()
	var provisioned atomic.Int64
	p := &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		provisioned.Add(1)
		time.Sleep(100 * time.Millisecond) // slow enough for every duplicate to arrive meanwhile
		return &saas.NewInstanceResponse{InstanceID: "inst-" + req.BusinessID}, nil
	}}
	e := newEnv(t, p)
	transport := e.srv.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 1000
	client := &http.Client{Transport: transport}
	t.Cleanup(transport.CloseIdleConnections)
	sender := koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(client))

	const n = 1000
	calls := make([]*koogallerytest.Call, n)
	for i := range calls {
		c, err := sender.Sign(e.url, newInstanceBody("CS1", "CS1-000001", "biz-"+strconv.Itoa(i)))
		require.NoError(t, err)
		calls[i] = c
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := c.Send(context.Background())
			if assert.NoError(t, err) && assert.Equal(t, "000000", res.ResultCode, res.ResultMsg) {
				ids[i] = res.InstanceID
			}
		}()
	}
	close(start)
	wg.Wait()

	assert.Equal(t, int64(1), provisioned.Load(), "provisioned exactly once")
	require.NotEmpty(t, ids[0])
	for i := range ids {
		assert.Equal(t, ids[0], ids[i], "call %d", i)
	}
	// A later re-send replays the recorded answer.
	res := e.send(t, newInstanceBody("CS1", "CS1-000001", "biz-late"))
	assert.Equal(t, ids[0], res.InstanceID)
	assert.Equal(t, int64(1), provisioned.Load())
	// Another order line is another instance.
	res = e.send(t, newInstanceBody("CS1", "CS1-000002", "biz-other"))
	assert.Equal(t, "inst-biz-other", res.InstanceID)
}

func TestNewInstanceFailureIsRetried(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int64
	p := &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		if attempts.Add(1) == 1 {
			return nil, saas.NewResultError(saas.CodeNoResource, "")
		}
		return &saas.NewInstanceResponse{InstanceID: "i-" + req.BusinessID}, nil
	}}
	e := newEnv(t, p)
	res := e.send(t, newInstanceBody("O", "L", "b1"))
	assert.Equal(t, "000100", res.ResultCode)
	assert.Empty(t, res.InstanceID, "a failure carries no instance ID")
	res = e.send(t, newInstanceBody("O", "L", "b2"))
	assert.Equal(t, "000000", res.ResultCode)
	assert.Equal(t, "i-b2", res.InstanceID)
	res = e.send(t, newInstanceBody("O", "L", "b3"))
	assert.Equal(t, "i-b2", res.InstanceID)
	assert.Equal(t, int64(2), attempts.Load())
}

// Pending answers 000004 with the instance ID and is not final: the next
// newInstance asks the provider again, telling it the pending instance, until
// the provider reports it ready; from then on the answer is replayed.
func TestNewInstancePending(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	var started atomic.Int64
	p := &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		if req.PendingInstanceID == "" {
			started.Add(1)
			return &saas.NewInstanceResponse{InstanceID: "i-" + req.BusinessID, Pending: true}, nil
		}
		if req.PendingInstanceID == "i-b1" && req.BusinessID == "b3" {
			// A confused provider returning another ID: the promised one stands.
			return &saas.NewInstanceResponse{InstanceID: "i-other", Pending: !ready.Load()}, nil
		}
		return &saas.NewInstanceResponse{InstanceID: req.PendingInstanceID, Pending: !ready.Load()}, nil
	}}
	e := newEnv(t, p)

	res := e.send(t, newInstanceBody("O", "L", "b1"))
	assert.Equal(t, `{"resultCode":"000004","resultMsg":"provisioning asynchronously","instanceId":"i-b1"}`, string(res.Body))
	res = e.send(t, newInstanceBody("O", "L", "b2"))
	assert.Equal(t, "000004", res.ResultCode)
	assert.Equal(t, "i-b1", res.InstanceID)

	ready.Store(true)
	res = e.send(t, newInstanceBody("O", "L", "b3"))
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success","instanceId":"i-b1"}`, string(res.Body))
	assert.Contains(t, e.logs.String(), "changed the instance ID")

	calls := p.Calls.Load()
	res = e.send(t, newInstanceBody("O", "L", "b4"))
	assert.Equal(t, "i-b1", res.InstanceID)
	assert.Equal(t, calls, p.Calls.Load(), "final answer replayed without calling the provider")
	assert.Equal(t, int64(1), started.Load(), "provisioning started once")
}

func TestNewInstancePendingRecheckFailureKeepsPending(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	p := &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		switch n.Add(1) {
		case 1:
			return &saas.NewInstanceResponse{InstanceID: "i-1", Pending: true}, nil
		case 2:
			return nil, errors.New("status service down")
		default:
			assert.Equal(t, "i-1", req.PendingInstanceID, "still pending after the failed re-check")
			return &saas.NewInstanceResponse{InstanceID: "i-1"}, nil
		}
	}}
	e := newEnv(t, p)
	assert.Equal(t, "000004", e.send(t, newInstanceBody("O", "L", "b1")).ResultCode)
	assert.Equal(t, "000005", e.send(t, newInstanceBody("O", "L", "b2")).ResultCode)
	assert.Equal(t, "000000", e.send(t, newInstanceBody("O", "L", "b3")).ResultCode)
}

func TestUpgradeInstanceOncePerOrderLine(t *testing.T) {
	t.Parallel()
	var upgrades atomic.Int64
	p := &provider{err: func() error {
		if upgrades.Add(1) == 1 {
			return errors.New("transient")
		}
		time.Sleep(50 * time.Millisecond)
		return nil
	}}
	e := newEnv(t, p)
	body := map[string]string{"activity": "upgradeInstance", "instanceId": "i-1", "orderId": "UP1", "orderLineId": "UP1-1"}
	assert.Equal(t, "000005", e.send(t, body).ResultCode, "first attempt fails")

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.sender.Send(context.Background(), e.url, body)
			if assert.NoError(t, err) {
				assert.Equal(t, "000000", res.ResultCode)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), upgrades.Load(), "one failure, then exactly one upgrade")

	other := map[string]string{"activity": "upgradeInstance", "instanceId": "i-1", "orderId": "UP2", "orderLineId": "UP2-1"}
	assert.Equal(t, "000000", e.send(t, other).ResultCode)
	assert.Equal(t, int64(3), upgrades.Load(), "a new upgrade order runs")
}

// Two replicas sharing a Store: a duplicate on the second replica waits for
// the first replica's answer instead of provisioning again.
func TestReplicasSharingAStore(t *testing.T) {
	t.Parallel()
	store := saas.NewMemoryStore(100)
	var provisioned atomic.Int64
	mk := func() *env {
		return newEnv(t, &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
			provisioned.Add(1)
			time.Sleep(200 * time.Millisecond)
			return &saas.NewInstanceResponse{InstanceID: "i-" + req.BusinessID}, nil
		}}, callback.WithStore(store, time.Hour))
	}
	a, b := mk(), mk()
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i, e := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(50 * time.Millisecond) // a claims first
			}
			res, err := e.sender.Send(context.Background(), e.url, newInstanceBody("O", "L", "b"+strconv.Itoa(i)))
			if assert.NoError(t, err) {
				assert.Equal(t, "000000", res.ResultCode)
				results[i] = res.InstanceID
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), provisioned.Load())
	assert.Equal(t, []string{"i-b0", "i-b0"}, results)
}

// A Store that cannot claim must not let the provider run: at-most-once
// comes before availability.
func TestStoreDownRefusesToProvision(t *testing.T) {
	t.Parallel()
	p := &provider{}
	e := newEnv(t, p, callback.WithStore(brokenStore{}, 0))
	res := e.send(t, newInstanceBody("O", "L", "b"))
	assert.Equal(t, `{"resultCode":"000005","resultMsg":"temporarily unavailable, retry later"}`, string(res.Body))
	assert.Zero(t, p.Calls.Load())
	assert.Contains(t, e.logs.String(), "redis: i/o timeout")
	assert.Contains(t, e.logs.String(), `"level":"ERROR"`)
}

// The default memory Store never forgets a record inside its keep: at its
// bound it refuses new orders with a retryable 000005, and KooGallery's
// re-send of the first order is still answered from its record.
func TestMemoryStoreFullRefusesRatherThanForgets(t *testing.T) {
	t.Parallel()
	p := &provider{}
	e := newEnv(t, p, callback.WithStore(saas.NewMemoryStore(2), 0))
	for _, o := range []string{"O1", "O2"} {
		require.Equal(t, "000000", e.send(t, newInstanceBody(o, "L", "b")).ResultCode)
	}
	res := e.send(t, newInstanceBody("O3", "L", "b"))
	assert.Equal(t, "000005", res.ResultCode)
	assert.Contains(t, e.logs.String(), "store/redisstore", "the log says what to do")
	assert.Equal(t, "000000", e.send(t, newInstanceBody("O1", "L", "b2")).ResultCode)
	assert.Equal(t, int64(2), p.Calls.Load(), "O1 was provisioned once, O3 not at all")
}

type brokenStore struct{}

func (brokenStore) Claim(context.Context, string, time.Duration) (*saas.Record, bool, error) {
	return nil, false, errors.New("redis: i/o timeout")
}

func (brokenStore) Complete(context.Context, string, *saas.Record, time.Duration) error { return nil }

func (brokenStore) Release(context.Context, string) error { return nil }

// A store that records the keys it sees, to pin the documented key format.
type keyStore struct {
	saas.Store
	mu     sync.Mutex
	keys   []string
	leases []time.Duration
}

func (k *keyStore) Claim(ctx context.Context, key string, lease time.Duration) (*saas.Record, bool, error) {
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.leases = append(k.leases, lease)
	k.mu.Unlock()
	return k.Store.Claim(ctx, key, lease)
}

func TestStoreKeys(t *testing.T) {
	t.Parallel()
	ks := &keyStore{Store: saas.NewMemoryStore(10)}
	e := newEnv(t, &provider{}, callback.WithStore(ks, time.Hour))
	e.send(t, newInstanceBody("CS/1", "CS 1-000001", "b"))
	e.send(t, map[string]string{"activity": "upgradeInstance", "instanceId": "i", "orderId": "U1", "orderLineId": "U1-1"})
	assert.Equal(t, []string{"newInstance/CS%2F1/CS%201-000001", "upgradeInstance/U1/U1-1"}, ks.keys)
	assert.Equal(t, []time.Duration{5 * time.Minute, 5 * time.Minute}, ks.leases)
}
