package idempotency

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/isvkit/koogallery/store"
)

// Memory is an in-process Store holding at most max keys, claims and
// records alike. It never forgets a key before its lease or keep runs out:
// when full it drops expired keys, and if none has expired, Claim refuses
// with store.ErrFull (the handler answers a retryable 000005) rather than
// forget a record and run an operation twice. Complete replaces a claim in
// place, so finishing an operation that was allowed to start never fails.
type Memory[R any] struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]*memEntry[R]
	expiry  expiryHeap[R]
}

type memEntry[R any] struct {
	key     string
	rec     *R // nil while claimed
	expires time.Time
	index   int // in expiry
}

// NewMemory returns a Memory holding at most size keys (at least 1).
func NewMemory[R any](size int) *Memory[R] {
	return &Memory[R]{max: max(size, 1), now: time.Now, entries: make(map[string]*memEntry[R])}
}

// Claim implements Store.
func (m *Memory[R]) Claim(_ context.Context, key string, lease time.Duration) (*R, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e := m.entries[key]; e != nil {
		if now.Before(e.expires) {
			if e.rec == nil {
				return nil, false, nil
			}
			r := *e.rec
			return &r, false, nil
		}
		m.remove(e)
	}
	if len(m.entries) >= m.max {
		m.dropExpired(now)
		if len(m.entries) >= m.max {
			return nil, false, store.ErrFull
		}
	}
	m.insert(&memEntry[R]{key: key, expires: now.Add(lease)})
	return nil, true, nil
}

// Complete implements Store.
func (m *Memory[R]) Complete(_ context.Context, key string, r *R, keep time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	v := *r
	if e := m.entries[key]; e != nil {
		e.rec, e.expires = &v, now.Add(keep)
		heap.Fix(&m.expiry, e.index)
		return nil
	}
	if len(m.entries) >= m.max {
		m.dropExpired(now)
		if len(m.entries) >= m.max {
			return store.ErrFull
		}
	}
	m.insert(&memEntry[R]{key: key, rec: &v, expires: now.Add(keep)})
	return nil
}

// Release implements Store.
func (m *Memory[R]) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[key]; e != nil && e.rec == nil {
		m.remove(e)
	}
	return nil
}

// Len returns the number of keys held, claims and expired keys not yet
// dropped included.
func (m *Memory[R]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *Memory[R]) insert(e *memEntry[R]) {
	m.entries[e.key] = e
	heap.Push(&m.expiry, e)
}

func (m *Memory[R]) remove(e *memEntry[R]) {
	heap.Remove(&m.expiry, e.index)
	delete(m.entries, e.key)
}

// dropExpired drops every key whose lease or keep has run out, soonest
// first.
func (m *Memory[R]) dropExpired(now time.Time) {
	for len(m.expiry) > 0 && !now.Before(m.expiry[0].expires) {
		m.remove(m.expiry[0])
	}
}

type expiryHeap[R any] []*memEntry[R]

func (h expiryHeap[R]) Len() int           { return len(h) }
func (h expiryHeap[R]) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap[R]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap[R]) Push(x any) {
	e := x.(*memEntry[R])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap[R]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
