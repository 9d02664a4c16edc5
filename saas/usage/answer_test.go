package usage_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// stopAtAnswer ends a pusher's context at a chosen moment of its next
// usage push, deterministically: before the request is sent, or once the
// whole answer has been read, before the client sees it.
type stopAtAnswer struct {
	inner  http.RoundTripper
	cancel atomic.Pointer[context.CancelFunc]
	before bool // cancel before sending rather than after the answer
}

func (s *stopAtAnswer) arm(cancel context.CancelFunc) { s.cancel.Store(&cancel) }

func (s *stopAtAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, usage.Path) {
		return s.inner.RoundTrip(r)
	}
	cancel := s.cancel.Swap(nil)
	if cancel != nil && s.before {
		(*cancel)()
	}
	resp, err := s.inner.RoundTrip(r)
	if err != nil || cancel == nil || s.before {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	(*cancel)()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// stoppingEnv is a meter whose Run context ends at its first push, as
// stop says.
func stoppingEnv(t *testing.T, before bool) (*meterEnv, *stopAtAnswer) {
	t.Helper()
	stop := &stopAtAnswer{inner: http.DefaultTransport, before: before}
	e := newMeterEnv(t, func(s *meterSetup) {
		s.kgOpts = []koogallery.Option{koogallery.WithHTTPClient(&http.Client{Transport: stop})}
	})
	return e, stop
}

// runUntilStopped runs the meter until stop ends its context.
func (e *meterEnv) runUntilStopped(t *testing.T, stop *stopAtAnswer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop.arm(cancel)
	assert.ErrorIs(t, e.meter.Run(ctx), context.Canceled)
}

// due claims what is due at now from the outbox, then gives it back.
func (e *meterEnv) due(t *testing.T, now time.Time) int {
	t.Helper()
	c, err := e.outbox.Claim(context.Background(), now, 10000, time.Second)
	require.NoError(t, err)
	if c == nil {
		return 0
	}
	sns := make([]string, len(c.Entries))
	for i := range c.Entries {
		sns[i] = c.Entries[i].Record.MeteringSN
	}
	if len(sns) > 0 {
		require.NoError(t, e.outbox.Settle(context.Background(), c.Token, usage.Settlement{Now: now, Retry: sns, RetryAt: now}))
	}
	return len(sns)
}

// TestMeterStoppedAsAThrottlingAnswerArrivesKeepsItsRetryAfter: a pusher
// whose context ends just as a 406 MKT.0250 with Retry-After arrives puts
// the batch back due no sooner than the Retry-After, not due at once.
func TestMeterStoppedAsAThrottlingAnswerArrivesKeepsItsRetryAfter(t *testing.T) {
	t.Parallel()
	e, stop := stoppingEnv(t, false)
	const retryAfter = time.Hour // far beyond anything the test itself takes
	e.fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: http.StatusNotAcceptable, Code: "MKT.0250",
		Message: "Access frequency overlimit", RetryAfter: "3600"})
	recs := e.records("sn", 10)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.runUntilStopped(t, stop)

	assert.Empty(t, e.fake.UsageRecords())
	st := e.stats(t)
	assert.Equal(t, 10, st.Pending, "nothing is lost")
	assert.Zero(t, st.Leased, "the batch was put back")
	assert.Zero(t, e.due(t, e.clk.Now()), "not due before the Retry-After")
	retries := e.events.of(usage.EventRetry)
	require.Len(t, retries, 1)
	assert.GreaterOrEqual(t, retries[0].Wait, retryAfter)
	assert.ErrorIs(t, retries[0].Err, koogallery.ErrThrottled)
	assert.Equal(t, uint64(1), e.meter.Counters().Throttled)
	assert.Equal(t, 10, e.due(t, e.clk.Now().Add(retryAfter+time.Minute)), "due once the Retry-After has passed")
}

// TestMeterStoppedAsASuccessArrivesMarksTheRecordsSent: a pusher whose
// context ends just as KooGallery's acceptance arrives records the batch
// as sent, not as pending to be pushed again.
func TestMeterStoppedAsASuccessArrivesMarksTheRecordsSent(t *testing.T) {
	t.Parallel()
	e, stop := stoppingEnv(t, false)
	recs := e.records("sn", 10)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.runUntilStopped(t, stop)

	requireLedger(t, e.fake, recs)
	assert.Equal(t, usage.OutboxStats{Sent: 10}, e.stats(t))
	require.Len(t, e.events.of(usage.EventPushed), 1)
	assert.Equal(t, uint64(10), e.meter.Counters().Pushed)
}

// TestMeterStoppedAsARefusalArrivesRecordsIt: a per-record refusal that
// arrives as the context ends is recorded as such: the refused record is a
// dead letter; the others are sent when the answer accepted them, else put
// back, due at once.
func TestMeterStoppedAsARefusalArrivesRecordsIt(t *testing.T) {
	t.Parallel()
	t.Run("reported abnormal in an acceptance", func(t *testing.T) {
		t.Parallel()
		e, stop := stoppingEnv(t, false)
		recs := e.records("sn", 10)
		e.fake.FailUsageRecord(recs[4].MeteringSN, "instance is frozen")
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.runUntilStopped(t, stop)

		assert.Equal(t, usage.OutboxStats{Sent: 9, Dead: 1}, e.stats(t))
		dls := e.deadLetters(t)
		require.Len(t, dls, 1)
		assert.Equal(t, recs[4].MeteringSN, dls[0].Record.MeteringSN)
	})
	t.Run("named by a refusal", func(t *testing.T) {
		t.Parallel()
		e, stop := stoppingEnv(t, false)
		recs := e.records("sn", 10)
		e.fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: http.StatusInternalServerError, ContentType: "application/json",
			Body: []byte(`{"error_code":"MKT.9002","error_msg":"Invalid usage enties.","extra_info":[{"metering_sn":"` +
				recs[4].MeteringSN + `","error_msg":"unknown metering entity"}]}`)})
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.runUntilStopped(t, stop)

		st := e.stats(t)
		assert.Equal(t, 1, st.Dead)
		assert.Equal(t, 9, st.Pending, "the others were not pushed again after the context ended")
		assert.Zero(t, st.Leased)
		dls := e.deadLetters(t)
		require.Len(t, dls, 1)
		assert.Equal(t, recs[4].MeteringSN, dls[0].Record.MeteringSN)
		assert.Equal(t, "MKT.9002", dls[0].Code)
		assert.Equal(t, 9, e.due(t, e.clk.Now()), "the others are due at once")
		assert.Len(t, e.fake.Requests(), 1)
	})
}

// TestMeterStoppedBeforeTheAnswerPutsTheBatchBackDue: a context that ends
// before the answer arrived leaves the batch pending and due at once, for
// the next pusher.
func TestMeterStoppedBeforeTheAnswerPutsTheBatchBackDue(t *testing.T) {
	t.Parallel()
	e, stop := stoppingEnv(t, true)
	recs := e.records("sn", 10)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.runUntilStopped(t, stop)

	assert.Empty(t, e.fake.UsageRecords())
	st := e.stats(t)
	assert.Equal(t, 10, st.Pending)
	assert.Zero(t, st.Leased, "put back for the next pusher, not left to the lease")
	assert.Empty(t, e.events.of(usage.EventRetry), "a cancelled push is no failure")
	assert.Equal(t, 10, e.due(t, e.clk.Now()), "due at once")
	e.flush(t)
	requireLedger(t, e.fake, recs)
}
