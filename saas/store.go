package saas

import (
	"context"
	"net/url"
	"time"

	"github.com/isvkit/koogallery/internal/idempotency"
)

// Store records the outcome of newInstance and upgradeInstance per order
// line, so that the handler provisions at most once however often, and from
// however many replicas, KooGallery re-sends the call (for three hours after
// a failure, and whenever the buyer opens the console).
//
// Keys look like "newInstance/<orderId>/<orderLineId>" and
// "upgradeInstance/<orderId>/<orderLineId>", each ID path-escaped. A key is
// absent, claimed (a call is running the Provider), or holds a Record.
//
//   - Claim must be atomic across every replica sharing the store: if key is
//     absent, or its claim or record has expired, mark it claimed for lease
//     and return (nil, true, nil); if it is claimed, return (nil, false,
//     nil); if it holds a record, return (record, false, nil).
//   - Complete stores r under key for keep, replacing the claim or an
//     earlier (pending) record.
//   - Release deletes key if it is still a claim, and leaves a record alone.
//     The handler releases when the Provider fails, so that a retry calls
//     it again: failures are never recorded.
//
// On Redis: Claim is SET key "" NX PX lease (OK means claimed; otherwise GET
// tells a claim, "", from a JSON record; a nil GET means it just expired:
// claim again); Complete is SET key json PX keep; Release deletes the key
// only if its value is still "" (a short Lua script). On SQL: Claim is
// INSERT … ON CONFLICT (key) DO UPDATE … WHERE expires_at < now() RETURNING
// key, then SELECT when no row came back; Complete is an UPDATE (or upsert);
// Release is DELETE … WHERE key = $1 AND state = 'claimed'.
//
// The handler calls the Provider with a context that ends at 4/5 of the
// lease (4 minutes), so that a claim cannot lapse while its Provider call is
// still running, provided the Provider honours its context.
type Store interface {
	Claim(ctx context.Context, key string, lease time.Duration) (existing *Record, claimed bool, err error)
	Complete(ctx context.Context, key string, r *Record, keep time.Duration) error
	Release(ctx context.Context, key string) error
}

// Record is the recorded outcome of a newInstance or upgradeInstance call.
type Record struct {
	// InstanceID is the instance the call provisioned or upgraded.
	InstanceID string
	// Pending records a newInstance answered Pending. It is not final: the
	// next newInstance for the order line calls NewInstance again, with
	// PendingInstanceID set, to learn whether provisioning finished.
	Pending bool
}

const (
	// DefaultKeep is how long records are kept by default. KooGallery
	// re-sends newInstance whenever the buyer opens the console, long
	// after the purchase, so records outlive the three-hour retry period.
	DefaultKeep = 30 * 24 * time.Hour
	// DefaultMemoryStoreSize is the record bound of the default Store.
	DefaultMemoryStoreSize = 100_000

	claimLease = 5 * time.Minute
	// claimWait bounds how long a call waits for a claim another replica
	// holds; KooGallery gives up after 5 s.
	claimWait = 3 * time.Second
)

// NewMemoryStore returns an in-process Store that keeps at most maxRecords
// records (forgetting the oldest first, pending ones included) and drops each
// after its keep duration. It gives at-most-once within one process only,
// and forgets everything on restart: NewInstance should still look up an
// instance it already made for the order line.
func NewMemoryStore(maxRecords int) Store {
	return idempotency.NewMemory[Record](maxRecords)
}

func recordKey(activity, orderID, orderLineID string) string {
	return activity + "/" + url.PathEscape(orderID) + "/" + url.PathEscape(orderLineID)
}
