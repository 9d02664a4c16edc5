package idempotency

import (
	"context"
	"log/slog"
	"time"
)

// Lease and Wait are the handlers' claim lease and how long a call waits
// for a claim another process holds: KooGallery gives up after 5 s, and the
// seller's code runs with a context ending at 4/5 of the lease.
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
type DoneGuard struct {
	g Group[doneRecord]
}

type doneRecord struct {
	// Final is false for a call whose body could recur as a distinct event
	// (a kit body without timeStamp): it is only shared by concurrent
	// deliveries, never replayed later.
	Final bool
}

// NewDoneGuard remembers up to size successes in memory, each for keep.
func NewDoneGuard(size int, keep time.Duration, log *slog.Logger) *DoneGuard {
	return &DoneGuard{g: Group[doneRecord]{
		Store:  NewMemory[doneRecord](size),
		Lease:  Lease,
		Keep:   keep,
		Wait:   Wait,
		Final:  func(r *doneRecord) bool { return r.Final },
		Logger: log,
	}}
}

// Do runs fn unless a call with key already succeeded (and was final).
// fn's context is detached from the caller's cancellation and ends at 4/5
// of Lease.
func (d *DoneGuard) Do(ctx context.Context, key string, final bool, fn func(context.Context) error) error {
	_, err := d.g.Do(ctx, key, func(ctx context.Context, _ *doneRecord) (*doneRecord, error) {
		if err := fn(ctx); err != nil {
			return nil, err
		}
		return &doneRecord{Final: final}, nil
	})
	return err
}
