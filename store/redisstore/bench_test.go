package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/redisstore"
)

// BenchmarkClaimComplete is the at-most-once round trip of one newInstance
// (Claim a new key, then Complete it), on Redis over loopback against the
// in-memory store as the baseline. One caller at a time: the latency a
// callback pays.
func BenchmarkClaimComplete(b *testing.B) {
	ctx := context.Background()
	rec := &store.Record{InstanceID: "instance-0123456789"}
	for _, bc := range benchStores(b) {
		i := 0 // keys stay new across the runs b.Run makes
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k := "newInstance/CS26112712000000001/" + strconv.Itoa(i)
				i++
				if _, ok, err := bc.s.Claim(ctx, k, 5*time.Minute); err != nil || !ok {
					b.Fatalf("Claim: %v %v", ok, err)
				}
				if err := bc.s.Complete(ctx, k, rec, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplayAdd is the replay check of one verified V2 callback.
func BenchmarkReplayAdd(b *testing.B) {
	ctx := context.Background()
	for _, bc := range benchStores(b) {
		i := 0 // keys stay new across the runs b.Run makes
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k := "1764232200000:0123456789abcdef" + strconv.Itoa(i)
				i++
				if added, err := bc.c.Add(ctx, k, 65*time.Second); err != nil || !added {
					b.Fatalf("Add: %v %v", added, err)
				}
			}
		})
	}
}

type benchStore struct {
	name string
	s    store.Store
	c    store.ReplayCache
}

func benchStores(b *testing.B) []benchStore {
	m := store.NewMemory(1 << 24)
	stores := []benchStore{{"baseline=memory", m, store.NewMemoryReplayCache(1 << 24)}}
	for _, name := range []string{"single", "cluster"} {
		s := mustNew(b, topology(b, name), redisstore.WithPrefix(uniquePrefix(b)))
		stores = append(stores, benchStore{"redis-" + name, s, s})
	}
	return stores
}
