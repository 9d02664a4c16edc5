package usage_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

func TestNewMeterRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	require.NoError(t, err)
	client := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))
	ob := usage.NewMemoryOutbox()
	cases := []struct {
		name   string
		client *usage.Client
		outbox usage.Outbox
		opt    usage.MeterOption
		want   string
	}{
		{"nil client", nil, ob, nil, "nil client"},
		{"no seller key", usage.NewClient(kg), ob, nil, "no seller key"},
		{"nil outbox", client, nil, nil, "nil outbox"},
		{"seller key given to the meter", client, ob, usage.WithSellerKey("k"), "WithSellerKey is an option of NewClient"},
		{"batch of 0", client, ob, usage.WithBatchSize(0), "WithBatchSize: 0"},
		{"batch of 1001", client, ob, usage.WithBatchSize(1001), "WithBatchSize: 1001"},
		{"no lease", client, ob, usage.WithLease(0), "WithLease"},
		{"backoff min above max", client, ob, usage.WithBackoff(2*time.Second, time.Second), "WithBackoff"},
		{"retention under 21 days", client, ob, usage.WithRetention(24 * time.Hour), "WithRetention"},
		{"nil logger", client, ob, usage.WithLogger(nil), "WithLogger"},
		{"nil zone", client, ob, usage.WithBillingZone(nil), "WithBillingZone"},
		{"negative margin", client, ob, usage.WithDeadlineMargin(-time.Second), "WithDeadlineMargin"},
		{"no poll interval", client, ob, usage.WithPollInterval(0), "WithPollInterval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []usage.MeterOption
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			m, err := usage.NewMeter(tc.client, tc.outbox, opts...)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "usage: new meter: "), err.Error())
		})
	}
	_, err = usage.NewMeter(client, ob, nil)
	assert.ErrorContains(t, err, "nil option")
	m, err := usage.NewMeter(client, ob, usage.WithClock(nil), usage.WithBatchSize(1000))
	require.NoError(t, err, "WithClock(nil) is time.Now")
	assert.NotNil(t, m)
}

func TestMeterRecordValidatesBeforeStoring(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t)
	ctx := context.Background()
	bad := e.records("bad", 3)
	bad[2].InstanceID = ""
	err := e.meter.Record(ctx, bad...)
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.ErrorContains(t, err, "record 2: instance_id is empty")

	old := e.records("old", 2)
	old[1].BeginTime = e.clk.Now().Add(-usage.MaxAge - time.Minute)
	err = e.meter.Record(ctx, old...)
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.ErrorContains(t, err, "MKT.9004")

	twice := e.records("twice", 2)
	twice[1].MeteringSN = twice[0].MeteringSN
	assert.ErrorContains(t, e.meter.Record(ctx, twice...), "repeats record 0")
	assert.ErrorIs(t, e.meter.Record(ctx), koogallery.ErrInvalidRequest, "no records")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, e.meter.Record(cancelled, e.records("ctx", 1)...), context.Canceled)
	assert.Zero(t, e.stats(t).Pending, "nothing refused was stored")

	// Any number of records in one call; the same record again is stored once.
	recs := e.records("ok", 2500)
	require.NoError(t, e.meter.Record(ctx, recs...))
	require.NoError(t, e.meter.Record(ctx, recs[7]))
	assert.Equal(t, 2500, e.stats(t).Pending)

	// The same metering_sn with other content is refused.
	changed := recs[7]
	changed.UsageValue = usage.MustDecimal("2")
	err = e.meter.Record(ctx, e.records("new", 1)[0], changed)
	assert.ErrorIs(t, err, usage.ErrConflict)
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.ErrorContains(t, err, recs[7].MeteringSN)
	assert.Equal(t, 2500, e.stats(t).Pending, "a conflicting Record stores nothing")
	// Product IDs are not sent by Push, so they are no part of the content.
	withProduct := recs[8]
	withProduct.ProductID = "OFFI846204237451911168"
	assert.NoError(t, e.meter.Record(ctx, withProduct))
	assert.Empty(t, e.fake.Requests(), "Record sends nothing")
}

func TestMeterFlushDrainsOldestFirstInCallsOfAtMost1000(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t)
	recs := e.records("sn", 2500)
	for _, part := range [][]usage.Record{recs[:300], recs[300:1700], recs[1700:]} {
		require.NoError(t, e.meter.Record(context.Background(), part...))
	}
	e.flush(t)

	reqs := e.fake.Requests()
	require.Len(t, reqs, 3)
	var sent []string
	for i, want := range []int{1000, 1000, 500} {
		var body struct {
			UsageRecords []struct {
				MeteringSN string `json:"metering_sn"`
			} `json:"usage_records"`
		}
		require.NoError(t, json.Unmarshal(reqs[i].Body, &body))
		assert.Len(t, body.UsageRecords, want)
		for _, r := range body.UsageRecords {
			sent = append(sent, r.MeteringSN)
		}
	}
	want := make([]string, len(recs))
	for i := range recs {
		want[i] = recs[i].MeteringSN
	}
	assert.Equal(t, want, sent, "oldest first")
	ledger := requireLedger(t, e.fake, recs)
	for _, l := range ledger {
		assert.Equal(t, 1, l.Sends)
	}
	st := e.stats(t)
	assert.Equal(t, usage.OutboxStats{Sent: 2500}, st)
	c := e.meter.Counters()
	assert.Equal(t, usage.Counters{Recorded: 2500, Calls: 3, Pushed: 2500}, c)
	pushed := e.events.of(usage.EventPushed)
	require.Len(t, pushed, 3)
	assert.Equal(t, 500, pushed[2].Records)
	assert.False(t, pushed[0].Time.IsZero())
}

func TestMeterRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fault    koogallerytest.Fault
		chaos    koogallerytest.UsageChaos
		sentinel error
	}{
		{"gateway 503", koogallerytest.Unavailable(), koogallerytest.UsageChaos{}, koogallery.ErrServer},
		{"system error", koogallerytest.Fault{Status: 500, Code: "MKT.0999", Message: "System internal error."}, koogallerytest.UsageChaos{}, koogallery.ErrServer},
		{"throttled", koogallerytest.Throttled(), koogallerytest.UsageChaos{}, koogallery.ErrThrottled},
		{"gateway throttling", koogallerytest.Fault{Status: 429, Code: "APIG.0308", Message: "The throttling threshold has been reached."}, koogallerytest.UsageChaos{}, koogallery.ErrThrottled},
		{"a proxy's 400 page", koogallerytest.HTMLPage(400), koogallerytest.UsageChaos{}, koogallery.ErrInvalidRequest},
		{"an unknown code", koogallerytest.Fault{Status: 400, Code: "MKT.7777", Message: "new in a later release"}, koogallerytest.UsageChaos{}, koogallery.ErrInvalidRequest},
		{"connection closed after accepting", koogallerytest.Fault{}, koogallerytest.UsageChaos{LoseRate: 1}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newMeterEnv(t)
			tc.fault.Path, tc.fault.Times = usage.Path, 2
			if tc.fault.Status != 0 {
				e.fake.Inject(tc.fault)
			}
			failures := 0
			if tc.chaos != (koogallerytest.UsageChaos{}) {
				e.fake.SetUsageChaos(tc.chaos)
				e.events.setHook(func(ev usage.Event) {
					if ev.Kind == usage.EventRetry {
						if failures++; failures == 2 {
							e.fake.SetUsageChaos(koogallerytest.UsageChaos{})
						}
					}
				})
			}
			recs := e.records("sn", 1200)
			require.NoError(t, e.meter.Record(context.Background(), recs...))
			e.flush(t)

			ledger := requireLedger(t, e.fake, recs)
			assert.Empty(t, e.deadLetters(t), "a transient failure dead-letters nothing")
			retries := e.events.of(usage.EventRetry)
			require.Len(t, retries, 2)
			for _, ev := range retries {
				assert.Equal(t, 1000, ev.Records)
				assert.Positive(t, ev.Wait)
				if tc.sentinel != nil {
					assert.ErrorIs(t, ev.Err, tc.sentinel)
				}
			}
			c := e.meter.Counters()
			assert.Equal(t, uint64(2), c.FailedCalls)
			assert.Equal(t, uint64(1200), c.Pushed)
			if errors.Is(tc.sentinel, koogallery.ErrThrottled) {
				assert.Equal(t, uint64(2), c.Throttled)
			}
			if tc.chaos.LoseRate > 0 {
				// Accepted twice without an answer, then acknowledged: re-sent
				// with the same metering_sn and billed once.
				assert.Equal(t, 3, ledger[recs[0].MeteringSN].Sends)
				assert.Equal(t, 2, ledger[recs[0].MeteringSN].Resends)
				assert.Equal(t, 1, ledger[recs[1100].MeteringSN].Sends)
			}
			assert.Contains(t, e.logs.String(), "usage: push failed, retrying")
		})
	}
}

func TestMeterHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t)
	e.fake.SetUsageChaos(koogallerytest.UsageChaos{ThrottleRate: 1e-9, ThrottleBurst: 1, RetryAfter: time.Second})
	e.events.setHook(func(ev usage.Event) {
		if ev.Kind == usage.EventRetry {
			e.fake.SetUsageChaos(koogallerytest.UsageChaos{})
		}
	})
	recs := e.records("sn", 1500)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.flush(t)
	requireLedger(t, e.fake, recs)
	retries := e.events.of(usage.EventRetry)
	require.Len(t, retries, 1)
	assert.ErrorIs(t, retries[0].Err, koogallery.ErrThrottled)
	assert.GreaterOrEqual(t, retries[0].Wait, time.Second, "Retry-After beyond the backoff is honoured")
	assert.Equal(t, uint64(1), e.meter.Counters().Throttled)
}

func TestMeterStopsOnAuthenticationFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		setup    func(*meterSetup)
		fault    *koogallerytest.Fault
		sentinel error
		code     string
	}{
		{"wrong seller key", func(s *meterSetup) { s.clientOpts = []usage.Option{usage.WithSellerKey("wrong-seller-key-value")} },
			nil, koogallery.ErrAuthentication, "MKT.0102"},
		{"wrong secret key", func(s *meterSetup) {
			s.kgOpts = []koogallery.Option{koogallery.WithCredentials(koogallerytest.DefaultAccessKey, "wrong-secret-key-value")}
		}, nil, koogallery.ErrAuthentication, "APIGW.0301"},
		{"the AK is locked", nil, &koogallerytest.Fault{Status: 401, Code: "APIGW.0301",
			Message: "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden."}, koogallery.ErrAuthentication, "APIGW.0301"},
		{"not a seller role", nil, &koogallerytest.Fault{Status: 401, Code: "MKT.0151", Message: "No authority"}, koogallery.ErrPermission, "MKT.0151"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var setups []func(*meterSetup)
			if tc.setup != nil {
				setups = append(setups, tc.setup)
			}
			e := newMeterEnv(t, setups...)
			if tc.fault != nil {
				f := *tc.fault
				f.Path = usage.Path
				e.fake.Inject(f)
			}
			recs := e.records("sn", 1500)
			require.NoError(t, e.meter.Record(context.Background(), recs...))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := e.meter.Run(ctx)
			require.ErrorIs(t, err, usage.ErrStopped)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.ErrorContains(t, err, tc.code)
			assert.ErrorContains(t, err, "lock the AK")
			assert.Len(t, e.fake.Requests(), 1, "one refused call, no retry")

			st := e.stats(t)
			assert.Equal(t, 1500, st.Pending, "nothing is lost")
			assert.Zero(t, st.Leased, "the batch was put back")
			stops := e.events.of(usage.EventAuthStopped)
			require.Len(t, stops, 1)
			assert.ErrorIs(t, stops[0].Err, tc.sentinel)
			assert.Equal(t, uint64(1), e.meter.Counters().AuthStops)

			// Stopped until Resume: no further call, Record still works.
			assert.ErrorIs(t, e.meter.Run(ctx), usage.ErrStopped)
			assert.ErrorIs(t, e.meter.Flush(ctx), usage.ErrStopped)
			assert.Len(t, e.fake.Requests(), 1)
			require.NoError(t, e.meter.Record(ctx, e.records("later", 1)...))

			logs := e.logs.String()
			assert.Contains(t, logs, "usage: pusher stopped: authentication failed")
			for _, secret := range []string{"wrong-seller-key-value", "wrong-secret-key-value", koogallerytest.DefaultSecretKey, koogallerytest.DefaultSellerKey} {
				assert.NotContains(t, logs, secret)
				assert.NotContains(t, err.Error(), secret)
			}
			if tc.fault != nil { // a passing fault: after Resume, everything goes out
				e.meter.Resume()
				e.flush(t)
				assert.Len(t, e.fake.UsageRecords(), 1501)
			}
		})
	}
}

func TestMeterDeadLettersAbnormalRecords(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t)
	recs := e.records("sn", 20)
	e.fake.FailUsageRecord(recs[3].MeteringSN, "instance is frozen")
	e.fake.FailUsageRecord(recs[11].MeteringSN, "usage exceeds the package")
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.flush(t)

	dls := e.deadLetters(t)
	require.Len(t, dls, 2)
	d := dls[0]
	assert.Equal(t, recs[3].MeteringSN, d.Record.MeteringSN)
	assert.Equal(t, "abnormal: instance is frozen", d.Reason)
	assert.JSONEq(t, `{"metering_sn":"sn-00003","instance_id":"inst-3","error_msg":"instance is frozen"}`, string(d.Raw))
	assert.WithinDuration(t, e.clk.Now(), d.Died, time.Minute)
	assert.Equal(t, recs[3].UsageValue, d.Record.UsageValue)
	assert.Equal(t, "abnormal: usage exceeds the package", dls[1].Reason)
	st := e.stats(t)
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, 2, st.Dead)
	assert.Equal(t, 18, st.Sent)
	assert.Len(t, e.fake.UsageRecords(), 18)
	dead := e.events.of(usage.EventDeadLettered)
	require.Len(t, dead, 1)
	assert.Equal(t, []string{recs[3].MeteringSN, recs[11].MeteringSN}, dead[0].MeteringSNs)
	assert.Equal(t, uint64(2), e.meter.Counters().DeadLettered)
	assert.Contains(t, e.logs.String(), "usage: records dead-lettered")

	// Once the cause is fixed on KooGallery's side, a requeue sends them.
	e.fake.AcceptUsageRecords(recs[3].MeteringSN, recs[11].MeteringSN)
	n, err := e.meter.Requeue(context.Background(), recs[3].MeteringSN, recs[11].MeteringSN, recs[0].MeteringSN)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	e.flush(t)
	requireLedger(t, e.fake, recs)
	assert.Empty(t, e.deadLetters(t))
}

func TestMeterNarrowsARefusalToTheRefusedRecords(t *testing.T) {
	t.Parallel()
	t.Run("MKT.9004: one record older than 21 days", func(t *testing.T) {
		t.Parallel()
		// The meter's clock is two hours behind KooGallery's, so it accepts
		// a record KooGallery finds too old.
		e := newMeterEnv(t, func(s *meterSetup) { s.offset = -2 * time.Hour })
		recs := e.records("sn", 300)
		recs[137].BeginTime = time.Now().Add(-usage.MaxAge - time.Hour)
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.flush(t)

		dls := e.deadLetters(t)
		require.Len(t, dls, 1)
		assert.Equal(t, recs[137].MeteringSN, dls[0].Record.MeteringSN)
		assert.Equal(t, "MKT.9004", dls[0].Code)
		assert.Contains(t, dls[0].Reason, "Record beginTime extends Limit.")
		assert.JSONEq(t, `{"error_code":"MKT.9004","error_msg":"Record beginTime extends Limit."}`, string(dls[0].Raw))
		requireLedger(t, e.fake, slices.Delete(slices.Clone(recs), 137, 138))
		calls := e.meter.Counters().Calls
		assert.LessOrEqual(t, calls, uint64(20), "halving finds one refused record among 300 in about 2·log2(300) calls")
		assert.Zero(t, e.meter.Counters().FailedCalls)
	})
	t.Run("MKT.9001: an instance KooGallery does not know", func(t *testing.T) {
		t.Parallel()
		e := newMeterEnv(t)
		recs := e.records("sn", 40)
		e.fake.AddInstances("inst-0", "inst-1", "inst-2", "inst-3", "inst-4", "inst-5") // not inst-6
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.flush(t)
		var dead []string
		var kept []usage.Record
		for _, r := range recs {
			if r.InstanceID == "inst-6" {
				dead = append(dead, r.MeteringSN)
			} else {
				kept = append(kept, r)
			}
		}
		dls := e.deadLetters(t)
		require.Len(t, dls, len(dead))
		for i, d := range dls {
			assert.Equal(t, dead[i], d.Record.MeteringSN)
			assert.Equal(t, "MKT.9001", d.Code)
		}
		requireLedger(t, e.fake, kept)
	})
	t.Run("a refusal that names its record", func(t *testing.T) {
		t.Parallel()
		e := newMeterEnv(t)
		recs := e.records("sn", 10)
		e.fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: 400, ContentType: "application/json",
			Body: []byte(`{"error_code":"94060004","error_msg":"Param error","extra_info":[{"meteringSn":"sn-00002","errorMsg":"bad value"}]}`)})
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.flush(t)
		dls := e.deadLetters(t)
		require.Len(t, dls, 1)
		assert.Equal(t, "sn-00002", dls[0].Record.MeteringSN)
		assert.Equal(t, "refused: bad value", dls[0].Reason)
		assert.Equal(t, "94060004", dls[0].Code)
		assert.JSONEq(t, `{"meteringSn":"sn-00002","errorMsg":"bad value"}`, string(dls[0].Raw))
		assert.Equal(t, uint64(2), e.meter.Counters().Calls, "the others go again in one call")
		requireLedger(t, e.fake, slices.Delete(slices.Clone(recs), 2, 3))
	})
	t.Run("a refusal naming nothing it was sent", func(t *testing.T) {
		t.Parallel()
		e := newMeterEnv(t)
		recs := e.records("sn", 2)
		e.fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: 500, ContentType: "application/json",
			Body: []byte(`{"error_code":"MKT.9002","error_msg":"Invalid usage enties.","data":[{"metering_sn":"someone-else"}]}`)})
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		e.flush(t)
		// Halved: each record alone is accepted, since the fault was spent.
		assert.Empty(t, e.deadLetters(t))
		requireLedger(t, e.fake, recs)
		assert.Equal(t, uint64(3), e.meter.Counters().Calls)
	})
}

func TestMeterResendsWhatADeadPusherLeft(t *testing.T) {
	t.Parallel()
	t.Run("claimed, never sent", func(t *testing.T) {
		t.Parallel()
		e := newMeterEnv(t, func(s *meterSetup) { s.meterOpts = []usage.MeterOption{usage.WithLease(time.Minute)} })
		recs := e.records("sn", 30)
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		// Another process claimed everything and died.
		c, err := e.outbox.Claim(context.Background(), e.clk.Now(), 1000, time.Minute)
		require.NoError(t, err)
		require.Len(t, c.Entries, 30)

		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err = e.meter.Flush(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the records belong to the dead pusher until its lease runs out")
		assert.ErrorContains(t, err, "30 records still pending")
		assert.Empty(t, e.fake.Requests())

		e.clk.Advance(time.Minute)
		e.flush(t)
		ledger := requireLedger(t, e.fake, recs)
		assert.Equal(t, 1, ledger["sn-00000"].Sends)
	})
	t.Run("sent, died before settling", func(t *testing.T) {
		t.Parallel()
		e := newMeterEnv(t, func(s *meterSetup) { s.meterOpts = []usage.MeterOption{usage.WithLease(time.Minute)} })
		recs := e.records("sn", 30)
		require.NoError(t, e.meter.Record(context.Background(), recs...))
		// A second replica on the same outbox pushes, then cannot record it.
		dying := &flakyOutbox{Outbox: e.outbox.Outbox}
		dying.failSettles.Store(true)
		other, err := usage.NewMeter(e.client, dying, usage.WithClock(e.clk.Now), usage.WithLogger(discardLogger()),
			usage.WithBackoff(time.Millisecond, time.Millisecond), usage.WithLease(time.Minute))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		assert.Error(t, other.Flush(ctx))
		assert.Len(t, e.fake.UsageRecords(), 30, "KooGallery has them")
		st := e.stats(t)
		assert.Equal(t, 30, st.Leased, "the outbox does not know")

		e.clk.Advance(time.Minute)
		e.flush(t)
		ledger := requireLedger(t, e.fake, recs)
		for _, r := range recs {
			assert.Equal(t, 2, ledger[r.MeteringSN].Sends)
			assert.Equal(t, 1, ledger[r.MeteringSN].Resends, "re-sent with the same metering_sn, billed once")
		}
	})
}

func TestMeterCancelledMidPushPutsTheBatchBack(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	e := newMeterEnv(t, func(s *meterSetup) {
		s.kgOpts = []koogallery.Option{koogallery.WithHTTPClient(&http.Client{Transport: &startTransport{inner: http.DefaultTransport, started: started}})}
	})
	e.fake.Inject(koogallerytest.Fault{Path: usage.Path, Delay: time.Minute})
	recs := e.records("sn", 10)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.meter.Run(ctx) }()
	<-started
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	e.fake.ClearFaults() // if the cancelled request never reached the fake
	st := e.stats(t)
	assert.Equal(t, 10, st.Pending)
	assert.Zero(t, st.Leased, "put back for the next pusher, not left to the lease")
	e.flush(t)
	requireLedger(t, e.fake, recs)
}

func TestMeterOutboxFailures(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t)
	recs := e.records("sn", 5)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.outbox.failClaims.Store(3)
	e.flush(t)
	requireLedger(t, e.fake, recs)
	assert.Equal(t, uint64(3), e.meter.Counters().OutboxErrors)
	assert.Equal(t, 3, strings.Count(e.logs.String(), "usage: outbox claim failed"))
}

func TestMeterReportsDeadlinesAtRisk(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t, func(s *meterSetup) {
		s.meterOpts = []usage.MeterOption{usage.WithDeadlineCheck(5 * time.Millisecond), usage.WithDeadlineMargin(45 * time.Minute)}
	})
	now := e.clk.Now()
	rec := func(sn string, end time.Time) usage.Record {
		return usage.Record{InstanceID: "inst", MeteringSN: sn, RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end,
			UsageValue: usage.MustDecimal("1")}
	}
	atRisk := rec("at-risk", now.Add(-90*time.Minute)) // deadline in 30 minutes
	missed := rec("missed", now.Add(-3*time.Hour))     // deadline an hour ago
	fine := rec("fine", now)                           // deadline in two hours
	require.NoError(t, e.meter.Record(context.Background(), atRisk, missed, fine))
	assert.Contains(t, e.logs.String(), "usage: recorded after the billing deadline")
	e.fake.SetUsageChaos(koogallerytest.UsageChaos{FailRate: 1}) // KooGallery is down

	reports := make(chan usage.Event, 10)
	e.events.setHook(func(ev usage.Event) {
		if ev.Kind == usage.EventDeadlineAtRisk {
			reports <- ev
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.meter.Run(ctx) }()
	first := <-reports
	assert.Equal(t, []string{"missed", "at-risk"}, first.MeteringSNs, "earliest deadline first")
	assert.Equal(t, 2, first.Records)
	assert.True(t, first.Deadline.Equal(missed.EndTime.Add(2*time.Hour)))

	e.clk.Advance(90 * time.Minute) // now "fine" is 30 minutes from its deadline
	second := <-reports
	assert.Equal(t, []string{"fine"}, second.MeteringSNs, "each record is reported once")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, uint64(3), e.meter.Counters().AtRisk)
	logs := e.logs.String()
	assert.Contains(t, logs, "level=ERROR msg=\"usage: records pending close to or past their billing deadline\"")
	assert.Contains(t, logs, "past_deadline=1")
}

func TestMetersShareAnOutboxUnderChaos(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t, func(s *meterSetup) { s.meterOpts = []usage.MeterOption{usage.WithBatchSize(250)} })
	e.fake.SetUsageChaos(koogallerytest.UsageChaos{Seed: 7, FailRate: 0.3, LoseRate: 0.1, ThrottleRate: 200, ThrottleBurst: 5})
	recs := e.records("sn", 6000)
	for i := 0; i < len(recs); i += 100 {
		e.fake.FailUsageRecord(recs[i].MeteringSN, "abnormal on purpose")
	}
	second, err := usage.NewMeter(e.client, e.outbox, usage.WithClock(e.clk.Now), usage.WithLogger(discardLogger()),
		usage.WithBackoff(time.Millisecond, 5*time.Millisecond), usage.WithBatchSize(250), usage.WithPollInterval(5*time.Millisecond))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var pushers sync.WaitGroup
	for _, m := range []*usage.Meter{e.meter, second} {
		pushers.Add(1)
		go func() {
			defer pushers.Done()
			assert.ErrorIs(t, m.Run(ctx), context.Canceled)
		}()
	}
	var producers sync.WaitGroup
	for p := range 4 {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for i := p * 100; i < len(recs); i += 400 {
				assert.NoError(t, e.meter.Record(context.Background(), recs[i:i+100]...))
			}
		}()
	}
	producers.Wait()
	require.NoError(t, second.Flush(context.Background()))
	cancel()
	pushers.Wait()

	var kept []usage.Record
	for i, r := range recs {
		if i%100 != 0 {
			kept = append(kept, r)
		}
	}
	ledger := requireLedger(t, e.fake, kept)
	dls := e.deadLetters(t)
	require.Len(t, dls, 60)
	for _, d := range dls {
		assert.Equal(t, "abnormal: abnormal on purpose", d.Reason)
		assert.True(t, ledger[d.Record.MeteringSN].Abnormal != "")
	}
	st := e.stats(t)
	assert.Equal(t, usage.OutboxStats{Sent: len(kept), Dead: 60}, st)
	calls := e.fake.UsageCalls()
	assert.Positive(t, calls.Failed)
	assert.Positive(t, calls.Lost)
}

// A long search for a refused record renews the claim, so that no other
// pusher takes the batch over half-way.
func TestMeterRenewsTheClaimWhileNarrowingARefusal(t *testing.T) {
	t.Parallel()
	var e *meterEnv
	var stolen, requests atomic.Int32
	hook := &hookTransport{inner: http.DefaultTransport, before: func() {
		requests.Add(1)
		e.clk.Advance(20 * time.Second) // each call takes a third of the lease
		if c, err := e.outbox.Outbox.Claim(context.Background(), e.clk.Now(), 1000, time.Minute); err == nil && len(c.Entries) > 0 {
			stolen.Add(int32(len(c.Entries)))
		}
	}}
	e = newMeterEnv(t, func(s *meterSetup) {
		s.offset = -2 * time.Hour // KooGallery finds one record too old; the meter does not
		s.meterOpts = []usage.MeterOption{usage.WithLease(time.Minute)}
		s.kgOpts = []koogallery.Option{koogallery.WithHTTPClient(&http.Client{Transport: hook})}
	})
	recs := e.records("sn", 64)
	recs[37].BeginTime = time.Now().Add(-usage.MaxAge - time.Hour)
	require.NoError(t, e.meter.Record(context.Background(), recs...))
	e.flush(t)
	assert.GreaterOrEqual(t, requests.Load(), int32(6), "several calls, over more than the lease")
	assert.Zero(t, stolen.Load(), "the claim was renewed")
	require.Len(t, e.deadLetters(t), 1)
	requireLedger(t, e.fake, slices.Delete(slices.Clone(recs), 37, 38))
}
