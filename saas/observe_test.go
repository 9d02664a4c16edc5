package saas_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// observed collects the outcomes a handler reports.
type observed struct {
	mu  sync.Mutex
	out []callback.Outcome
}

func (o *observed) observe(_ context.Context, oc callback.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = append(o.out, oc)
}

func (o *observed) last(t *testing.T) callback.Outcome {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.out)
	return o.out[len(o.out)-1]
}

// The observer hears every call once, with a family, activity, result code
// and reason that say what happened, after the answer.
func TestObserverSeesEveryOutcome(t *testing.T) {
	t.Parallel()
	var obs observed
	p := &provider{}
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	e := newEnv(t, p, callback.WithObserver(obs.observe), callback.WithClock(clk.Now))
	e.sender = koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(e.srv.Client()), koogallerytest.WithClock(clk.Now))
	newInstance := map[string]string{"activity": "newInstance", "orderId": "O1", "orderLineId": "L1", "businessId": "b"}

	call, err := e.sender.Sign(e.url, newInstance)
	require.NoError(t, err)
	res, err := call.Send(context.Background())
	require.NoError(t, err)
	require.Equal(t, "000000", res.ResultCode)
	got := obs.last(t)
	assert.Equal(t, callback.Outcome{Family: "saas", Activity: "newInstance", ResultCode: "000000"}, withoutDuration(got))
	assert.Positive(t, got.Duration)

	_, err = call.Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, callback.Outcome{Family: "saas", ResultCode: "000001", Reason: "replayed nonce"}, withoutDuration(obs.last(t)))

	e.send(t, newInstance, koogallerytest.ForgedKey("guess"))
	assert.Equal(t, "signature mismatch", obs.last(t).Reason)

	e.send(t, map[string]string{"activity": "updateInstanceStatus", "instanceId": "i"})
	assert.Equal(t, callback.Outcome{Family: "saas", Activity: "updateInstanceStatus", ResultCode: "000002", Reason: "invalid request"},
		withoutDuration(obs.last(t)), "status is missing")

	p.err = func() error { return errors.New("database down") }
	e.send(t, map[string]string{"activity": "releaseInstance", "instanceId": "i"})
	assert.Equal(t, callback.Outcome{Family: "saas", Activity: "releaseInstance", ResultCode: "000005", Reason: "provider error"},
		withoutDuration(obs.last(t)))
	p.err = func() error { return saas.ErrInstanceNotFound }
	e.send(t, map[string]string{"activity": "releaseInstance", "instanceId": "i"})
	assert.Equal(t, "000003", obs.last(t).ResultCode)

	p.err = func() error { panic("boom") }
	e.send(t, map[string]string{"activity": "releaseInstance", "instanceId": "i"})
	assert.Equal(t, "panic", obs.last(t).Reason)

	obs.mu.Lock()
	assert.Len(t, obs.out, 7, "one outcome per call")
	obs.mu.Unlock()
}

func withoutDuration(o callback.Outcome) callback.Outcome { o.Duration = 0; return o }

// A full replay cache is reported as such: the retryable 000005 says which
// bound to raise.
func TestObserverSeesAFullReplayCache(t *testing.T) {
	t.Parallel()
	var obs observed
	e := newEnv(t, &provider{}, callback.WithObserver(obs.observe), callback.WithReplayCacheSize(1))
	e.send(t, map[string]string{"activity": "releaseInstance", "instanceId": "i"})
	res := e.send(t, map[string]string{"activity": "releaseInstance", "instanceId": "i"})
	assert.Equal(t, "000005", res.ResultCode)
	assert.Equal(t, callback.Outcome{Family: "saas", ResultCode: "000005", Reason: "replay cache full"}, withoutDuration(obs.last(t)))
}
