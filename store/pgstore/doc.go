// Package pgstore keeps the KooGallery handlers' shared state in
// PostgreSQL: at-most-once records (store.Store) and replay keys
// (store.ReplayCache), so that several replicas, and a process after a
// restart, provision once and refuse replays as one process would. Every
// acknowledged write is durable: it survives a restart of the database and,
// with synchronous replication, a failover.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
//	if err != nil { … }
//	if err := pgstore.Migrate(ctx, pool); err != nil { … }
//	s, err := pgstore.New(pool)
//	if err != nil { … } // a nil pool or an invalid option, such as a table name PostgreSQL would cut short
//	h := saas.NewHandler(key, provider, callback.WithStore(s, saas.DefaultKeep), callback.WithReplayCache(s))
//
// Migrate creates two tables (Schema returns the same SQL for a migration
// tool of your own): the records, and a separate one for replay keys, which
// are many, short-lived and small, so that their churn and vacuuming stay
// apart from the records kept for weeks.
//
//	CREATE TABLE IF NOT EXISTS "koogallery_records" (
//		key         text COLLATE "C" PRIMARY KEY,
//		claimed     boolean NOT NULL,
//		instance_id bytea NOT NULL,
//		pending     boolean NOT NULL,
//		expires_at  timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_records_expires_at" ON "koogallery_records" (expires_at);
//	CREATE TABLE IF NOT EXISTS "koogallery_replay" (
//		key        text COLLATE "C" PRIMARY KEY,
//		expires_at timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_replay_expires_at" ON "koogallery_replay" (expires_at);
//
// A row is live while expires_at is in the future; an expired row is
// absent to every method. A claim is one INSERT … ON CONFLICT (key) DO
// UPDATE … WHERE t.expires_at <= now() RETURNING, which inserts an absent
// key or takes over an expired one atomically, and, batched with it in the
// same round trip, a SELECT of what holds a live key. Times are the
// database server's now(), so the replicas' clocks need not agree.
// InstanceIDs are bytea: every byte, NUL included, comes back unchanged.
//
// Expired rows are deleted in small batches (DELETE … WHERE ctid = ANY
// (ARRAY(SELECT ctid … LIMIT n FOR UPDATE SKIP LOCKED))), which takes no
// table lock and never waits for a row in use: by the store itself after
// every 256th write to a table (WithCleanup), or by Cleanup on your
// schedule.
//
// Claim, Complete, Release and Add each end within 2 s (WithTimeout), or
// their context's deadline if sooner: pgx has no timeout of its own, and a
// database that stops answering without closing its connections (a
// partition, a stalled host) must leave the handler time to answer
// 000005 within KooGallery's 5 s, so that KooGallery retries.
//
// # Usage outbox
//
// UsageOutbox is the usage.Outbox of usage.Meter on PostgreSQL: the durable
// queue between the usage a seller measured and KooGallery's usage push,
// drained by every replica at once without two sending a record at the
// same time.
//
//	if err := pgstore.MigrateUsageOutbox(ctx, pool); err != nil { … }
//	outbox, err := pgstore.NewUsageOutbox(pool)
//	if err != nil { … }
//	meter, err := usage.NewMeter(client, outbox)
//	go meter.Run(ctx)
//
// MigrateUsageOutbox creates one table (UsageOutboxSchema returns the SQL,
// WithUsageTable renames it):
//
//	CREATE TABLE IF NOT EXISTS "koogallery_usage_outbox" (
//		metering_sn text COLLATE "C" PRIMARY KEY,
//		seq         bigint GENERATED ALWAYS AS IDENTITY,
//		payload     text NOT NULL,
//		deadline    timestamptz NOT NULL,
//		recorded    timestamptz NOT NULL,
//		state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
//		available   timestamptz NOT NULL DEFAULT '-infinity',
//		lease_token text,
//		attempts    integer NOT NULL DEFAULT 0,
//		last_error  text NOT NULL DEFAULT '',
//		sent_at     timestamptz,
//		dead_reason text,
//		dead_code   text,
//		dead_raw    bytea,
//		died        timestamptz
//	);
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_pending" ON "koogallery_usage_outbox" (seq) WHERE state = 'pending';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_deadline" ON "koogallery_usage_outbox" (deadline) WHERE state = 'pending';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_lease" ON "koogallery_usage_outbox" (lease_token) WHERE lease_token IS NOT NULL;
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_sent" ON "koogallery_usage_outbox" (sent_at) WHERE state = 'sent';
//	CREATE INDEX IF NOT EXISTS "koogallery_usage_outbox_dead" ON "koogallery_usage_outbox" (metering_sn) WHERE state = 'dead';
//
// A record is a row keyed by its metering_sn, pending, sent or dead.
// Pushers claim the oldest pending rows with one UPDATE … FROM (SELECT …
// ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED), under a lease (lease_token,
// available) that a crashed pusher's rows outlive; an outcome is settled in
// one statement; a dead letter keeps KooGallery's reason and raw answer,
// byte for byte. AddTx records usage inside your own transaction, as a
// PostgreSQL job queue enqueues jobs, so that usage is recorded exactly
// when the work it measures commits.
//
// Add and AddTx insert, and so lock, their rows in one order, that of
// metering_sn (byte order), each metering_sn once, whatever the order of
// the entries given: concurrent Add, AddTx and usage.Meter.Record calls
// of overlapping records, in any order, never deadlock with each other.
// One that reaches a metering_sn another has inserted but not committed
// waits for it and then, finding the same payload, leaves the row as it is
// without an error. The queue still follows the order of the entries
// (their seq values are drawn from the identity sequence in that order,
// unless the role may not use it). Add, in a transaction of its own, also
// runs it again (up to three times in all) should PostgreSQL abort it for
// a deadlock with other locks or a serialization failure; AddTx never
// does, since only you can run your transaction again.
//
// # Table names
//
// WithTables and WithUsageTable name the tables, schema-qualified or not.
// PostgreSQL cuts an identifier longer than MaxIdentifierLen (63 bytes,
// NAMEDATALEN-1) short without an error, so that two names differing only
// after it would share one table or one index. The package refuses such a
// name instead, with an error saying which name, its length and the
// limit: a schema or table name over 63 bytes, or a table name whose
// index names (the table's name and a suffix: "_expires_at"; the usage
// outbox's "_pending", "_deadline", "_lease", "_sent", "_dead") would be:
// records and replay table names may have at most 52 bytes, the usage
// outbox's 54. New and NewUsageOutbox return the error at construction,
// Migrate and MigrateUsageOutbox before sending anything. The names
// PostgreSQL chooses itself (the primary key's, the seq column's sequence,
// the CHECK constraint's) it shortens and keeps unique on its own.
package pgstore
