package redisstore_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

// blackHole accepts connections and reads them, answering nothing, as a
// server behind a partition that drops packets does.
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

// A server that stops answering fails every operation of many concurrent
// callbacks in time for the handlers to answer 000005 within KooGallery's
// 5 s, though they queue for the client's connections, under the
// request's context (no deadline, as the handlers give Add) or the claim
// lease's (minutes by default). The client has the README's options.
func TestOperationsEndWhenTheServerStopsAnswering(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: blackHole(t), ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	s := mustNew(t, rdb)
	lease, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	const budget = 5 * time.Second // KooGallery's
	ops := []func() error{
		func() error { _, err := s.Add(context.Background(), "k", time.Minute); return err },
		func() error { _, _, err := s.Claim(lease, "k", 5*time.Minute); return err },
		func() error { return s.Complete(lease, "k", &store.Record{InstanceID: "i"}, time.Hour) },
		func() error { return s.Release(lease, "k") },
	}
	const n = 200 // ten times the client's pool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	failed := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := ops[i%len(ops)]()
			took := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, took)
			if err != nil {
				failed++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, n, failed)
	assert.Less(t, slowest, budget)
}
