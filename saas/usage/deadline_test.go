package usage_test

import (
	"testing"
	"time"
	_ "time/tzdata" // America/New_York on any machine

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/saas/usage"
)

func TestDeadline(t *testing.T) {
	t.Parallel()
	cst := usage.ChinaStandardTime
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	day := func(loc *time.Location, y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	rec := func(begin, end time.Time) usage.Record { return usage.Record{BeginTime: begin, EndTime: end} }
	h := time.Hour
	cases := []struct {
		name  string
		r     usage.Record
		cycle usage.BillingCycle
		zone  *time.Location
		want  time.Time
	}{
		{"hourly: two hours after the hour", rec(day(time.UTC, 2026, 3, 1).Add(9*h), day(time.UTC, 2026, 3, 1).Add(10*h)),
			usage.Hourly, nil, day(time.UTC, 2026, 3, 1).Add(12 * h)},
		{"an unknown cycle is hourly", rec(day(time.UTC, 2026, 3, 1).Add(9*h), day(time.UTC, 2026, 3, 1).Add(10*h)),
			usage.BillingCycle(9), nil, day(time.UTC, 2026, 3, 1).Add(12 * h)},
		{"daily, China Standard Time by default: 01:00 CST of the next day", rec(day(cst, 2026, 3, 1), day(cst, 2026, 3, 2)),
			usage.Daily, nil, day(cst, 2026, 3, 2).Add(h)},
		{"daily in UTC", rec(day(time.UTC, 2026, 3, 1), day(time.UTC, 2026, 3, 2)),
			usage.Daily, time.UTC, day(time.UTC, 2026, 3, 2).Add(h)},
		{"a UTC day in China Standard Time ends on the CST day after", rec(day(time.UTC, 2026, 3, 1), day(time.UTC, 2026, 3, 2)),
			usage.Daily, cst, day(cst, 2026, 3, 3).Add(h)},
		{"daily, a window ending mid-day", rec(day(cst, 2026, 3, 1).Add(9*h), day(cst, 2026, 3, 1).Add(15*h)),
			usage.Daily, cst, day(cst, 2026, 3, 2).Add(h)},
		{"daily, an instant", rec(day(cst, 2026, 3, 1), day(cst, 2026, 3, 1)), usage.Daily, cst, day(cst, 2026, 3, 2).Add(h)},
		{"daily across the spring DST change", rec(day(ny, 2026, 3, 7), day(ny, 2026, 3, 8)), usage.Daily, ny, day(ny, 2026, 3, 8).Add(h)},
		{"daily on the DST day itself (23 hours)", rec(day(ny, 2026, 3, 8), day(ny, 2026, 3, 9)), usage.Daily, ny, day(ny, 2026, 3, 9).Add(h)},
		{"the year's last day", rec(day(cst, 2026, 12, 31), day(cst, 2027, 1, 1)), usage.Daily, cst, day(cst, 2027, 1, 1).Add(h)},
		{"21 days after begin_time, when earlier", rec(day(time.UTC, 2026, 3, 1), day(time.UTC, 2026, 3, 22).Add(2*h)),
			usage.Hourly, nil, day(time.UTC, 2026, 3, 22)},
	}
	for _, tc := range cases {
		got := usage.Deadline(tc.r, tc.cycle, tc.zone)
		assert.True(t, got.Equal(tc.want), "%s: got %v, want %v", tc.name, got, tc.want.UTC())
		assert.Equal(t, time.UTC, got.Location(), tc.name)
	}
}

func TestDefaultBillingCycle(t *testing.T) {
	t.Parallel()
	begin := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		window time.Duration
		want   usage.BillingCycle
	}{{0, usage.Hourly}, {30 * time.Minute, usage.Hourly}, {time.Hour, usage.Hourly}, {time.Hour + time.Second, usage.Daily}, {24 * time.Hour, usage.Daily}} {
		assert.Equal(t, tc.want, usage.DefaultBillingCycle(usage.Record{BeginTime: begin, EndTime: begin.Add(tc.window)}), tc.window)
	}
	assert.Equal(t, "hourly", usage.Hourly.String())
	assert.Equal(t, "daily", usage.Daily.String())
	assert.Equal(t, "BillingCycle(12)", usage.BillingCycle(12).String())
}

// The meter stores each record's deadline with the cycle and zone it was
// told.
func TestMeterDeadlinesFollowTheOptions(t *testing.T) {
	t.Parallel()
	e := newMeterEnv(t, func(s *meterSetup) {
		s.meterOpts = []usage.MeterOption{usage.WithBillingZone(time.UTC),
			usage.WithBillingCycle(func(r usage.Record) usage.BillingCycle {
				if r.InstanceID == "daily" {
					return usage.Daily
				}
				return usage.Hourly
			})}
	})
	end := e.clk.Now().UTC().Truncate(time.Hour)
	recs := []usage.Record{
		{InstanceID: "daily", MeteringSN: "d", RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end, UsageValue: usage.MustDecimal("1")},
		{InstanceID: "hourly", MeteringSN: "h", RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end, UsageValue: usage.MustDecimal("1")},
	}
	entries, err := e.meter.Prepare(recs...)
	require.NoError(t, err)
	y, m, d := end.Add(-time.Nanosecond).Date()
	assert.True(t, entries[0].Deadline.Equal(time.Date(y, m, d+1, 1, 0, 0, 0, time.UTC)), entries[0].Deadline)
	assert.True(t, entries[1].Deadline.Equal(end.Add(2*time.Hour)), entries[1].Deadline)
	assert.JSONEq(t, string(entries[0].Payload), mustJSON(t, recs[0]))
	assert.Empty(t, e.fake.Requests())
}
