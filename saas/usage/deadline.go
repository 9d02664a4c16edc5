package usage

import (
	"strconv"
	"time"
)

// MaxAge is how old a record's BeginTime may be when KooGallery receives it:
// older records are refused with MKT.9004.
const MaxAge = 21 * 24 * time.Hour

// BillingCycle is how KooGallery bills an item, which sets when its usage
// must arrive (see Deadline).
type BillingCycle uint8

const (
	// Hourly items are billed from records that arrive within two hours of
	// the metered hour's end.
	Hourly BillingCycle = iota + 1
	// Daily items may be reported hourly, or once a day: the day's batch
	// must arrive between 00:00 and 00:15 of the next day and never after
	// 01:00, or billing slips a day.
	Daily
)

// String returns "hourly" or "daily".
func (c BillingCycle) String() string {
	switch c {
	case Hourly:
		return "hourly"
	case Daily:
		return "daily"
	}
	return "BillingCycle(" + strconv.Itoa(int(c)) + ")"
}

// DefaultBillingCycle guesses a record's cycle from its window: a window
// of more than an hour is a daily batch, anything else hourly (the stricter
// rule). Sellers who know their items' cycles say so with WithBillingCycle.
func DefaultBillingCycle(r Record) BillingCycle {
	if r.EndTime.Sub(r.BeginTime) > time.Hour {
		return Daily
	}
	return Hourly
}

// ChinaStandardTime is UTC+8, the time of Huawei Cloud's consoles and the
// default zone of the daily billing window. KooGallery's documentation of
// the window ("00:00-00:15 of the next day, never after 01:00") does not
// name its time zone; WithBillingZone sets another.
var ChinaStandardTime = time.FixedZone("CST", 8*3600)

// Deadline returns when KooGallery must have r to bill it on time, as
// KooGallery's usage-push documentation (按需使用量推送) states:
//
//   - Hourly: two hours after EndTime;
//   - Daily: 01:00, in zone, of the day after the usage day (the day, in
//     zone, of the window's last instant), the "never after 01:00" limit;
//     the documented target, 00:15, is 45 minutes earlier;
//   - and in any case before BeginTime is MaxAge (21 days) old, when
//     KooGallery refuses the record (MKT.9004).
//
// A nil zone is ChinaStandardTime; an unknown cycle is Hourly.
func Deadline(r Record, cycle BillingCycle, zone *time.Location) time.Time {
	if zone == nil {
		zone = ChinaStandardTime
	}
	var d time.Time
	switch cycle {
	case Daily:
		last := r.EndTime
		if r.EndTime.After(r.BeginTime) {
			last = last.Add(-time.Nanosecond)
		}
		y, m, day := last.In(zone).Date()
		d = time.Date(y, m, day+1, 1, 0, 0, 0, zone)
	default:
		d = r.EndTime.Add(2 * time.Hour)
	}
	if limit := r.BeginTime.Add(MaxAge); limit.Before(d) {
		d = limit
	}
	return d.UTC()
}
