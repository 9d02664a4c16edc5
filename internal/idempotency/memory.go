package idempotency

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store. It holds at most max records, forgetting
// the oldest first, and drops records once they expire. Claims are not
// counted against max: there are at most as many as operations in flight.
type Memory[R any] struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]*memEntry[R]
	records list.List // of *memEntry[R] holding records, oldest first
}

type memEntry[R any] struct {
	key     string
	rec     *R // nil while claimed
	expires time.Time
	elem    *list.Element // in records, when rec != nil
}

// NewMemory returns a Memory holding at most size records (at least 1).
func NewMemory[R any](size int) *Memory[R] {
	return &Memory[R]{max: max(size, 1), now: time.Now, entries: make(map[string]*memEntry[R])}
}

// Claim implements Store.
func (m *Memory[R]) Claim(_ context.Context, key string, lease time.Duration) (*R, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.dropExpired(now)
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
	m.entries[key] = &memEntry[R]{key: key, expires: now.Add(lease)}
	return nil, true, nil
}

// Complete implements Store.
func (m *Memory[R]) Complete(_ context.Context, key string, r *R, keep time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil {
		e = &memEntry[R]{key: key}
		m.entries[key] = e
	}
	v := *r
	e.rec = &v
	e.expires = m.now().Add(keep)
	if e.elem != nil {
		m.records.MoveToBack(e.elem)
	} else {
		e.elem = m.records.PushBack(e)
	}
	for m.records.Len() > m.max {
		m.remove(m.records.Front().Value.(*memEntry[R]))
	}
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

// Len returns the number of keys held, claims included.
func (m *Memory[R]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// dropExpired drops expired records from the old end. Records are kept for
// the same duration by any one Group, so the oldest expire first; a record
// kept shorter behind a longer one is still refused by Claim's own check.
func (m *Memory[R]) dropExpired(now time.Time) {
	for f := m.records.Front(); f != nil; f = m.records.Front() {
		e := f.Value.(*memEntry[R])
		if now.Before(e.expires) {
			return
		}
		m.remove(e)
	}
}

func (m *Memory[R]) remove(e *memEntry[R]) {
	if e.elem != nil {
		m.records.Remove(e.elem)
		e.elem = nil
	}
	if m.entries[e.key] == e {
		delete(m.entries, e.key)
	}
}
