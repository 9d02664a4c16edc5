// Package proof proves, by running it, that the KooGallery handlers serve
// every genuine call exactly once across replicas and restarts, under load
// and faults, on the shared stores of store/redisstore and store/pgstore.
//
// A driver plays KooGallery against three seller replicas, each its own
// process (the driver's binary run again, see MaybeReplica), behind a
// round-robin reverse proxy, sharing a Redis, then a PostgreSQL, that the
// run starts on free loopback ports. Each replica mounts every production
// interface (SaaS V2 and V1, the joint-operation kit V1 and V2, License 2.0,
// orderNotify) with WithStore, WithReplayCache and a 2-second
// WithClaimLease, over a provider that records every instance it creates in
// a ledger on the same backend and looks up the order line's instance
// before creating one, as the SDK's documentation asks sellers to.
//
// The driver sends every family's calls as KooGallery does: each call
// re-signed and re-sent on its retry schedule (compressed: an hour takes
// Config.Hour) whenever it is answered 000005, not answered within 5 s, or
// not answered at all; duplicates of newInstance, upgrade and orderNotify
// sent at once to two replicas, and retries sent to another replica than
// the one that failed; storms of 1,000 concurrent newInstance for one order
// line; replays of accepted calls to another replica; forged, tampered and
// stale calls. Then, under background load, it SIGKILLs the replica that
// is half-way through provisioning an order line, lets KooGallery re-send
// the call to another replica (which takes the dead replica's claim over
// once its lease runs out, and whose provider finds and finishes the
// half-made instance), restarts the killed replica as a new process and
// asks it too; and it makes the store unreachable for a few seconds
// (SIGSTOP, then SIGCONT).
//
// At the end it checks the invariants and prints them with the throughput
// and latencies of each phase (Report.Write, Compare): no duplicate
// provision or upgrade in the ledger, no replay or forgery accepted or
// reaching the seller's code, every genuine call answered 000000 or 000004
// within its schedule, every storm answered with one instance, the killed
// replica's claim held until its lease ran out, and no goroutine of the
// driver left behind. The same workload on one replica with the in-memory
// stores is the baseline.
//
// The short run (about 2,000 callbacks per backend) is TestProof, in CI.
// The full run, over 20,000 callbacks per backend:
//
//	cd internal/proof && go test -run TestProof -proof.full -v -timeout 30m .
//	cd internal/proof && go run ./cmd/proof -full
//
// It needs redis-server and PostgreSQL's server binaries (Debian: apt-get
// install -y redis-server postgresql) and runs on Linux (it reads /proc,
// and signals the store's processes).
package proof
