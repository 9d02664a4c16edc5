package pgstore_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

// blackHole accepts connections and reads them, answering nothing, as a
// database behind a partition that drops packets does.
func blackHole(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// A database that stops answering fails every operation in time for the
// handler to answer 000005 within KooGallery's 5 s, even under a context
// with no deadline (the request's, which the handlers give Add) or a later
// one.
func TestOperationsEndWhenTheDatabaseStopsAnswering(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+blackHole(t)+"/postgres?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := mustNew(t, pool)
	late, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	const budget = 5 * time.Second // KooGallery's
	for name, op := range map[string]func(context.Context) error{
		"Add": func(ctx context.Context) error { _, err := s.Add(ctx, "k", time.Minute); return err },
		"Claim": func(ctx context.Context) error {
			_, _, err := s.Claim(ctx, "k", time.Minute)
			return err
		},
		"Complete": func(ctx context.Context) error {
			return s.Complete(ctx, "k", &store.Record{InstanceID: "i"}, time.Minute)
		},
		"Release": func(ctx context.Context) error { return s.Release(ctx, "k") },
	} {
		for cname, ctx := range map[string]context.Context{"no deadline": context.Background(), "a minute": late} {
			t.Run(name+", "+cname, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				err := op(ctx)
				took := time.Since(start)
				require.Error(t, err)
				assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
				assert.Less(t, took, budget)
			})
		}
	}
}
