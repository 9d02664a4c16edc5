package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// modelEntry is what a Memory must hold for a key, by the contract alone.
type modelEntry struct {
	rec     Record
	claimed bool
	expires time.Duration
}

// TestMemoryAgainstModel runs random operations on a small Memory and
// MemoryReplayCache and checks every answer against a model of the
// contract with the no-forgetting bound: a key that needs an entry gets one
// if it is live or fewer than max other keys are live, and ErrFull
// otherwise. After each step it checks the heap and index invariants.
func TestMemoryAgainstModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
			var now time.Duration
			clock := func() time.Time { return time.Unix(0, 0).Add(now) }
			const max = 8
			m := NewMemory(max, WithClock(clock))
			c := NewMemoryReplayCache(max, WithClock(clock))
			model := map[string]*modelEntry{}
			replay := map[string]time.Duration{}
			ctx := context.Background()

			liveOthers := func(key string) int {
				n := 0
				for k, e := range model {
					if k != key && now < e.expires {
						n++
					}
				}
				return n
			}
			for step := range 5000 {
				key := fmt.Sprint("k", rng.IntN(20))
				d := time.Duration(1+rng.IntN(100)) * time.Millisecond
				e := model[key]
				live := e != nil && now < e.expires
				switch op := rng.IntN(10); {
				case op < 4:
					rec, ok, err := m.Claim(ctx, key, d)
					switch {
					case live && e.claimed:
						if err != nil || ok || rec != nil {
							t.Fatalf("step %d: Claim(%s) of a live claim = %v %v %v", step, key, rec, ok, err)
						}
					case live:
						if err != nil || ok || rec == nil || *rec != e.rec {
							t.Fatalf("step %d: Claim(%s) of a live record %+v = %v %v %v", step, key, e.rec, rec, ok, err)
						}
					case liveOthers(key) >= max:
						if !errors.Is(err, ErrFull) || ok {
							t.Fatalf("step %d: Claim(%s) with %d live keys = %v %v, want ErrFull", step, key, max, ok, err)
						}
					default:
						if err != nil || !ok || rec != nil {
							t.Fatalf("step %d: Claim(%s) of a free key = %v %v %v", step, key, rec, ok, err)
						}
						model[key] = &modelEntry{claimed: true, expires: now + d}
					}
				case op < 7:
					r := Record{InstanceID: fmt.Sprint("i", step), Pending: rng.IntN(2) == 0}
					err := m.Complete(ctx, key, &r, d)
					if !live && liveOthers(key) >= max {
						if !errors.Is(err, ErrFull) {
							t.Fatalf("step %d: Complete(%s) with %d live keys = %v, want ErrFull", step, key, max, err)
						}
						break
					}
					if err != nil {
						t.Fatalf("step %d: Complete(%s) = %v", step, key, err)
					}
					model[key] = &modelEntry{rec: r, expires: now + d}
				case op < 8:
					if err := m.Release(ctx, key); err != nil {
						t.Fatalf("step %d: Release(%s) = %v", step, key, err)
					}
					if e != nil && e.claimed {
						delete(model, key)
					}
				default:
					added, err := c.Add(ctx, key, d)
					exp, seen := replay[key]
					liveNonces := 0
					for k, x := range replay {
						if k != key && now < x {
							liveNonces++
						}
					}
					switch {
					case seen && now < exp:
						if err != nil || added {
							t.Fatalf("step %d: Add(%s) of a live key = %v %v", step, key, added, err)
						}
					case liveNonces >= max:
						if !errors.Is(err, ErrFull) {
							t.Fatalf("step %d: Add(%s) with %d live keys = %v %v, want ErrFull", step, key, max, added, err)
						}
					default:
						if err != nil || !added {
							t.Fatalf("step %d: Add(%s) of a free key = %v %v", step, key, added, err)
						}
						replay[key] = now + d
					}
				}
				now += time.Duration(rng.IntN(20)) * time.Millisecond
				checkTable(t, &m.t)
				checkTable(t, &c.t)
			}
		})
	}
}

func checkTable[V any](t *testing.T, tb *table[V]) {
	t.Helper()
	if len(tb.index) > tb.max || len(tb.slots) != len(tb.index)+len(tb.free) {
		t.Fatalf("sizes: index %d slots %d free %d max %d", len(tb.index), len(tb.slots), len(tb.free), tb.max)
	}
	if len(tb.heap) > 2*len(tb.index)+64+1 {
		t.Fatalf("heap of %d items for %d entries: stale items are not compacted", len(tb.heap), len(tb.index))
	}
	covered := map[int32]bool{}
	for p, h := range tb.heap {
		if p > 0 && tb.heap[(p-1)/4].key > h.key {
			t.Fatalf("heap order broken at %d", p)
		}
		if s := tb.slots[h.slot]; s.gen == h.gen && h.key <= s.expires {
			covered[h.slot] = true
		}
	}
	for k, i := range tb.index {
		if tb.slots[i].key != k {
			t.Fatalf("index %q points at slot %d holding %q", k, i, tb.slots[i].key)
		}
		if !covered[i] {
			t.Fatalf("entry %q has no heap item at or before its expiry: it could expire unseen", k)
		}
	}
}

// Claims released long before their lease leave stale heap items; the heap
// is rebuilt before they outnumber the live entries, and every live entry
// still expires on time.
func TestMemoryCompactsStaleItems(t *testing.T) {
	var now time.Duration
	clock := func() time.Time { return time.Unix(0, 0).Add(now) }
	m := NewMemory(1000, WithClock(clock))
	ctx := context.Background()
	for i := range 10 {
		if err := m.Complete(ctx, fmt.Sprint("live", i), &Record{InstanceID: "x"}, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	maxHeap := 0
	for i := range 100_000 {
		k := fmt.Sprint("failing", i%50)
		if _, ok, err := m.Claim(ctx, k, time.Hour); err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", k, ok, err)
		}
		if err := m.Release(ctx, k); err != nil {
			t.Fatal(err)
		}
		maxHeap = max(maxHeap, len(m.t.heap))
		if i%1000 == 0 {
			checkTable(t, &m.t)
		}
	}
	if maxHeap > 2*10+64+1 {
		t.Fatalf("heap reached %d items for 10 live entries", maxHeap)
	}
	for i := range 10 {
		now = time.Duration(i+1) * time.Minute
		m.mu.Lock()
		m.t.dropExpired(m.t.now(), 100)
		m.mu.Unlock()
		if got, want := m.Len(), 10-(i+1); got != want {
			t.Fatalf("at %v: %d entries, want %d", now, got, want)
		}
	}
}
