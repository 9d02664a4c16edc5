package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/store/redisstore"
)

func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  "redis.internal:6379",
		ContextTimeoutEnabled: true, // a cancelled call returns at once
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	})
	s, err := redisstore.New(rdb, redisstore.WithPrefix("prod:koogallery:"))
	if err != nil {
		slog.Error("redis", "err", err) // an invalid option: refuse to start
		return
	}
	_ = s // callback.WithStore(s, saas.DefaultKeep), callback.WithReplayCache(s)
}

// New refuses an invalid option with an error, sending nothing.
func ExampleNew_invalidOption() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer rdb.Close()
	_, err := redisstore.New(rdb, redisstore.WithWait(1, 0))
	fmt.Println(err)
	// Output: redisstore: new: WithWait(1, 0s): the timeout is not positive; want a positive timeout (a few hundred milliseconds) when waiting for replicas
}

// Sentinel, with every write acknowledged by the replica before it counts.
func ExampleNew_sentinel() {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "koogallery",
		SentinelAddrs:         []string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	})
	s, err := redisstore.New(rdb, redisstore.WithWait(1, 300*time.Millisecond))
	if err != nil {
		slog.Error("redis", "err", err)
		return
	}
	_ = s
}

func ExampleNew_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"redis-1:6379", "redis-2:6379", "redis-3:6379"},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	})
	s, err := redisstore.New(rdb)
	if err != nil {
		slog.Error("redis", "err", err)
		return
	}
	_ = s
}

// Check the Redis at start: refuse to run on one that may evict keys, and
// log what threatens durability.
func ExampleCheckServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", ContextTimeoutEnabled: true})
	report, err := redisstore.CheckServer(ctx, rdb)
	if errors.Is(err, redisstore.ErrEvictingPolicy) {
		// "… has maxmemory-policy volatile-lru: set maxmemory-policy noeviction …"
		slog.Error("Redis cannot keep calls exactly-once", "err", err)
		return
	}
	if err != nil {
		slog.Error("Redis check failed", "err", err)
		return
	}
	for _, w := range report.Warnings { // e.g. persistence off
		slog.Warn(w)
	}
}

// Open checks the server before returning the store.
func ExampleOpen() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", ContextTimeoutEnabled: true})
	s, report, err := redisstore.Open(ctx, rdb, redisstore.WithPrefix("prod:koogallery:"))
	if err != nil {
		slog.Error("redis", "err", err) // refuse to start
		return
	}
	for _, w := range report.Warnings {
		slog.Warn(w)
	}
	_ = s // callback.WithStore(s, saas.DefaultKeep), callback.WithReplayCache(s)
}
