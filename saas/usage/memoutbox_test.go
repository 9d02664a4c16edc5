package usage_test

import (
	"testing"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

func TestMemoryOutbox(t *testing.T) {
	t.Parallel()
	koogallerytest.TestUsageOutbox(t, func(*testing.T) usage.Outbox { return usage.NewMemoryOutbox() })
}
