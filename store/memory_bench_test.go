package store_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/isvkit/koogallery/store"
)

// recordKeys returns n keys shaped like the SaaS handler's
// ("newInstance/<orderId>/<orderLineId>", 55 bytes).
func recordKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("newInstance/CS2611271200%07d/CS2611271200%07d-000001", i, i)
	}
	return keys
}

// nonceKeys returns n keys shaped like the V2 replay cache's
// ("<timestamp>:<32-hex nonce>", 46 bytes).
func nonceKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("1764232200000:%032x", uint64(i)*0x9e3779b97f4a7c15)
	}
	return keys
}

// BenchmarkClaimComplete is the at-most-once round trip of a newInstance:
// Claim a new key, Complete it with a keep longer than the lease, as the
// handlers do. Records are kept 20 ms, so that at about a microsecond a
// round the store holds some 20,000 of them and drops one expired record per
// round, as a busy store does.
func BenchmarkClaimComplete(b *testing.B) {
	const n = 1 << 18
	keys := recordKeys(n)
	rec := &store.Record{InstanceID: "instance-0123456789"}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		s    store.Store
	}{
		{"memory", store.NewMemory(n)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := keys[i%n]
				i++
				if _, _, err := bc.s.Claim(ctx, k, 10*time.Millisecond); err != nil {
					b.Fatal(err)
				}
				if err := bc.s.Complete(ctx, k, rec, 20*time.Millisecond); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplayAdd is the V2 replay check of one verified callback: Add a
// new nonce key with the window's ttl, the cache at its steady size.
func BenchmarkReplayAdd(b *testing.B) {
	const n = 1 << 16
	keys := nonceKeys(4 * n)
	ctx := context.Background()
	var tick time.Duration
	clock := func() time.Time { tick += time.Microsecond; return time.Unix(0, 0).Add(tick) }
	c := store.NewMemoryReplayCache(n, store.WithClock(clock))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A microsecond per call and a ttl of n/2 microseconds keep about
		// n/2 keys live: the cache drops one expired key per Add.
		if _, err := c.Add(ctx, keys[i%len(keys)], n/2*time.Microsecond); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMemoryAtBound fills a Memory with 100,000 records and a
// MemoryReplayCache with 65,536 keys (the handlers' default bounds) and
// reports the heap they hold: store-B/entry is the store's own cost, and
// total-B/entry adds the bytes of the keys (and InstanceIDs) it keeps alive.
// Run with -benchtime 1x.
func BenchmarkMemoryAtBound(b *testing.B) {
	ctx := context.Background()
	b.Run("Memory/100000", func(b *testing.B) {
		for b.Loop() {
			measure(b, store.DefaultMemoryRecords, recordKeys, func(keys []string) any {
				m := store.NewMemory(len(keys))
				for i, k := range keys {
					if _, _, err := m.Claim(ctx, k, time.Hour); err != nil {
						b.Fatal(err)
					}
					// A 36-byte InstanceID of its own, like a UUID.
					id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
					if err := m.Complete(ctx, k, &store.Record{InstanceID: id}, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				return m
			})
		}
	})
	b.Run("MemoryReplayCache/65536", func(b *testing.B) {
		for b.Loop() {
			measure(b, store.DefaultMemoryReplayEntries, nonceKeys, func(keys []string) any {
				c := store.NewMemoryReplayCache(len(keys))
				for _, k := range keys {
					if _, err := c.Add(ctx, k, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				return c
			})
		}
	})
}

func measure(b *testing.B, n int, mkKeys func(int) []string, fill func([]string) any) {
	before := heapInUse()
	keys := mkKeys(n)
	withKeys := heapInUse()
	s := fill(keys)
	keys = nil
	after := heapInUse()
	runtime.KeepAlive(s)
	keyBytes := float64(withKeys - before)
	// The key slice itself (16 bytes a key) is garbage once filled.
	keyBytes -= float64(16 * n)
	total := float64(after - before)
	b.ReportMetric((total-keyBytes)/float64(n), "store-B/entry")
	b.ReportMetric(total/float64(n), "total-B/entry")
	b.ReportMetric(total/(1<<20), "heap-MiB")
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
