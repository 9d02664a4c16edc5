package saas

import (
	"context"
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
)

// doneGuard remembers, in this process, the calls that succeeded, so that an
// identical delivery is answered 000000 without calling the seller again,
// and concurrent identical deliveries wait for the first and share its
// answer. A failure is not remembered: the next delivery calls the seller
// again, which is what KooGallery's retries need.
//
// The V1 handlers key it on the MAC of the verified authToken: a re-sent V1
// request (KooGallery's own, or a URL replayed from an access log) cannot
// undo later changes, such as freezing an instance again after its renewal.
// The kit handler keys it on the route and the body as well.
type doneGuard struct {
	g idempotency.Group[doneRecord]
}

type doneRecord struct {
	// Final is false for a call whose body could recur as a distinct event
	// (a kit body without timeStamp): it is only shared by concurrent
	// deliveries, never replayed later.
	Final bool
}

// doneGuardKeep is how long successes are remembered when the V1 window is
// off. With a window they are remembered for as long as the window (and the
// skew allowance) accepts the call: after that the call is refused anyway.
const doneGuardKeep = 24 * time.Hour

// newDoneGuard remembers up to WithReplayCacheSize successes (65,536 by
// default); beyond that the oldest are forgotten first.
func newDoneGuard(cfg *config, log *slog.Logger) *doneGuard {
	size := cfg.ReplayCacheSize
	if size <= 0 {
		size = callback.DefaultReplayCacheSize
	}
	keep := doneGuardKeep
	if w := cfg.V1Window; w >= 0 {
		if w == 0 {
			w = callback.DefaultV1Window
		}
		skew := cfg.Skew
		if skew == 0 {
			skew = callback.DefaultSkew
		}
		keep = w + max(skew, 0) + time.Minute
	}
	return &doneGuard{g: idempotency.Group[doneRecord]{
		Store:  idempotency.NewMemory[doneRecord](size),
		Lease:  claimLease,
		Keep:   keep,
		Wait:   claimWait,
		Final:  func(r *doneRecord) bool { return r.Final },
		Logger: log,
	}}
}

// do runs fn unless a call with key already succeeded (and was final).
// fn's context is detached from the caller's cancellation and ends after 4
// minutes, as for NewInstance.
func (d *doneGuard) do(ctx context.Context, key string, final bool, fn func(context.Context) error) error {
	_, err := d.g.Do(ctx, key, func(ctx context.Context, _ *doneRecord) (*doneRecord, error) {
		if err := fn(ctx); err != nil {
			return nil, err
		}
		return &doneRecord{Final: final}, nil
	})
	return err
}
