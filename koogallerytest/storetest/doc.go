// Package storetest holds the conformance suites for the storage behind the
// SDK's handlers and usage meter, and the usage soak that proves an outbox
// under fire:
//
//   - RunStore and RunReplayCache check a store.Store and a
//     store.ReplayCache (the idempotency claims and the replay guard of the
//     callback handlers) against the contracts in package store.
//   - RunUsageOutbox checks a usage.Outbox against the contract of that
//     interface.
//   - SoakUsageOutbox drives an outbox with concurrent producers and
//     pushers killed and restarted at random, against a koogallerytest fake
//     that fails, loses answers and throttles, and checks that every record
//     is billed exactly once.
//
// The memory store, replay cache and outbox, and the Redis and PostgreSQL
// ones (modules store/redisstore and store/pgstore), pass them in their
// tests; run them against your own implementation the same way:
//
//	func TestMyStore(t *testing.T) {
//		storetest.RunStore(t, func(t *testing.T) store.Store { return newMyStore(t) })
//	}
//
// It is meant for tests only: it imports package testing.
package storetest
