package saas

import (
	"net/url"
	"time"

	"github.com/isvkit/koogallery/store"
)

// Store records the outcome of newInstance and upgradeInstance per order
// line, so that the handler provisions at most once however often, and from
// however many replicas, KooGallery re-sends the call (for three hours after
// a failure, and whenever the buyer opens the console). It is store.Store;
// see there for the contract, and the modules store/redisstore and
// store/pgstore for shared implementations.
//
// Keys look like "newInstance/<orderId>/<orderLineId>" and
// "upgradeInstance/<orderId>/<orderLineId>", each ID path-escaped.
//
// The handler calls the Provider with a context that ends at 4/5 of the
// claim lease (4 minutes by default, see callback.WithClaimLease), so that a claim
// cannot lapse while its Provider call is still running, provided the
// Provider honours its context.
type Store = store.Store

// Record is the recorded outcome of a newInstance or upgradeInstance call
// (store.Record). A Pending record is not final: the next newInstance for
// the order line calls NewInstance again, with PendingInstanceID set, to
// learn whether provisioning finished.
type Record = store.Record

const (
	// DefaultKeep is how long records are kept by default. KooGallery
	// re-sends newInstance whenever the buyer opens the console, long
	// after the purchase, so records outlive the three-hour retry period.
	DefaultKeep = 30 * 24 * time.Hour
	// DefaultMemoryStoreSize is the record bound of the default Store.
	DefaultMemoryStoreSize = 100_000
)

// NewMemoryStore returns an in-process Store that holds at most maxRecords
// keys (records and claims) and drops each after its keep (or lease). It
// never forgets a record inside its keep: once full, with nothing expired,
// it refuses new claims with store.ErrFull, which the handlers answer with a
// retryable 000005 and log at ERROR. It gives at-most-once within one
// process only, and forgets everything on restart: NewInstance should still
// look up an instance it already made for the order line.
func NewMemoryStore(maxRecords int) Store {
	return store.NewMemory(maxRecords)
}

func recordKey(activity, orderID, orderLineID string) string {
	return activity + "/" + url.PathEscape(orderID) + "/" + url.PathEscape(orderLineID)
}
