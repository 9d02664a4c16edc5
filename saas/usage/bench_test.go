package usage_test

import (
	"context"
	"strconv"
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

// BenchmarkPushUsage measures a call of 10, 100 and 1,000 records (the
// most one call takes) against the fake (validation, encoding, body
// signature, AK/SK, HTTP, the fake's own checks), and reports the cost per
// record (ns/record).
func BenchmarkPushUsage(b *testing.B) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	c := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))
	for _, n := range []int{10, 100, 1000} {
		b.Run("records="+strconv.Itoa(n), func(b *testing.B) {
			recs := usageRecords(n, recent())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Push(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
