package koogallerytest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// usagePusher returns a usage client of fake that never retries by itself.
func usagePusher(t *testing.T, fake *koogallerytest.Server) *usage.Client {
	t.Helper()
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey), usage.WithClock(time.Now))
}

func chaosRecord(sn string) usage.Record {
	end := time.Now().UTC().Truncate(time.Hour)
	return usage.Record{InstanceID: "inst", MeteringSN: sn, RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end,
		UsageValue: usage.MustDecimal("1")}
}

// outcomes pushes n one-record calls and names what each got.
func outcomes(t *testing.T, fake *koogallerytest.Server, n int) []string {
	t.Helper()
	c := usagePusher(t, fake)
	out := make([]string, n)
	for i := range out {
		_, err := c.Push(context.Background(), []usage.Record{chaosRecord(fmt.Sprintf("sn-%d", i))})
		var apiErr *koogallery.APIError
		switch {
		case err == nil:
			out[i] = "ok"
		case errors.As(err, &apiErr):
			out[i] = apiErr.Code
		default:
			out[i] = "no answer"
		}
	}
	return out
}

func TestUsageChaosIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) ([]string, koogallerytest.UsageCalls, map[string]koogallerytest.UsageLedgerEntry) {
		fake := koogallerytest.NewServer()
		defer fake.Close()
		fake.SetUsageChaos(koogallerytest.UsageChaos{Seed: seed, FailRate: 0.4, LoseRate: 0.3})
		got := outcomes(t, fake, 60)
		return got, fake.UsageCalls(), fake.UsageLedger()
	}
	a, callsA, ledger := run(42)
	b, callsB, _ := run(42)
	c, _, _ := run(43)
	assert.Equal(t, a, b, "the same seed gives the same failures")
	assert.NotEqual(t, a, c, "another seed gives others")
	assert.Equal(t, callsA, callsB)
	assert.Equal(t, 60, callsA.Accepted+callsA.Failed+callsA.Lost)
	assert.Positive(t, callsA.Failed)
	assert.Positive(t, callsA.Lost)
	assert.Positive(t, callsA.Accepted)
	for i, o := range a {
		e := ledger[fmt.Sprintf("sn-%d", i)]
		assert.Equal(t, 1, e.Sends)
		switch o {
		case "ok":
			assert.True(t, e.Accepted)
		case "APIGW.0201": // failed: nothing accepted
			assert.False(t, e.Accepted)
		case "no answer": // lost: accepted, the answer never came
			assert.True(t, e.Accepted)
		default:
			t.Fatalf("call %d: unexpected outcome %q", i, o)
		}
	}
}

func TestUsageChaosThrottlesBursts(t *testing.T) {
	t.Parallel()
	clk := koogallerytest.NewClock(time.Now())
	fake := koogallerytest.NewServer(koogallerytest.WithClock(clk.Now))
	defer fake.Close()
	fake.SetUsageChaos(koogallerytest.UsageChaos{ThrottleRate: 2, ThrottleBurst: 3, RetryAfter: 1500 * time.Millisecond})
	c := usagePusher(t, fake)
	push := func(sn string) error {
		_, err := c.Push(context.Background(), []usage.Record{chaosRecord(sn)})
		return err
	}
	for i := range 3 {
		require.NoError(t, push(fmt.Sprint("burst-", i)), "within the burst")
	}
	err := push("over")
	require.ErrorIs(t, err, koogallery.ErrThrottled)
	var apiErr *koogallery.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 406, apiErr.StatusCode)
	assert.Equal(t, "MKT.0250", apiErr.Code)
	assert.Equal(t, 2*time.Second, apiErr.RetryAfter, "whole seconds, rounded up")

	clk.Advance(500 * time.Millisecond) // one token at 2 per second
	require.NoError(t, push("refilled"))
	assert.ErrorIs(t, push("over-again"), koogallery.ErrThrottled)
	assert.Equal(t, koogallerytest.UsageCalls{Accepted: 4, Throttled: 2}, fake.UsageCalls())
	ledger := fake.UsageLedger()
	assert.False(t, ledger["over"].Accepted, "a throttled call accepts nothing")
	assert.Equal(t, 1, ledger["over"].Sends)
	assert.Len(t, fake.UsageRecords(), 4)

	fake.SetUsageChaos(koogallerytest.UsageChaos{}) // off
	for i := range 10 {
		require.NoError(t, push(fmt.Sprint("free-", i)))
	}
}

func TestUsageLedger(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	c := usagePusher(t, fake)
	recs := []usage.Record{chaosRecord("a"), chaosRecord("b"), chaosRecord("c")}
	fake.FailUsageRecord("c", "instance is frozen")
	_, err := c.Push(context.Background(), recs)
	require.NoError(t, err)
	_, err = c.Push(context.Background(), recs[:1]) // a re-send
	require.NoError(t, err)
	changed := recs[1]
	changed.UsageValue = usage.MustDecimal("5")
	_, err = c.Push(context.Background(), []usage.Record{changed})
	require.NoError(t, err)

	// Lost answers: accepted, and the client hears nothing.
	fake.SetUsageChaos(koogallerytest.UsageChaos{LoseRate: 1})
	_, err = c.Push(context.Background(), []usage.Record{chaosRecord("d")})
	var reqErr *koogallery.RequestError
	require.ErrorAs(t, err, &reqErr)

	ledger := fake.UsageLedger()
	assert.Equal(t, koogallerytest.UsageLedgerEntry{Record: ledger["a"].Record, Sends: 2, Accepted: true, Resends: 1}, ledger["a"])
	assert.Equal(t, 1, ledger["b"].Changed, "a re-send with other content")
	assert.Equal(t, "1", ledger["b"].Record.UsageValue.String(), "the first content is kept")
	assert.Equal(t, "instance is frozen", ledger["c"].Abnormal)
	assert.False(t, ledger["c"].Accepted)
	assert.True(t, ledger["d"].Accepted)
	assert.Equal(t, "inst", ledger["a"].Record.InstanceID)
	assert.True(t, recs[0].BeginTime.Equal(ledger["a"].Record.BeginTime))
	assert.Len(t, fake.UsageRecords(), 3, "a, b and d, once each")
	assert.Zero(t, ledger["a"].Overlaps)

	fake.AcceptUsageRecords("c")
	fake.SetUsageChaos(koogallerytest.UsageChaos{})
	_, err = c.Push(context.Background(), recs[2:])
	require.NoError(t, err)
	assert.True(t, fake.UsageLedger()["c"].Accepted)

	// The old API keeps no ledger: it has no metering_sn.
	legacy := chaosRecord("")
	legacy.ProductID = "P"
	_, err = c.PushLegacy(context.Background(), []usage.Record{legacy})
	require.NoError(t, err)
	assert.Len(t, fake.UsageLedger(), 4)
}
