package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isvkit/koogallery/store"
)

// The ReplayCache cases of RunReplayCache.

func add(t *testing.T, c store.ReplayCache, key string, ttl time.Duration) bool {
	t.Helper()
	ok, err := c.Add(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("Add(%s): %v", keyName(key), err)
	}
	return ok
}

func replayAddThenRefuse(t *testing.T, c store.ReplayCache, k string) {
	if !add(t, c, k+"a", storeLong) {
		t.Fatal("Add of a new key reported it was not new")
	}
	for i := range 3 {
		if add(t, c, k+"a", storeLong) {
			t.Fatalf("Add #%d of a key added just now reported it new: a replay would be accepted", i+2)
		}
	}
	if !add(t, c, k+"b", storeLong) {
		t.Fatal("Add of another new key reported it was not new")
	}
}

func replayOneWinner(t *testing.T, c store.ReplayCache, k string) {
	key := k + "storm"
	var (
		wins, seen atomic.Int64
		start      = make(chan struct{})
		wg         sync.WaitGroup
	)
	for range storeClaimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := c.Add(context.Background(), key, storeLong)
			switch {
			case err != nil:
				t.Errorf("concurrent Add: %v", err)
			case ok:
				wins.Add(1)
			default:
				seen.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || seen.Load() != storeClaimers-1 {
		t.Fatalf("%d concurrent Adds of one key: %d reported it new and %d seen; want exactly 1 new",
			storeClaimers, wins.Load(), seen.Load())
	}
}

func replayExpiry(t *testing.T, c store.ReplayCache, k string) {
	if !add(t, c, k+"short", storeShort) || !add(t, c, k+"long", storeLong) {
		t.Fatal("Add of a new key reported it was not new")
	}
	if add(t, c, k+"short", storeShort) {
		t.Fatal("Add right after an Add with a 2 s ttl reported the key new")
	}
	time.Sleep(storeShort + storeExpiryMargin)
	if !add(t, c, k+"short", storeShort) {
		t.Fatal("Add of a key whose 2 s ttl ran out 2 s ago reported it was not new")
	}
	if add(t, c, k+"short", storeShort) {
		t.Fatal("Add right after re-adding an expired key reported it new")
	}
	if add(t, c, k+"long", storeLong) {
		t.Fatal("a key with a 5-minute ttl was forgotten after 4 s")
	}
}

func replayContextCancelled(t *testing.T, c store.ReplayCache, k string) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	checkCancelled(t, cancelled, "cancelled", "Add", func() error {
		_, err := c.Add(cancelled, k+"x", storeLong)
		return err
	})
	checkCancelled(t, expired, "past deadline", "Add", func() error {
		_, err := c.Add(expired, k+"y", storeLong)
		return err
	})
	if !add(t, c, k+"after", storeLong) {
		t.Fatal("Add of a new key after cancelled calls reported it was not new")
	}
}

func replayManyDistinctKeys(t *testing.T, c store.ReplayCache, k string) {
	similar := []string{"1:a", "1:A", "1:a ", "1:a/", "11:a", "1:1a", ":1a", "1a:"}
	for _, sk := range similar {
		if !add(t, c, k+sk, storeLong) {
			t.Fatalf("Add(%q) reported a new key as seen: it collides with a similar key", sk)
		}
	}
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < storeManyKeys; i += workers {
				ok, err := c.Add(context.Background(), fmt.Sprintf("%smany:%d", k, i), storeLong)
				if err != nil || !ok {
					t.Errorf("Add of new key %d = (%v, %v), want (true, nil)", i, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range storeManyKeys {
		if add(t, c, fmt.Sprintf("%smany:%d", k, i), storeLong) {
			t.Fatalf("key %d of %d was forgotten", i, storeManyKeys)
		}
	}
}

func replayLongKeys(t *testing.T, c store.ReplayCache, k string) {
	keys := longKeys(k)
	for _, key := range keys {
		if !add(t, c, key, storeLong) {
			t.Fatalf("a new 512-byte key reported seen (collision with a similar one?)")
		}
	}
	for _, key := range keys {
		if add(t, c, key, storeLong) {
			t.Fatal("a 512-byte key was forgotten")
		}
	}
}
