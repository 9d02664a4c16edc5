package pgstore_test

import (
	"flag"
	"testing"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
)

var usageSoakRecords = flag.Int("usage-soak-records", 5000,
	"records of TestUsageOutboxSoak, the metering proof run (100000 for the full run)")

// TestUsageOutboxSoak is the proof run of usage metering on PostgreSQL:
// concurrent producers, two pushers on one outbox killed and restarted at
// random, a fake KooGallery failing 30 % of calls, losing answers and
// throttling bursts. Every record must be billed exactly once, nothing
// left pending, the abnormal records dead letters with their reasons. The
// full run:
//
//	go test -run TestUsageOutboxSoak -usage-soak-records 100000 -v .
func TestUsageOutboxSoak(t *testing.T) {
	cfg := storetest.SoakConfig{Records: *usageSoakRecords, Seed: 20261201}
	if cfg.Records > 10000 {
		cfg.ProduceOver = -1 // as fast as the outbox takes them
	}
	rep := storetest.SoakUsageOutbox(t, newUsageOutbox(t), cfg)
	t.Log(rep)
	if rep.Kills == 0 || rep.Crashes == 0 || rep.Calls.Failed == 0 {
		t.Errorf("the run did not exercise kills, crashes and failures: %v", rep)
	}
}
