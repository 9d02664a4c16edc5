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
// a ledger on the same backend (on Redis, a server of its own, which the
// store faults leave alone) and looks up the order line's instance before
// creating one, as the SDK's documentation asks sellers to.
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
// Then the store faults (Config.StoreFaults), each an hour of the
// schedule and a fifth after the previous fault healed, under the same
// background load (but the restart without persistence, which comes
// first, before the load), each with a probe: before the fault, five
// order lines provisioned and five V2 and five V1 calls accepted
// (witnesses); during it, five newInstance for new order lines and one
// lifecycle of every family; after it, the witnesses' newInstance re-sent
// (re-signed, as KooGallery's retry) and their accepted calls replayed
// unchanged; and the answers meanwhile and in the 2 s after counted by
// code, with the slowest:
//
//   - Redis restarted with AOF (appendonly yes, appendfsync everysec):
//     SIGKILLed, down 3 s, started again on its AOF. With everysec Redis
//     hands every write to the kernel at once (postponing it at most 2 s
//     while an fsync is slow) and fsyncs the AOF every second: a killed
//     process loses nothing the kernel holds, while a machine's crash (not
//     simulated) could lose the last second or two of acknowledged
//     writes. While it is down the handlers answer 000005 and KooGallery
//     retries; after, nothing is lost: the re-sent newInstance are
//     answered from the records without running the seller's code, the
//     replays are refused (V2) or answered without running it (V1).
//   - Redis restarted without persistence (appendonly no, no snapshots):
//     it comes back empty, and the handlers have lost every record,
//     claim and nonce written before. This is measured, not hidden, and
//     it is what the SDK can promise on such a Redis: refusals (000005)
//     while it is down, and after the restart no protection of anything
//     done before it. A re-sent newInstance of a provisioned order line
//     runs the seller's code again (only the seller's look-up before
//     create keeps it from provisioning twice; the proof's seller has
//     one, so the ledger shows no duplicate), a replay of a V2 call
//     signed in the freshness window before the restart (Window + skew,
//     65 s) is accepted, a V1 replay runs the seller's code again, and
//     (not measured) two deliveries of one order line in flight across
//     the restart can both run it. The run injects it with no other load, so that the numbers
//     are the probe's alone and the run's invariants keep their meaning;
//     the ledger is on a redis-server of its own. Run Redis with AOF.
//   - Redis under memory pressure: maxmemory set to half the memory it
//     uses, maxmemory-policy noeviction, for 3 s: every write is refused
//     with OOM, the handlers answer 000005 (no replay can be accepted: its
//     nonce cannot be recorded; nothing is provisioned: no claim can be
//     taken), and after maxmemory is lifted the retries are answered.
//   - PostgreSQL killed: every server process SIGKILLed (a crash), down
//     3 s, started again on its data directory, recovering from its WAL.
//     The server runs with synchronous_commit on (pgtest turns it off,
//     which acknowledges commits before their WAL is written) and fsync
//     off (a killed process loses nothing its kernel holds). The replicas
//     are not restarted: their pgx pools drop the dead connections and
//     dial again. No acknowledged record is lost.
//   - A partition: the replicas reach the store through a TCP relay in
//     the driver, which black-holes every packet for 6 s (connections
//     stay open, nothing is answered or reset), then delivers what it
//     held and forwards again. Every call meanwhile must be answered
//     000005 within KooGallery's 5 s, none left hanging. pgstore and
//     redisstore bound each operation at 2 s for this: the handlers'
//     replay check runs with the request's context, which has no
//     deadline, and the claims under the claim lease (5 minutes by
//     default); pgx has no timeout of its own (the calls hung until
//     KooGallery gave up), and go-redis's ReadTimeout bounds a command
//     but not the wait for a connection (callbacks queued behind the held
//     ones: 4.1 s here, over 5 s with a hundred at once).
//
// At the end it checks the invariants and prints them with the throughput
// and latencies of each phase (Report.Write, Compare): no duplicate
// provision or upgrade in the ledger, no replay or forgery accepted or
// reaching the seller's code, every genuine call answered 000000 or 000004
// within its schedule, every storm answered with one instance, the killed
// replica's claim held until its lease ran out, every call during a store
// fault answered within 5 s, nothing acknowledged before a store fault
// lost (but for the Redis without persistence, whose losses the report
// counts), and no goroutine of the driver left behind. The same workload
// on one replica with the in-memory stores is the baseline.
//
// The short run (about 2,000 callbacks per backend) is TestProof, in CI;
// of the store faults it injects, on Redis, the restart without
// persistence and the memory pressure, on PostgreSQL the kill and the
// partition (see Short). The full run injects every one, over 20,000
// callbacks per backend:
//
//	cd internal/proof && go test -run TestProof -proof.full -v -timeout 30m .
//	cd internal/proof && go run ./cmd/proof -full
//
// It needs redis-server and PostgreSQL's server binaries (Debian: apt-get
// install -y redis-server postgresql) and runs on Linux (it reads /proc,
// and signals the store's processes).
package proof
