package koogallerytest

import (
	"testing"
	"time"

	"github.com/isvkit/koogallery/saas/usage"
)

// Two pushes carrying one record at the same time are counted as an
// overlap; one after the other are not.
func TestUsageLedgerCountsOverlaps(t *testing.T) {
	t.Parallel()
	l := newUsageLedger()
	recs := []usage.Record{{MeteringSN: "a"}, {MeteringSN: "b"}}
	now := time.Now()
	l.arrive(recs, now)
	l.arrive(recs[:1], now) // while the first is being answered
	l.leave(recs[:1])
	l.leave(recs)
	l.arrive(recs, now) // after both were answered
	l.leave(recs)
	if a, b := l.entries["a"], l.entries["b"]; a.Overlaps != 1 || b.Overlaps != 0 || a.Sends != 3 || b.Sends != 2 {
		t.Fatalf("a: %d overlaps, %d sends; b: %d overlaps, %d sends; want 1, 3 and 0, 2", a.Overlaps, a.Sends, b.Overlaps, b.Sends)
	}
	if len(l.inFlight) != 0 {
		t.Fatalf("%d records still in flight", len(l.inFlight))
	}
}
