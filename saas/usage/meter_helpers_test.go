package usage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// meterEnv is a Meter on a memory outbox pushing to a fake KooGallery.
// The client does not retry by itself, so that every failure reaches the
// meter.
type meterEnv struct {
	fake   *koogallerytest.Server
	kg     *koogallery.Client
	client *usage.Client
	clk    *testClock
	outbox *flakyOutbox
	meter  *usage.Meter
	events *eventLog
	logs   *syncBuffer
}

type meterSetup struct {
	clientOpts []usage.Option
	kgOpts     []koogallery.Option
	meterOpts  []usage.MeterOption
	offset     time.Duration // of the meter's clock from the wall clock
}

func newMeterEnv(t *testing.T, setup ...func(*meterSetup)) *meterEnv {
	t.Helper()
	var cfg meterSetup
	for _, f := range setup {
		f(&cfg)
	}
	e := &meterEnv{fake: koogallerytest.NewServer(), clk: newTestClock(cfg.offset), events: &eventLog{},
		logs: &syncBuffer{}, outbox: &flakyOutbox{Outbox: usage.NewMemoryOutbox()}}
	t.Cleanup(e.fake.Close)
	kgOpts := append([]koogallery.Option{koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}),
		koogallery.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, cfg.kgOpts...)
	var err error
	e.kg, err = e.fake.NewClient(kgOpts...)
	require.NoError(t, err)
	e.client = usage.NewClient(e.kg, append([]usage.Option{usage.WithSellerKey(koogallerytest.DefaultSellerKey)}, cfg.clientOpts...)...)
	opts := append([]usage.MeterOption{
		usage.WithClock(e.clk.Now),
		usage.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		usage.WithEvents(e.events.add),
		usage.WithBackoff(time.Millisecond, 5*time.Millisecond),
		usage.WithPollInterval(10 * time.Millisecond),
	}, cfg.meterOpts...)
	e.meter, err = usage.NewMeter(e.client, e.outbox, opts...)
	require.NoError(t, err)
	return e
}

// records returns n valid hourly records of the hour before the meter's
// clock, named prefix-00000 on.
func (e *meterEnv) records(prefix string, n int) []usage.Record {
	begin := e.clk.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	out := make([]usage.Record, n)
	for i := range out {
		out[i] = usage.Record{
			InstanceID: fmt.Sprintf("inst-%d", i%7), MeteringSN: fmt.Sprintf("%s-%05d", prefix, i),
			RecordTime: begin.Add(time.Hour + time.Minute), BeginTime: begin, EndTime: begin.Add(time.Hour),
			UsageValue: usage.MustDecimal("1.25"),
		}
	}
	return out
}

func (e *meterEnv) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, e.meter.Flush(ctx))
}

func (e *meterEnv) stats(t *testing.T) usage.OutboxStats {
	t.Helper()
	st, err := e.meter.Stats(context.Background())
	require.NoError(t, err)
	return st
}

func (e *meterEnv) deadLetters(t *testing.T) []usage.DeadLetter {
	t.Helper()
	dls, err := e.outbox.DeadLetters(context.Background(), "", 10000)
	require.NoError(t, err)
	return dls
}

// requireLedger checks that the fake holds every record of recs exactly
// once, as sent, and no other.
func requireLedger(t *testing.T, fake *koogallerytest.Server, recs []usage.Record) map[string]koogallerytest.UsageLedgerEntry {
	t.Helper()
	ledger := fake.UsageLedger()
	accepted := 0
	for _, e := range ledger {
		if e.Accepted {
			accepted++
		}
		require.Zero(t, e.Changed, "%s was re-sent with other content", e.Record.MeteringSN)
		require.Zero(t, e.Overlaps, "%s was sent by two pushes at once", e.Record.MeteringSN)
	}
	for _, r := range recs {
		e, ok := ledger[r.MeteringSN]
		require.True(t, ok && e.Accepted, "%s was never accepted", r.MeteringSN)
		require.Equal(t, r.UsageValue, e.Record.UsageValue)
		require.True(t, r.BeginTime.Truncate(time.Second).Equal(e.Record.BeginTime))
	}
	require.Equal(t, len(recs), accepted, "records accepted that were not recorded")
	require.Len(t, fake.UsageRecords(), len(recs), "KooGallery billed a record twice")
	return ledger
}

// eventLog collects a meter's events.
type eventLog struct {
	mu     sync.Mutex
	events []usage.Event
	hook   func(usage.Event)
}

func (l *eventLog) add(e usage.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	hook := l.hook
	l.mu.Unlock()
	if hook != nil {
		hook(e)
	}
}

func (l *eventLog) setHook(f func(usage.Event)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hook = f
}

func (l *eventLog) of(k usage.EventKind) []usage.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []usage.Event
	for _, e := range l.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flakyOutbox fails chosen operations of the outbox it wraps, as a
// database that is down would.
type flakyOutbox struct {
	usage.Outbox
	failClaims  atomic.Int32 // the next n claims fail
	failSettles atomic.Bool  // every settlement fails
}

var errOutboxDown = errors.New("outbox down")

func (f *flakyOutbox) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) (*usage.Claim, error) {
	if f.failClaims.Add(-1) >= 0 {
		return nil, errOutboxDown
	}
	return f.Outbox.Claim(ctx, now, max, lease)
}

func (f *flakyOutbox) Settle(ctx context.Context, token string, s usage.Settlement) error {
	if f.failSettles.Load() {
		return errOutboxDown
	}
	return f.Outbox.Settle(ctx, token, s)
}

// startTransport tells when a request leaves.
type startTransport struct {
	inner   http.RoundTripper
	started chan struct{}
}

func (s *startTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case s.started <- struct{}{}:
	default:
	}
	return s.inner.RoundTrip(r)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testClock is the wall clock moved by an offset that tests advance: the
// pusher sleeps for real, so its clock must move on its own too.
type testClock struct{ offset atomic.Int64 }

func newTestClock(offset time.Duration) *testClock {
	c := &testClock{}
	c.offset.Store(int64(offset))
	return c
}

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// hookTransport calls before ahead of every request.
type hookTransport struct {
	inner  http.RoundTripper
	before func()
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.before()
	return h.inner.RoundTrip(r)
}
