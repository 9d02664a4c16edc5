// Package store defines where KooGallery production-interface handlers keep
// the state that makes them exactly-once and replay-proof, so that several
// replicas and a restarted process behave like one:
//
//   - a Store holds the at-most-once records: the outcome of newInstance
//     and upgrade calls per order line, and the calls the V1 and kit
//     handlers already served (their replay guard);
//   - a ReplayCache holds the nonces of verified V2-scheme calls (SaaS V2,
//     License 2.0, orderNotify, kit x-sign) for as long as their timestamp
//     is inside the freshness window.
//
// Every handler uses an in-memory implementation (NewMemory,
// NewMemoryReplayCache) unless told otherwise (callback.WithStore and
// callback.WithReplayCache, the handlers' options). The in-memory ones are
// bounded and never forget an entry that is still inside its window or keep:
// when full they refuse with ErrFull, and the handler answers KooGallery with a
// retryable 000005. For several replicas, or to survive restarts, use a shared
// implementation: the modules github.com/isvkit/koogallery/store/redisstore
// (Redis: single node, Sentinel, Cluster) and
// github.com/isvkit/koogallery/store/pgstore (PostgreSQL) implement both
// interfaces, and the conformance suites storetest.RunStore and
// storetest.RunReplayCache (package
// github.com/isvkit/koogallery/koogallerytest/storetest) check any
// implementation against the contracts below.
//
// When a shared backend cannot be reached, its methods return an error and
// the handler answers 000005 (retryable, logged at ERROR): it never accepts
// a call unchecked and never provisions without a claim.
package store

import (
	"context"
	"errors"
	"time"
)

// Record is the recorded outcome of an at-most-once call.
type Record struct {
	// InstanceID is the instance the call provisioned or upgraded; empty
	// for records that only mark a call as served.
	InstanceID string
	// Pending marks a record that is not final: a newInstance answered
	// Pending (provisioning asynchronously). The next call with the key
	// runs again, with the record, to learn whether the work finished,
	// instead of starting it twice.
	Pending bool
}

// Store keeps at-most-once records. A key is absent, claimed (a call is
// running the seller's code; the claim is a lease that lapses if its holder
// dies), or holds a Record. Keys are printable ASCII, at most 512 bytes.
//
//   - Claim must be atomic across every process sharing the store: of all
//     callers racing on an absent key, or on one whose claim or record has
//     expired, exactly one gets (nil, true, nil), and the key is then
//     claimed until lease runs out. If the key is claimed, Claim returns
//     (nil, false, nil); if it holds a record, (record, false, nil), the
//     record a copy the caller may keep.
//   - Complete stores a copy of *r under key for keep, replacing a claim
//     (expired or not) or an earlier record, pending or not; it stores r
//     for an absent key too. r.InstanceID may hold any bytes (NUL, invalid
//     UTF-8, 64 KiB) and must come back unchanged; a record with an empty
//     InstanceID is still a record, never mistaken for a claim.
//   - Release deletes key if it is still a claim and leaves a record alone;
//     releasing an absent key is not an error. The handlers release when the
//     seller's code fails, so that KooGallery's retry runs it again:
//     failures are never recorded.
//
// Lease and keep are positive; an implementation may refuse others with an
// error, and may round them up (never down) to its clock's resolution. A
// shared implementation measures them on its server's clock, so that the
// replicas' clocks need not agree.
//
// A Store does not know which caller holds a claim: Complete and Release
// act on whatever the key holds. The handlers keep that safe by finishing
// (or giving up) well inside the lease: the seller's code runs with a
// context that ends at 4/5 of it.
//
// Every method honours ctx: once ctx is done it returns promptly with an
// error wrapping ctx.Err(). A bounded Store that holds its maximum of live
// entries refuses a new key with an error wrapping ErrFull. A method that
// returns an error may still have taken effect (a shared store's answer
// can be lost on the way back): after a failed Claim the key may be
// claimed until the lease runs out.
type Store interface {
	Claim(ctx context.Context, key string, lease time.Duration) (existing *Record, claimed bool, err error)
	Complete(ctx context.Context, key string, r *Record, keep time.Duration) error
	Release(ctx context.Context, key string) error
}

// ReplayCache remembers the keys of verified calls until their window
// closes, so that a replay is refused.
//
// Add records key for ttl and reports whether it was new. It must be atomic
// across every process sharing the cache: of all callers racing on a key
// that is absent or expired, exactly one gets (true, nil); every other call
// before ttl has run out gets (false, nil). An expired key is new again.
// Keys are printable ASCII, at most 512 bytes; ttl is positive (and may be
// rounded up). Add honours ctx as Store's methods do, and a bounded cache
// that holds its maximum of live keys refuses a new one with an error
// wrapping ErrFull: it never forgets a live key to make room. After an
// error key may or may not be recorded.
type ReplayCache interface {
	Add(ctx context.Context, key string, ttl time.Duration) (added bool, err error)
}

// ErrFull reports that a bounded store holds its maximum of entries and none
// has expired: rather than forget one still inside its window or keep (which
// could provision twice or accept a replay), it refuses. Handlers answer
// such a call with a retryable 000005 and log at ERROR which bound to raise
// or that a shared store is needed.
var ErrFull = errors.New("store: full: every entry is still inside its window or keep")
