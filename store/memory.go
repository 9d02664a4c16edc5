package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMemoryRecords and DefaultMemoryReplayEntries are the bounds the
// handlers give their default in-memory Store and ReplayCache.
const (
	DefaultMemoryRecords       = 100_000
	DefaultMemoryReplayEntries = 1 << 16
)

// MemoryOption configures NewMemory and NewMemoryReplayCache.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	clock func() time.Time
}

// WithClock makes the store read time from now instead of time.Now (nil
// means time.Now). Handlers give their default store their own clock, so
// that a test clock moves the freshness window and the store's expiry
// together.
func WithClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) { c.clock = now }
}

func memoryOptions(opts []MemoryOption) memoryConfig {
	var c memoryConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Memory is an in-process Store, safe for concurrent use. It holds at most
// its bound of keys, claims and records alike. It never evicts a claim
// inside its lease or a record inside its keep: at the bound an expired
// entry makes room, and if none has expired, Claim (and Complete of a key it
// does not hold) fails with ErrFull.
//
// A Memory is shared by nothing outside its process and is empty after a
// restart: it gives at-most-once within one process's lifetime only. Use a
// shared Store (the redisstore and pgstore modules) for several replicas or
// to survive restarts.
type Memory struct {
	mu sync.Mutex
	t  table[memRecord]
}

type memRecord struct {
	rec     Record
	claimed bool
}

// NewMemory returns a Memory holding at most maxRecords keys
// (DefaultMemoryRecords if maxRecords < 1). A record costs about 130 bytes
// plus its key and InstanceID: 100,000 records with 55-byte keys and
// 36-byte InstanceIDs hold 23 MiB of heap.
func NewMemory(maxRecords int, opts ...MemoryOption) *Memory {
	if maxRecords < 1 {
		maxRecords = DefaultMemoryRecords
	}
	return &Memory{t: newTable[memRecord](maxRecords, memoryOptions(opts).clock)}
}

// Claim implements Store.
func (m *Memory) Claim(ctx context.Context, key string, lease time.Duration) (*Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("store: claim: %w", err)
	}
	if lease <= 0 {
		return nil, false, fmt.Errorf("store: claim: lease %v is not positive", lease)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.t.now()
	m.t.dropExpired(now, 2)
	if i, ok := m.t.index[key]; ok {
		if m.t.live(i, now) {
			s := &m.t.slots[i].val
			if s.claimed {
				return nil, false, nil
			}
			r := s.rec
			return &r, false, nil
		}
		m.t.slots[i].val = memRecord{claimed: true}
		m.t.setExpires(i, after(now, lease))
		return nil, true, nil
	}
	if !m.t.insert(key, memRecord{claimed: true}, after(now, lease), now) {
		return nil, false, ErrFull
	}
	return nil, true, nil
}

// Complete implements Store. It keeps a copy of *r.
func (m *Memory) Complete(ctx context.Context, key string, r *Record, keep time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: complete: %w", err)
	}
	if r == nil {
		return fmt.Errorf("store: complete: nil record")
	}
	if keep <= 0 {
		return fmt.Errorf("store: complete: keep %v is not positive", keep)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.t.now()
	v := memRecord{rec: *r}
	if i, ok := m.t.index[key]; ok {
		m.t.slots[i].val = v
		m.t.setExpires(i, after(now, keep))
		m.t.compact()
		return nil
	}
	if !m.t.insert(key, v, after(now, keep), now) {
		return ErrFull
	}
	return nil
}

// Release implements Store.
func (m *Memory) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: release: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.t.index[key]; ok && m.t.slots[i].val.claimed {
		m.t.remove(i)
		m.t.compact()
	}
	return nil
}

// Len returns the number of keys held, claims and expired entries not yet
// dropped included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.t.index)
}

// MemoryReplayCache is an in-process ReplayCache, safe for concurrent use.
// It never forgets a key inside its ttl: at its bound an expired key makes
// room, and if none has expired, Add fails with ErrFull (the handler then
// answers a retryable 000005 rather than accept a call it cannot check).
//
// Like Memory it protects one process only: a replay sent to another
// replica, or after a restart, is not recognised. Use a shared ReplayCache
// for several replicas.
type MemoryReplayCache struct {
	mu sync.Mutex
	t  table[struct{}]
}

// NewMemoryReplayCache returns a MemoryReplayCache holding at most
// maxEntries keys (DefaultMemoryReplayEntries if maxEntries < 1). A key
// costs about 110 bytes plus itself: 65,536 46-byte nonce keys hold 10 MiB
// of heap.
func NewMemoryReplayCache(maxEntries int, opts ...MemoryOption) *MemoryReplayCache {
	if maxEntries < 1 {
		maxEntries = DefaultMemoryReplayEntries
	}
	return &MemoryReplayCache{t: newTable[struct{}](maxEntries, memoryOptions(opts).clock)}
}

// Add implements ReplayCache.
func (c *MemoryReplayCache) Add(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: replay add: %w", err)
	}
	if ttl <= 0 {
		return false, fmt.Errorf("store: replay add: ttl %v is not positive", ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t.now()
	c.t.dropExpired(now, 2)
	if i, ok := c.t.index[key]; ok {
		if c.t.live(i, now) {
			return false, nil
		}
		c.t.setExpires(i, after(now, ttl))
		return true, nil
	}
	if !c.t.insert(key, struct{}{}, after(now, ttl), now) {
		return false, ErrFull
	}
	return true, nil
}

// Len returns the number of keys held, expired ones not yet dropped
// included.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.t.index)
}

var (
	_ Store       = (*Memory)(nil)
	_ ReplayCache = (*MemoryReplayCache)(nil)
)
