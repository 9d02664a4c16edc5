package license_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

// BenchmarkUploadFile streams 32 MiB and 200 MiB files to the fake and
// reports, besides time and allocations, the peak growth of the heap in
// use while a file streams (sampled every 10 ms): the memory a streamed
// upload costs, whatever the file's size.
func BenchmarkUploadFile(b *testing.B) {
	for _, size := range []int64{32 << 20, 200 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			fake := koogallerytest.NewServer(koogallerytest.WithMaxUploadBytes(256 << 20))
			defer fake.Close()
			kg, err := fake.NewClient()
			if err != nil {
				b.Fatal(err)
			}
			c := license.NewClient(kg)
			b.SetBytes(size)
			b.ReportAllocs()
			var worst uint64
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				var peak atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					var ms runtime.MemStats
					for {
						select {
						case <-stop:
							return
						case <-time.After(10 * time.Millisecond):
						}
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}()
				_, err := c.UploadFile(context.Background(), "EV-BENCH", license.File{Name: "big.bin", Content: newPattern(size), Size: size})
				close(stop)
				wg.Wait()
				if err != nil {
					b.Fatal(err)
				}
				if p := peak.Load(); p > before.HeapInuse && p-before.HeapInuse > worst {
					worst = p - before.HeapInuse
				}
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
		})
	}
}
