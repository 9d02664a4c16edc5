package usage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
)

// TestPushLegacyIsNotRetriedAfterItMayHaveArrived: the old API has no
// metering_sn, so a push KooGallery may have received is never sent again
// (it could be counted twice); a throttled one, refused unrun, is.
func TestPushLegacyIsNotRetriedAfterItMayHaveArrived(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	fake.Inject(koogallerytest.Unavailable())
	records := usageRecords(2, recent())
	for i := range records {
		records[i].ProductID = "OFFI1"
	}
	_, err := c.PushLegacy(context.Background(), records)
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Len(t, fake.Requests(), 1)
	assert.Empty(t, fake.UsageRecords())

	fake.Inject(koogallerytest.Throttled())
	_, err = c.PushLegacy(context.Background(), records)
	require.NoError(t, err)
	assert.Len(t, fake.Requests(), 3)
	assert.Len(t, fake.UsageRecords(), 2)
}
