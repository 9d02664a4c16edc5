// Package usage reports pay-per-use usage to KooGallery, which bills the
// buyer from it: the usage push open API (按需使用量推送), new and legacy,
// and a durable meter on top of it.
//
//	client := usage.NewClient(kg, usage.WithSellerKey(sellerKey))
//	res, err := client.Push(ctx, records) // at most MaxRecords a call
//
// Push signs the body with the seller key on top of AK/SK and carries each
// record's MeteringSN, KooGallery's idempotency key, so a push that may have
// reached the service is safely retried; PushInBatches splits any number of
// records into calls of at most MaxRecords; PushLegacy uses the old API.
// Records are validated before anything is sent, values are exact decimals
// (Decimal), and records KooGallery reports as abnormal are in
// Result.Abnormal. Package koogallerytest fakes the API.
//
// # Metering that loses nothing and bills nothing twice
//
// A seller who pushes from memory loses revenue whenever a push fails,
// KooGallery throttles, or the process restarts between metering and
// pushing. A Meter puts a durable Outbox in between:
//
//	meter, err := usage.NewMeter(client, outbox) // outbox, err := pgstore.NewUsageOutbox(pool) in production
//	go meter.Run(ctx)                             // on every replica
//	err = meter.Record(ctx, records...)            // validated, durable when it returns
//	...
//	err = meter.Flush(shutdownCtx)                 // on graceful shutdown
//
// Run drains the outbox oldest first in calls of at most MaxRecords; several
// replicas share one outbox without sending a record twice at the same time
// (leases); a crash between sending and recording the answer re-sends the
// same metering_sn, which KooGallery de-duplicates, so billing is exactly
// once in effect. Transient failures and throttling back off with jitter,
// honouring Retry-After, also when the pusher is stopped as the answer
// arrives (an answer that arrived settles its push); an authentication
// failure stops the pusher (five AK/SK failures in a row lock the AK);
// records KooGallery refuses for good or reports abnormal become dead
// letters with the reason and the raw answer, to be listed, requeued or
// discarded; a record about to miss its billing deadline (Deadline) is
// reported before it does. Events (WithEvents) and Counters feed a
// seller's monitoring.
//
// # MKT.0150, illegal operation
//
// KooGallery documents MKT.0150 (CBC.0150) for the usage push only as the
// result code of the whole request, HTTP 401, next to the authentication
// codes: the account that owns the AK/SK may not do this, "e.g. the
// product does not belong to the seller owning the AK/SK". It is not
// documented as a record's own code (the per-record AbnormalUsageData
// table is only partly documented). A Meter therefore treats it as a
// problem of the account, not of the records: an AK/SK of the wrong
// account would otherwise turn the whole backlog into dead letters.
//
//   - A push refused with MKT.0150 that names none of its records, or all
//     of them, stops the pusher as an authentication failure does: the
//     records stay pending, nothing is dead-lettered, EventAuthStopped is
//     emitted and logged at ERROR, Run and Flush return an error wrapping
//     ErrStopped (and koogallery.ErrPermission) until Meter.Resume. The
//     batch is not narrowed down by halving, which would send the same
//     refused records again and again.
//   - A push whose every record is refused or reported abnormal with
//     MKT.0150 as the record's own code stops the pusher the same way.
//   - An answer that names some of the pushed records with MKT.0150, and
//     not the others, shows the account may push the others: the named
//     records become dead letters (Code MKT.0150) and the others are sent.
//
// The price of this choice: a pending record for an instance of another
// seller, when KooGallery answers MKT.0150 without naming it, also stops
// the pusher, and Resume stops it again until the cause is removed (the
// error and the event carry KooGallery's answer, extra_info included); a
// Meter has no operation that dead-letters a pending record, so that
// record is removed from the outbox's store by hand.
package usage
