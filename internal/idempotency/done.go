package idempotency

import (
	"context"
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/store"
)

// Lease and Wait are the handlers' default claim lease (WithClaimLease
// changes it) and how long a call waits for a claim another process holds:
// KooGallery gives up after 5 s, and the seller's code runs with a context
// ending at 4/5 of the lease.
const (
	Lease = 5 * time.Minute
	Wait  = 3 * time.Second
)

// DoneGuard remembers the calls that succeeded, so that an identical
// delivery is answered without calling the seller again, and concurrent
// identical deliveries wait for the first and share its answer. A failure
// is not remembered: the next delivery calls the seller again, which is
// what KooGallery's retries need.
//
// The V1 handlers key it on the MAC of the verified authToken: a re-sent V1
// request (KooGallery's own, or a URL replayed from an access log) cannot
// undo later changes, such as freezing an instance again after its renewal.
// The kit handler keys it on the route and the body as well.
//
// Successes are store.Records: Pending marks one that is not final, a call
// whose body could recur as a distinct event (a kit body without
// timeStamp), only shared by concurrent deliveries, never replayed later.
type DoneGuard struct {
	g Group[store.Record]
}

// NewDoneGuard remembers successes in st (if nil, a store.Memory of size
// keys on the clock now), each for keep, claiming keys for lease. A full or
// failing store makes Do fail with ErrStore: the call is not run unchecked.
func NewDoneGuard(st store.Store, size int, now func() time.Time, lease, keep time.Duration, log *slog.Logger) *DoneGuard {
	if st == nil {
		st = store.NewMemory(size, store.WithClock(now))
	}
	return &DoneGuard{g: Group[store.Record]{
		Store:  st,
		Lease:  lease,
		Keep:   keep,
		Wait:   Wait,
		Final:  func(r *store.Record) bool { return !r.Pending },
		Logger: log,
	}}
}

// Do runs fn unless a call with key already succeeded (and was final).
// fn's context is detached from the caller's cancellation and ends at 4/5
// of the lease.
func (d *DoneGuard) Do(ctx context.Context, key string, final bool, fn func(context.Context) error) error {
	_, err := d.g.Do(ctx, key, func(ctx context.Context, _ *store.Record) (*store.Record, error) {
		if err := fn(ctx); err != nil {
			return nil, err
		}
		return &store.Record{Pending: !final}, nil
	})
	return err
}
