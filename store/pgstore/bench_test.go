package pgstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// BenchmarkClaimComplete is the at-most-once round trip of one newInstance
// (Claim a new key, then Complete it) on PostgreSQL over loopback, durable
// (fsync and synchronous_commit on, as in production) and not, against the
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
		i := 0
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

var durable struct {
	pool *pgxpool.Pool
}

func benchStores(b *testing.B) []benchStore {
	stores := []benchStore{{"baseline=memory", store.NewMemory(1 << 24), store.NewMemoryReplayCache(1 << 24)}}
	s := newStore(b)
	stores = append(stores, benchStore{"postgres-fsync-off", s, s})

	mu.Lock()
	if durable.pool == nil {
		srv, err := pgtest.NewServer("", "fsync=on", "synchronous_commit=on", "full_page_writes=on")
		require.NoError(b, err)
		closers = append(closers, srv.Close)
		p, err := pgxpool.New(context.Background(), srv.URL)
		require.NoError(b, err)
		closers = append(closers, p.Close)
		durable.pool = p
	}
	p := durable.pool
	mu.Unlock()
	r, q := tables(b)
	require.NoError(b, pgstore.Migrate(context.Background(), p, pgstore.WithTables(r, q)))
	d := mustNew(b, p, pgstore.WithTables(r, q))
	return append(stores, benchStore{"postgres-durable", d, d})
}
