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
//	meter, err := usage.NewMeter(client, outbox) // pgstore.NewUsageOutbox(pool) in production
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
// honouring Retry-After; an authentication failure stops the pusher (five
// AK/SK failures in a row lock the AK); records KooGallery refuses for good
// or reports abnormal become dead letters with the reason and the raw
// answer, to be listed, requeued or discarded; a record about to miss its
// billing deadline (Deadline) is reported before it does. Events
// (WithEvents) and Counters feed a seller's monitoring.
package usage
