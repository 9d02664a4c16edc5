package usage_test

import (
	"testing"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
	"github.com/isvkit/koogallery/saas/usage"
)

func TestMemoryOutbox(t *testing.T) {
	t.Parallel()
	storetest.RunUsageOutbox(t, func(*testing.T) usage.Outbox { return usage.NewMemoryOutbox() })
}

// The proof run, on the memory outbox: concurrent producers, two pushers
// killed and restarted at random, a fake failing 30 % of calls, losing
// answers and throttling bursts; every record billed exactly once.
func TestMemoryOutboxSoak(t *testing.T) {
	t.Parallel()
	rep := storetest.SoakUsageOutbox(t, usage.NewMemoryOutbox(), storetest.SoakConfig{Records: 5000, Seed: 1})
	t.Log(rep)
	if rep.Kills == 0 || rep.Crashes == 0 || rep.Calls.Failed == 0 {
		t.Errorf("the soak did not exercise kills, crashes and failures: %v", rep)
	}
}
