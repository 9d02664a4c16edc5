package saas_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/store"
)

// fillKeys are the keys BenchmarkNewInstanceAtBound fills a handler's
// replay cache and store with, shaped like the handler's own (a timestamp
// and a 32-digit nonce; newInstance/<orderId>/<orderLineId>) and never equal
// to a call's; made once.
var fillKeys = sync.OnceValues(func() (nonces, records []string) {
	nonces = make([]string, store.DefaultMemoryReplayEntries-benchtest.Round)
	for i := range nonces {
		nonces[i] = fmt.Sprintf("1764232200000:%032x", uint64(i)*0x9e3779b97f4a7c15)
	}
	records = make([]string, store.DefaultMemoryRecords-benchtest.Round)
	for i := range records {
		records[i] = fmt.Sprintf("newInstance/FILL2611271200%07d/FILL2611271200%07d-000001", i, i)
	}
	return nonces, records
})

// BenchmarkNewInstanceAtBound serves V2 newInstance calls as
// BenchmarkNewInstancePresigned does, through a handler whose default-sized
// replay cache and store (store.NewMemoryReplayCache, store.NewMemory) start
// either empty or filled, outside the timer, to their default bounds less
// the round of calls the handler then serves: full, the round ends exactly
// at the bounds, none refused. The ratio full/empty is what a busy
// process's caches cost each call.
func BenchmarkNewInstanceAtBound(b *testing.B) {
	ctx := context.Background()
	rec := &store.Record{InstanceID: "2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f"}
	for _, full := range []bool{false, true} {
		name := "caches=empty"
		if full {
			name = "caches=full"
		}
		fresh := func() http.Handler {
			rc, st := store.NewMemoryReplayCache(store.DefaultMemoryReplayEntries), store.NewMemory(store.DefaultMemoryRecords)
			if full {
				nonces, records := fillKeys()
				for _, k := range nonces {
					if _, err := rc.Add(ctx, k, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				for _, k := range records {
					if _, _, err := st.Claim(ctx, k, time.Hour); err != nil {
						b.Fatal(err)
					}
					if err := st.Complete(ctx, k, rec, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
			}
			return saas.NewHandler(accessKey, benchProvider{}, callback.WithLogger(slog.New(slog.DiscardHandler)),
				callback.WithReplayCache(rc), callback.WithStore(st, 0))
		}
		b.Run(name, func(b *testing.B) {
			benchtest.Serve(b, presignNewInstances, fresh)
		})
	}
}
