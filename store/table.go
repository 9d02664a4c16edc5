package store

import (
	"math"
	"time"
)

// table is the bounded key → value map with per-key expiry behind Memory
// and MemoryReplayCache. Entries live in a slab (slots) indexed by a map; a
// 4-ary min-heap of (expiry, slot) finds the expired ones. Freed slots are
// recycled, so the steady state allocates nothing: the map, the slab and the
// heap grow to the bound and stay.
//
// The heap is lazy, which keeps it to contiguous memory and the common
// operations to O(1):
//   - a heap key is never later than its entry's expiry, so no expired
//     entry hides behind a live one;
//   - extending an expiry (a claim completed with a keep longer than its
//     lease, an expired key taken again) leaves the heap alone: when the old
//     key surfaces, the entry is found live and re-keyed;
//   - a removed entry's heap items go stale (its slot's generation moved
//     on) and are discarded when they surface, or when stale items
//     outnumber live entries and the heap is rebuilt.
//
// table is not safe for concurrent use; its owner holds a lock.
type table[V any] struct {
	max   int
	base  time.Time
	clock func() time.Time
	index map[string]int32
	slots []slot[V]
	free  []int32
	heap  []heapItem
}

type slot[V any] struct {
	key     string
	val     V
	expires int64 // nanoseconds since base; the entry is live while now < expires
	gen     uint32
}

type heapItem struct {
	key  int64 // at most slots[slot].expires while gen matches
	slot int32
	gen  uint32
}

// maxEntries caps a bound so that slot indexes fit in int32.
const maxEntries = math.MaxInt32

func newTable[V any](max int, clock func() time.Time) table[V] {
	if clock == nil {
		clock = time.Now
	}
	return table[V]{
		max:   min(max, maxEntries),
		base:  clock(),
		clock: clock,
		index: make(map[string]int32),
	}
}

// now reads the clock as nanoseconds since base. With time.Now both readings
// carry the monotonic clock, so a wall-clock step changes no expiry.
func (t *table[V]) now() int64 { return int64(t.clock().Sub(t.base)) }

// after returns now+d, saturating instead of overflowing.
func after(now int64, d time.Duration) int64 {
	if int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

// live reports whether entry i has not expired at now.
func (t *table[V]) live(i int32, now int64) bool { return now < t.slots[i].expires }

// setExpires moves entry i's expiry to e.
func (t *table[V]) setExpires(i int32, e int64) {
	s := &t.slots[i]
	if e < s.expires {
		t.push(heapItem{key: e, slot: i, gen: s.gen})
	}
	s.expires = e
}

// insert adds key, which must be absent, with val until e. At the bound it
// first drops one expired entry; if there is none it adds nothing and
// reports false: no live entry is ever evicted.
func (t *table[V]) insert(key string, val V, e, now int64) bool {
	if len(t.index) >= t.max && !t.dropExpired(now, 1) {
		return false
	}
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.slots = append(t.slots, slot[V]{})
		i = int32(len(t.slots) - 1)
	}
	s := &t.slots[i]
	s.key, s.val, s.expires = key, val, e
	t.index[key] = i
	t.push(heapItem{key: e, slot: i, gen: s.gen})
	return true
}

// remove deletes entry i. Its heap items go stale.
func (t *table[V]) remove(i int32) {
	s := &t.slots[i]
	delete(t.index, s.key)
	var zero V
	s.key, s.val, s.expires = "", zero, 0 // let the key and value be collected
	s.gen++
	t.free = append(t.free, i)
}

// dropExpired removes up to n expired entries and reports whether it
// removed any. Stale heap items that surface on the way are discarded, and
// live entries found under an old key are re-keyed.
func (t *table[V]) dropExpired(now int64, n int) bool {
	dropped := false
	for n > 0 && len(t.heap) > 0 && t.heap[0].key <= now {
		h := t.heap[0]
		s := &t.slots[h.slot]
		switch {
		case s.gen != h.gen:
			t.pop()
		case s.expires > now:
			t.heap[0].key = s.expires
			t.down(0)
		default:
			t.pop()
			t.remove(h.slot)
			dropped = true
			n--
		}
	}
	return dropped
}

// compact rebuilds the heap from the live entries once stale items
// outnumber them, which bounds the heap to about twice the entries.
func (t *table[V]) compact() {
	if len(t.heap) <= 2*len(t.index)+64 {
		return
	}
	t.heap = t.heap[:0]
	for _, i := range t.index {
		t.heap = append(t.heap, heapItem{key: t.slots[i].expires, slot: i, gen: t.slots[i].gen})
	}
	for j := (len(t.heap) - 2) / 4; j >= 0; j-- {
		t.down(j)
	}
}

func (t *table[V]) push(h heapItem) {
	t.heap = append(t.heap, h)
	t.up(len(t.heap) - 1)
}

func (t *table[V]) pop() {
	last := len(t.heap) - 1
	t.heap[0] = t.heap[last]
	t.heap = t.heap[:last]
	if last > 0 {
		t.down(0)
	}
}

func (t *table[V]) up(j int) {
	x := t.heap[j]
	for j > 0 {
		p := (j - 1) / 4
		if t.heap[p].key <= x.key {
			break
		}
		t.heap[j] = t.heap[p]
		j = p
	}
	t.heap[j] = x
}

func (t *table[V]) down(j int) {
	h := t.heap
	x := h[j]
	for {
		c := 4*j + 1
		if c >= len(h) {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < len(h); k++ {
			if h[k].key < h[m].key {
				m = k
			}
		}
		if x.key <= h[m].key {
			break
		}
		h[j] = h[m]
		j = m
	}
	h[j] = x
}
