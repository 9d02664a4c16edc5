package usage_test

import (
	"context"
	"testing"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// BenchmarkEncodeUsage1000 measures the canonical body of a full call.
func BenchmarkEncodeUsage1000(b *testing.B) {
	recs := usageRecords(1000, recent())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := usage.Encode(recs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPushUsage1000 measures a full call of 1,000 records against the
// fake (validation, encoding, body signature, AK/SK, HTTP, the fake's own
// checks).
func BenchmarkPushUsage1000(b *testing.B) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	c := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))
	recs := usageRecords(1000, recent())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Push(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
}
