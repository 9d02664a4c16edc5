package usage_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// naming returns a usage push answer with code whose extra_info (or, for
// a success, data.abnormal_usage_data) names recs, each with recordCode
// when it is not empty.
func naming(code string, recordCode string, recs []usage.Record) []byte {
	var items []string
	for _, r := range recs {
		item := `{"metering_sn":"` + r.MeteringSN + `","instance_id":"` + r.InstanceID + `","error_msg":"instance of another seller"`
		if recordCode != "" {
			item += `,"error_code":"` + recordCode + `"`
		}
		items = append(items, item+"}")
	}
	list := "[" + strings.Join(items, ",") + "]"
	if code == "MKT.0000" {
		return []byte(`{"error_code":"MKT.0000","error_msg":"success","data":{"abnormal_usage_data":` + list + `}}`)
	}
	return []byte(`{"error_code":"` + code + `","error_msg":"Illegal operation","extra_info":` + list + `}`)
}

// TestMeterStopsOnIllegalOperation: MKT.0150 ("Illegal operation", the
// account of the AK/SK may not report for these instances) refusing a whole
// push stops the pusher as an authentication failure does: nothing is
// dead-lettered, every record stays pending, the stop is alerted, and
// after Resume everything goes out. A misconfigured AK must not turn the
// backlog into dead letters.
func TestMeterStopsOnIllegalOperation(t *testing.T) {
	t.Parallel()
	const n = 10
	cases := []struct {
		name  string
		fault func(recs []usage.Record) koogallerytest.Fault
		code  string
	}{
		{"the push refused, no record named", func([]usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusUnauthorized, Code: "MKT.0150", Message: "Illegal operation"}
		}, "MKT.0150"},
		{"the push refused with CBC.0150", func([]usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusForbidden, Code: "CBC.0150", Message: "Illegal operation"}
		}, "CBC.0150"},
		{"the push refused, every record named", func(recs []usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusUnauthorized, ContentType: "application/json", Body: naming("MKT.0150", "", recs)}
		}, "MKT.0150"},
		{"every record reported abnormal with MKT.0150", func(recs []usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusOK, ContentType: "application/json", Body: naming("MKT.0000", "MKT.0150", recs)}
		}, "MKT.0150"},
		{"every record refused with MKT.0150", func(recs []usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusInternalServerError, ContentType: "application/json", Body: naming("MKT.9002", "MKT.0150", recs)}
		}, "MKT.0150"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newMeterEnv(t)
			recs := e.records("sn", n)
			f := tc.fault(recs)
			f.Path = usage.Path
			e.fake.Inject(f)
			require.NoError(t, e.meter.Record(context.Background(), recs...))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := e.meter.Run(ctx)
			require.ErrorIs(t, err, usage.ErrStopped)
			assert.ErrorIs(t, err, koogallery.ErrPermission)
			assert.ErrorContains(t, err, tc.code)
			assert.ErrorContains(t, err, "illegal operation")
			assert.Len(t, e.fake.Requests(), 1, "one refused call: no retry, no narrowing down")

			st := e.stats(t)
			assert.Equal(t, n, st.Pending, "nothing is lost")
			assert.Zero(t, st.Leased, "the batch was put back")
			assert.Zero(t, st.Dead, "nothing is dead-lettered")
			assert.Empty(t, e.events.of(usage.EventDeadLettered))
			stops := e.events.of(usage.EventAuthStopped)
			require.Len(t, stops, 1)
			assert.Equal(t, n, stops[0].Records)
			assert.ErrorIs(t, stops[0].Err, koogallery.ErrPermission)
			c := e.meter.Counters()
			assert.Equal(t, uint64(1), c.AuthStops)
			assert.Zero(t, c.DeadLettered)
			assert.Contains(t, e.logs.String(), "usage: pusher stopped: illegal operation")

			// Stopped until Resume; then, the credentials fixed, everything
			// goes out.
			assert.ErrorIs(t, e.meter.Flush(ctx), usage.ErrStopped)
			assert.Len(t, e.fake.Requests(), 1)
			e.meter.Resume()
			e.flush(t)
			requireLedger(t, e.fake, recs)
		})
	}
}

// TestMeterDeadLettersRecordsNamedIllegal: an MKT.0150 answer that names
// some records of the push and not the others is about those records (the
// account may push the others): the named records become dead letters
// with the code, the others are sent, and the pusher goes on.
func TestMeterDeadLettersRecordsNamedIllegal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(recs []usage.Record) koogallerytest.Fault
	}{
		{"named by the push's refusal", func(recs []usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusUnauthorized, ContentType: "application/json", Body: naming("MKT.0150", "", recs[3:5])}
		}},
		{"reported abnormal with MKT.0150", func(recs []usage.Record) koogallerytest.Fault {
			return koogallerytest.Fault{Status: http.StatusOK, ContentType: "application/json", Body: naming("MKT.0000", "MKT.0150", recs[3:5])}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newMeterEnv(t)
			recs := e.records("sn", 10)
			f := tc.fault(recs)
			f.Path = usage.Path
			e.fake.Inject(f)
			require.NoError(t, e.meter.Record(context.Background(), recs...))
			e.flush(t)

			dls := e.deadLetters(t)
			require.Len(t, dls, 2)
			for i, d := range dls {
				assert.Equal(t, recs[3+i].MeteringSN, d.Record.MeteringSN)
				assert.Equal(t, "MKT.0150", d.Code)
				assert.Contains(t, d.Reason, "instance of another seller")
			}
			assert.Empty(t, e.events.of(usage.EventAuthStopped))
			assert.Zero(t, e.meter.Counters().AuthStops)
			kept := append(append([]usage.Record(nil), recs[:3]...), recs[5:]...)
			if f.Status == http.StatusOK {
				// The fault's acceptance stood in for KooGallery's: the
				// others were settled as sent without reaching the fake.
				assert.Empty(t, e.fake.UsageRecords())
				assert.Equal(t, usage.OutboxStats{Sent: 8, Dead: 2}, e.stats(t))
				return
			}
			requireLedger(t, e.fake, kept)
			assert.Equal(t, usage.OutboxStats{Sent: 8, Dead: 2}, e.stats(t))
		})
	}
}
