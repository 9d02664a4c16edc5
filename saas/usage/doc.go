// Package usage reports pay-per-use usage to KooGallery, which bills the
// buyer from it: the usage push open API (按需使用量推送), new and legacy.
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
package usage
