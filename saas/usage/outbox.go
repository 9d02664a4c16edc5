package usage

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Outbox is the durable store between "the seller measured usage" and
// "KooGallery accepted it". A Meter adds records to it and drains it; any
// number of Meters (replicas, restarted processes) may share one Outbox.
//
// An entry is pending (waiting to be sent, or leased by a pusher that is
// sending it), sent (KooGallery accepted it) or dead (KooGallery refused it
// for good or reported it abnormal; see DeadLetter). The contract below is
// what makes metering lose nothing and bill nothing twice:
//
//   - Add stores entries atomically, all or none, and returns only once
//     they are durable. An entry whose MeteringSN is already stored, in any
//     state, with the same Payload is left as it is (recording twice is
//     harmless); with a different Payload, Add stores nothing and returns
//     an error wrapping ErrConflict that names the MeteringSN.
//   - Claim leases up to max pending entries that are due (NextAttempt not
//     after now) and not leased (or whose lease ended by now), oldest
//     first (in the order they were added), until now+lease, and counts an
//     attempt on each. Claims are atomic across every process sharing the
//     outbox: while a lease runs, no other Claim returns its entries, so two
//     pushers never send a record at the same time (PostgreSQL: SELECT ...
//     FOR UPDATE SKIP LOCKED). A pusher that dies holding a lease loses it
//     when it runs out, and the entries are claimed again.
//   - Renew extends the lease of the entries a claim still holds.
//   - Settle records what became of claimed entries: Sent entries become
//     sent even when the lease was lost (a delivered record is delivered);
//     Retry entries go back to pending, due at RetryAt, and Dead entries
//     become dead, each only while the claim still holds it, so that a
//     pusher that lost its lease cannot undo the next holder's work.
//   - Requeue makes dead entries pending again, due at once; Discard
//     deletes dead entries the seller has dealt with. Neither touches
//     entries in another state.
//   - Purge deletes sent entries sent before a time: until then, a
//     MeteringSN recorded again with other content is still refused.
//
// Exactly once, in effect. A pusher sends a claimed batch and then settles
// it; if it dies in between, KooGallery may have accepted records the
// outbox still has as pending, and the next claim sends them again with
// the same metering_sn. KooGallery de-duplicates on metering_sn (the usage
// push's idempotency key), so the re-send is acknowledged and not billed
// again. Delivery is at least once; billing is exactly once.
//
// Every method honours ctx. koogallerytest/storetest.RunUsageOutbox checks an
// implementation against this contract; NewMemoryOutbox is one in memory,
// and the module github.com/isvkit/koogallery/store/pgstore has one on
// PostgreSQL.
type Outbox interface {
	Add(ctx context.Context, entries []Entry) error
	Claim(ctx context.Context, now time.Time, max int, lease time.Duration) (*Claim, error)
	Renew(ctx context.Context, token string, until time.Time) error
	Settle(ctx context.Context, token string, s Settlement) error
	Stats(ctx context.Context, now time.Time) (OutboxStats, error)
	AtRisk(ctx context.Context, before time.Time, max int) ([]Entry, error)
	DeadLetters(ctx context.Context, after string, max int) ([]DeadLetter, error)
	Requeue(ctx context.Context, now time.Time, meteringSNs []string) (int, error)
	Discard(ctx context.Context, meteringSNs []string) (int, error)
	Purge(ctx context.Context, sentBefore time.Time) (int, error)
}

// ErrConflict is wrapped by the error of an Add (and of Meter.Record) that
// finds a MeteringSN already stored with different content. KooGallery
// de-duplicates on metering_sn, so the second record would never be
// billed: give it its own MeteringSN.
var ErrConflict = errors.New("usage: metering_sn already recorded with different content")

// Entry is a usage record in an Outbox. Meter.Prepare builds entries; the
// outbox fills in Recorded (when not set), Attempts and LastError.
type Entry struct {
	// Record is the usage record.
	Record Record
	// Payload is the record's wire JSON (Record.MarshalJSON), the identity
	// of its content: the same MeteringSN added again with another Payload
	// is a conflict. An outbox may store only Payload and decode Record
	// from it with json.Unmarshal.
	Payload json.RawMessage
	// Deadline is when KooGallery must have the record to bill it on time
	// (see Deadline).
	Deadline time.Time
	// Recorded is when the record was added.
	Recorded time.Time
	// Attempts is how many times the entry was claimed.
	Attempts int
	// LastError describes the last failed attempt to send it.
	LastError string
}

// MeteringSN returns the entry's metering_sn.
func (e *Entry) MeteringSN() string { return e.Record.MeteringSN }

// Claim is a lease on entries, returned by Outbox.Claim.
type Claim struct {
	// Token identifies the lease in Renew and Settle.
	Token string
	// Until is when the lease runs out.
	Until time.Time
	// Entries are the leased entries, oldest first; none when nothing was
	// due.
	Entries []Entry
}

// Settlement is what became of claimed entries, for Outbox.Settle. A
// MeteringSN appears in at most one of Sent, Retry and Dead.
type Settlement struct {
	// Now is when the outcome was known.
	Now time.Time
	// Sent lists the entries KooGallery accepted.
	Sent []string
	// Retry lists the entries to send again, due at RetryAt, with why the
	// attempt failed.
	Retry      []string
	RetryAt    time.Time
	RetryError string
	// Dead lists the entries KooGallery refused for good or reported
	// abnormal.
	Dead []DeadLetter
}

// DeadLetter is an entry KooGallery refused for good (a validation code
// such as MKT.9004, begin_time older than 21 days) or reported abnormal. It
// stays in the outbox, never silently dropped, until Requeue sends it again
// or Discard deletes it. To correct a record, record the corrected one with
// a new MeteringSN and discard the dead one.
type DeadLetter struct {
	Entry
	// Reason says why, in words.
	Reason string
	// Code is KooGallery's code for the refusal (the call's error_code, or
	// the abnormal record's own code), when it gave one.
	Code string
	// Raw is KooGallery's answer as received: the abnormal record's JSON
	// object, or the failure body; nil when the answer was not JSON.
	Raw json.RawMessage
	// Died is when the entry became dead (the Settlement's Now; ignored
	// in a Settlement).
	Died time.Time
}

// OutboxStats counts an outbox's entries.
type OutboxStats struct {
	// Pending counts the entries not yet sent, leased or not.
	Pending int
	// Leased counts the pending entries under a running lease.
	Leased int
	// Dead counts the dead letters.
	Dead int
	// Sent counts the sent entries not yet purged.
	Sent int
	// OldestPending is when the oldest pending entry was recorded (zero
	// when none is pending).
	OldestPending time.Time
	// NextDeadline is the earliest deadline of a pending entry (zero when
	// none is pending).
	NextDeadline time.Time
}
