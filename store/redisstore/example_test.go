package redisstore_test

import (
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
	s := redisstore.New(rdb, redisstore.WithPrefix("prod:koogallery:"))
	_ = s // saas.WithStore(s, saas.DefaultKeep), saas.WithReplayCache(s)
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
	s := redisstore.New(rdb, redisstore.WithWait(1, 300*time.Millisecond))
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
	s := redisstore.New(rdb)
	_ = s
}
