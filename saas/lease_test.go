package saas_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/store"
)

// WithClaimLease sets the lease every claim is taken with, V2 and V1,
// records and replay guard alike, and the provider's context ends at 4/5
// of it.
func TestClaimLeaseReachesStoreAndContext(t *testing.T) {
	t.Parallel()
	const lease = 3 * time.Second
	var left atomic.Int64 // the provider context's time left, in ns
	remember := func(ctx context.Context) {
		dl, ok := ctx.Deadline()
		if assert.True(t, ok, "the provider's context has a deadline") {
			left.Store(int64(time.Until(dl)))
		}
	}
	ks := &keyStore{Store: saas.NewMemoryStore(10)}
	v2 := newEnv(t, &provider{newInstance: func(ctx context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		remember(ctx)
		return &saas.NewInstanceResponse{InstanceID: req.BusinessID}, nil
	}}, callback.WithStore(ks, 0), callback.WithClaimLease(lease))
	v1 := newV1Env(t, &v1Provider{err: func() error { return nil }}, nil, callback.WithStore(ks, 0), callback.WithClaimLease(lease))

	assert.Equal(t, "000000", v2.send(t, newInstanceBody("O", "L", "b")).ResultCode)
	got := time.Duration(left.Load())
	assert.LessOrEqual(t, got, lease*4/5, "the provider's context ends at 4/5 of the lease")
	assert.Greater(t, got, lease/2)
	assert.Equal(t, "000000", v1.send(t, v1NewInstance("O1", "b1")).ResultCode)
	assert.Equal(t, "000000", v1.send(t, map[string]string{"activity": "expireInstance", "instanceId": "b1"}).ResultCode)

	ks.mu.Lock()
	defer ks.mu.Unlock()
	require.Len(t, ks.leases, 3)
	for i, l := range ks.leases {
		assert.Equal(t, lease, l, "claim %d (%s)", i, ks.keys[i])
	}
}

// Without WithClaimLease claims last five minutes.
func TestClaimLeaseDefault(t *testing.T) {
	t.Parallel()
	ks := &keyStore{Store: saas.NewMemoryStore(10)}
	e := newEnv(t, &provider{}, callback.WithStore(ks, 0))
	e.send(t, newInstanceBody("O", "L", "b"))
	ks.mu.Lock()
	defer ks.mu.Unlock()
	assert.Equal(t, []time.Duration{5 * time.Minute}, ks.leases)
}

// A replica that dies while provisioning leaves its claim behind; another
// replica answers 000005 until the lease runs out, then takes the claim
// over and calls its provider, which finds what the dead one had begun.
func TestClaimLeaseTakeover(t *testing.T) {
	t.Parallel()
	const lease = 2 * time.Second
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	st := store.NewMemory(10, store.WithClock(clk.Now))

	dead := make(chan struct{}) // closed when the test ends: the "dead" call never returns before
	begun := make(chan struct{})
	a := newEnv(t, &provider{newInstance: func(ctx context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		close(begun)
		<-dead
		return nil, ctx.Err()
	}}, callback.WithStore(st, 0), callback.WithClaimLease(lease), callback.WithClock(clk.Now))
	t.Cleanup(func() { close(dead) }) // before a's server closes, which waits for the call
	var resumed atomic.Int64
	b := newEnv(t, &provider{newInstance: func(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
		resumed.Add(1)
		return &saas.NewInstanceResponse{InstanceID: "half-made"}, nil
	}}, callback.WithStore(st, 0), callback.WithClaimLease(lease), callback.WithClock(clk.Now))
	b.sender = koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(b.srv.Client()), koogallerytest.WithClock(clk.Now))

	go func() {
		sender := koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(a.srv.Client()), koogallerytest.WithClock(clk.Now))
		_, _ = sender.Send(context.Background(), a.url, newInstanceBody("O", "L", "b0")) // answered when the test ends
	}()
	<-begun

	clk.Advance(lease - time.Millisecond)
	res := b.send(t, newInstanceBody("O", "L", "b1"))
	assert.Equal(t, "000005", res.ResultCode, "the claim still holds")
	assert.Zero(t, resumed.Load())

	clk.Advance(time.Millisecond)
	res = b.send(t, newInstanceBody("O", "L", "b2"))
	assert.Equal(t, "000000", res.ResultCode, res.ResultMsg)
	assert.Equal(t, "half-made", res.InstanceID)
	assert.Equal(t, int64(1), resumed.Load(), "taken over once the lease ran out")
}

func TestClaimLeaseInvalid(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second, 5, 999 * time.Millisecond} {
		assert.PanicsWithValue(t, "saas.NewHandler: WithClaimLease("+d.String()+"): the lease must be at least 1s (the provider gets 4/5 of it)",
			func() { saas.NewHandler(accessKey, &provider{}, callback.WithClaimLease(d)) }, "%v", d)
	}
	assert.NotPanics(t, func() { saas.NewV1Handler(accessKey, &v1Provider{}, callback.WithClaimLease(time.Second)) })
}
