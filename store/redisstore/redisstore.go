// Package redisstore keeps the KooGallery handlers' shared state in Redis:
// at-most-once records (store.Store) and replay keys (store.ReplayCache),
// so that several replicas, and a process after a restart, provision once
// and refuse replays as one process would.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	s, report, err := redisstore.Open(ctx, rdb) // or s, err := redisstore.New(rdb): checks at first use
//	if err != nil { … } // refuses a Redis that may evict keys: see Durability below
//	for _, w := range report.Warnings { log.Warn(w) } // persistence off
//	h := saas.NewHandler(key, provider, callback.WithStore(s, saas.DefaultKeep), callback.WithReplayCache(s))
//
// New takes any redis.UniversalClient: a single node (redis.NewClient),
// Sentinel (redis.NewFailoverClient) or Cluster (redis.NewClusterClient).
// Each operation touches one key, in one command or one Lua script, so it
// is atomic on every topology and needs no hash tags:
//
//	<prefix>rec:<key>     claim "c" + token, or record "r" + "0"|"1" (pending) + InstanceID bytes
//	                      PX lease (claim) or keep (record)
//	<prefix>replay:<key>  token, PX ttl
//
// The token (16 random hex digits) is new for every Claim and Add: when
// go-redis sends a command again because its answer timed out (MaxRetries),
// the script finds its own token and answers as the first run would have,
// instead of taking a genuine call for a replay or its own claim for
// another's.
// The prefix is "koogallery:" unless WithPrefix says otherwise: 1 to
// MaxPrefixLen bytes of printable ASCII, without spaces or braces (a "{…}"
// in the prefix would be a Cluster hash tag, and put every key in one slot,
// on one node). Every key has a TTL, so Redis itself forgets expired
// entries; durations are rounded up to whole milliseconds and measured on
// the Redis server's clock.
//
// # Time limits
//
// Claim, Complete, Release and Add each end within 2 s (WithTimeout), or
// their context's deadline if sooner: go-redis's ReadTimeout bounds one command,
// not the wait for a free connection, and behind a partition that holds
// every connection callbacks would queue past KooGallery's 5 s; bounded,
// the handler answers 000005 in time and KooGallery retries.
//
// # Durability
//
// Durability is Redis's. Redis must not evict: because every key has a TTL,
// any maxmemory-policy but noeviction (volatile-lru, the default of most
// managed Redis, volatile-ttl, allkeys-lru, …) lets Redis delete live keys
// under memory pressure, and a deleted replay key accepts the replay, a
// deleted claim or record lets a second caller win the claim and provision
// again. Set maxmemory-policy noeviction: Redis then refuses writes when
// full, and the handler answers a retryable 000005 instead of provisioning
// twice. The store checks it: Open at once, New before its first Claim,
// Complete or Add (until a check succeeds, each of them checks again), and
// CheckServer for a deployment's own checks. They read INFO, not CONFIG
// (which managed Redis often disables), on every master of a Cluster, and
// refuse an evicting policy (or a master that refuses INFO, whose policy is
// unknown) with an error wrapping ErrEvictingPolicy, unless
// AcceptEvictionRisk says the seller accepts the risk. A failover or
// a master added to a Cluster after the check is not checked again: give
// every node the same configuration.
//
// With persistence off a restart of Redis forgets every record: a retry of
// a call served before it runs the Provider again, and a replay within the
// freshness window is accepted (internal/proof shows both); enable AOF
// (appendonly yes) for records that outlive one. Open and CheckServer warn
// (Report.Warnings) when neither AOF nor RDB snapshots are on.
// Replication is asynchronous: at a Sentinel failover (or a Cluster replica
// taking over) the writes the old master had not yet passed on are lost,
// and until the old master learns it was demoted, clients still connected
// to it write there, so two callers can both win one claim. WithWait closes
// that gap: every write waits for replicas to acknowledge it (Redis WAIT),
// and a write they did not acknowledge fails, and is undone where it was a
// new claim or replay key, instead of succeeding on a master about to lose
// it. Writes then fail while too few replicas are up. Keep the seller-side
// look-up of an instance already made for an order line in any case.
// PostgreSQL (the pgstore module) makes every acknowledged write durable.
//
// Create the client with ContextTimeoutEnabled so that a cancelled or
// expired context interrupts a command in flight; without it go-redis
// waits for its ReadTimeout. Keep DialTimeout and ReadTimeout short (about
// a second): when Redis is unreachable the handler must answer KooGallery's
// call with a retryable 000005 inside KooGallery's 5-second timeout.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/store"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "koogallery:"

// Store is a store.Store and a store.ReplayCache on Redis. It is safe for
// concurrent use, and any number of processes may share one Redis.
type Store struct {
	c           redis.UniversalClient
	checked     atomic.Bool // the server passed CheckServer
	accept      bool        // AcceptEvictionRisk
	rec         string      // prefix of record keys
	replay      string      // prefix of replay keys
	waitN       int
	waitTimeout time.Duration
	waitMs      int64         // waitTimeout for WAIT, at least 1 (0 would wait forever)
	timeout     time.Duration // WithTimeout
	checking    chan struct{} // one server check at a time
}

// New returns a Store on c. It sends nothing: the server is checked (see
// CheckServer) lazily, before the first Claim, Complete or Add, and until a
// check succeeds they fail with its error; Open checks at once instead. A
// nil client or an invalid option is an error, and New sends nothing then
// either.
func New(c redis.UniversalClient, opts ...Option) (*Store, error) {
	if isNil(c) {
		return nil, errors.New("redisstore: new: nil client")
	}
	o := options{prefix: DefaultPrefix, timeout: DefaultTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := checkPrefix(o.prefix); err != nil {
		return nil, fmt.Errorf("redisstore: new: %w", err)
	}
	if err := checkWait(c, o.waitN, o.waitTimeout); err != nil {
		return nil, fmt.Errorf("redisstore: new: %w", err)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("redisstore: new: WithTimeout(%v): the bound must be positive", o.timeout)
	}
	return &Store{
		c: c, rec: o.prefix + "rec:", replay: o.prefix + "replay:", accept: o.accept,
		waitN: o.waitN, waitTimeout: o.waitTimeout, waitMs: max(1, o.waitTimeout.Milliseconds()),
		timeout: o.timeout, checking: make(chan struct{}, 1),
	}, nil
}

// Open returns a Store on c after checking the server (CheckServer), so
// that a deployment that cannot keep the store's promise fails at start,
// not at its first call. The report's warnings (persistence off, eviction
// risk accepted) are for the seller's log. A nil client or an invalid
// option is New's error, returned before anything is sent; a failed check
// is an error too, with the report of what was read.
func Open(ctx context.Context, c redis.UniversalClient, opts ...Option) (*Store, *Report, error) {
	s, err := New(c, opts...)
	if err != nil {
		return nil, nil, err
	}
	r, err := checkServer(ctx, c, s.accept)
	if err != nil {
		return nil, r, err
	}
	s.checked.Store(true)
	return s, r, nil
}

// isNil reports whether c is nil, or a nil pointer to one of go-redis's
// clients, which would fail only at the first call.
func isNil(c redis.UniversalClient) bool {
	switch cc := c.(type) {
	case nil:
		return true
	case *redis.Client:
		return cc == nil
	case *redis.ClusterClient:
		return cc == nil
	case *redis.Ring:
		return cc == nil
	}
	return false
}

// ready checks the server once a check has not yet succeeded.
func (s *Store) ready(ctx context.Context) error {
	if s.checked.Load() {
		return nil
	}
	// One check at a time: the callers that arrive meanwhile wait for its
	// outcome instead of each reading INFO from every master.
	select {
	case s.checking <- struct{}{}:
	case <-ctx.Done():
		return wrap(ctx, "check", ctx.Err())
	}
	defer func() { <-s.checking }()
	if s.checked.Load() {
		return nil
	}
	if _, err := checkServer(ctx, s.c, s.accept); err != nil {
		return err
	}
	s.checked.Store(true)
	return nil
}

// Value tags of a record key.
const (
	claimTag  = 'c'
	recordTag = 'r'
)

// token returns a new random token.
func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}

// isClaim reports whether v is a claim: "c" and a token, or "c" alone, as
// earlier versions wrote it.
func isClaim(v string) bool {
	if v == "c" {
		return true
	}
	if len(v) != 17 || v[0] != claimTag {
		return false
	}
	_, err := hex.DecodeString(v[1:])
	return err == nil
}

// claimScript claims KEYS[1] for ARGV[1] milliseconds, as ARGV[2], if it is
// absent (an expired key is absent to Redis) or already holds ARGV[2] (this
// very call, sent again), and returns false; otherwise it returns the key's
// value.
const claimSource = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[2] then return v end
if not v then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) end
return false
`

var claimScript = redis.NewScript(claimSource)

// addSource records KEYS[1] for ARGV[1] milliseconds, as ARGV[2], and
// returns 1 if it is absent or already holds ARGV[2] (this very call, sent
// again); otherwise it returns 0.
const addSource = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[2] then return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return 1
`

var addScript = redis.NewScript(addSource)

// releaseScript deletes KEYS[1] only while it holds a claim (see isClaim).
var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and (v == 'c' or (string.len(v) == 17 and string.match(v, '^c%x+$'))) then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// releaseOwnScript deletes KEYS[1] only while it holds ARGV[1], the token
// of the write being taken back: never another caller's claim or key.
var releaseOwnScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// releaseOwn takes back a write of tok that the replicas did not
// acknowledge, so that a retry is not refused by it. In a failover the
// first attempts may reach a master on its way out, so it tries a few times
// over about a second. If every attempt fails, the key stays until its TTL:
// a claim's lease, during which the call is answered as in progress
// (000005), never provisioned twice.
func (s *Store) releaseOwn(ctx context.Context, k, tok string) {
	ctx = context.WithoutCancel(ctx)
	backoff := 50 * time.Millisecond
	for range 4 {
		c, cancel := context.WithTimeout(ctx, time.Second)
		err := releaseOwnScript.Run(c, s.c, []string{k}, tok).Err()
		cancel()
		if err == nil {
			return
		}
		time.Sleep(backoff)
		backoff *= 3
	}
}

// bounded returns ctx if it ends within the store's bound, else ctx bounded
// by it.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (*store.Record, bool, error) {
	ms, err := millis(ctx, "claim", "lease", lease)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return nil, false, err
	}
	var v string
	tok := string(claimTag) + token()
	if s.waitN == 0 {
		v, err = claimScript.Run(ctx, s.c, []string{s.rec + key}, ms, tok).Text()
	} else {
		v, err = s.claimWaited(ctx, s.rec+key, ms, tok)
	}
	switch {
	case errors.Is(err, redis.Nil):
		return nil, true, nil
	case err != nil:
		return nil, false, wrap(ctx, "claim", err)
	case isClaim(v):
		return nil, false, nil
	}
	r, ok := decode(v)
	if !ok {
		return nil, false, fmt.Errorf("redisstore: claim: the key holds a value this store did not write (%d bytes)", len(v))
	}
	return r, false, nil
}

// Complete implements store.Store.
func (s *Store) Complete(ctx context.Context, key string, r *store.Record, keep time.Duration) error {
	if r == nil {
		return errors.New("redisstore: complete: nil record")
	}
	ms, err := millis(ctx, "complete", "keep", keep)
	if err != nil {
		return err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return err
	}
	k, v, d := s.rec+key, encode(r), time.Duration(ms)*time.Millisecond
	if s.waitN == 0 {
		err = s.c.Set(ctx, k, v, d).Err()
	} else {
		_, err = s.waited(ctx, k, func(p redis.Pipeliner) redis.Cmder { return p.Set(ctx, k, v, d) })
	}
	if err != nil {
		return wrap(ctx, "complete", err)
	}
	return nil
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := releaseScript.Run(ctx, s.c, []string{s.rec + key}).Err(); err != nil {
		return wrap(ctx, "release", err)
	}
	return nil
}

// Add implements store.ReplayCache.
func (s *Store) Add(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ms, err := millis(ctx, "replay add", "ttl", ttl)
	if err != nil {
		return false, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	k, tok := s.replay+key, token()
	if s.waitN == 0 {
		n, err := addScript.Run(ctx, s.c, []string{k}, ms, tok).Int64()
		if err != nil {
			return false, wrap(ctx, "replay add", err)
		}
		return n == 1, nil
	}
	cmd, err := s.waited(ctx, k, func(p redis.Pipeliner) redis.Cmder { return p.Eval(ctx, addSource, []string{k}, ms, tok) })
	var added bool
	if cmd != nil {
		n, _ := cmd.(*redis.Cmd).Int64()
		added = n == 1
	}
	if err != nil {
		if added && errors.Is(err, ErrNotReplicated) {
			// Answered as a failure, the call may be delivered again as it
			// was: do not leave its key to refuse it as a replay.
			s.releaseOwn(ctx, k, tok)
		}
		return false, wrap(ctx, "replay add", err)
	}
	return added, nil
}

// claimWaited runs the claim script and WAIT on the master holding k. A
// claim the replicas did not acknowledge is taken back (only while it is
// this call's: after a failover the key may hold another caller's claim)
// and reported as an error, so that the key is not held for a lease nobody
// runs under.
func (s *Store) claimWaited(ctx context.Context, k string, ms int64, tok string) (string, error) {
	cmd, err := s.waited(ctx, k, func(p redis.Pipeliner) redis.Cmder {
		return p.Eval(ctx, claimSource, []string{k}, ms, tok)
	})
	if cmd == nil {
		return "", err
	}
	v, cerr := cmd.(*redis.Cmd).Text()
	if errors.Is(err, ErrNotReplicated) {
		if errors.Is(cerr, redis.Nil) {
			s.releaseOwn(ctx, k, tok)
			return "", err
		}
		// Nothing was written: the answer read stands.
		return v, cerr
	}
	if err != nil {
		return "", err
	}
	return v, cerr
}

// waited runs the command cmd adds, then WAIT, in one pipeline on the master
// holding k (WAIT counts the writes of its own connection). It returns cmd
// and an error wrapping ErrNotReplicated if fewer than waitN replicas
// acknowledged in time; cmd's own error, redis.Nil included, stays on cmd.
func (s *Store) waited(ctx context.Context, k string, cmd func(redis.Pipeliner) redis.Cmder) (redis.Cmder, error) {
	var node redis.Cmdable = s.c
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		n, err := cc.MasterForKey(ctx, k)
		if err != nil {
			return nil, err
		}
		node = n
	}
	var c redis.Cmder
	var w *redis.Cmd
	_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		c = cmd(p)
		w = p.Do(ctx, "WAIT", s.waitN, s.waitMs)
		return nil
	})
	if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	got, err := w.Int64()
	if err != nil {
		return c, err
	}
	if got < int64(s.waitN) {
		return c, fmt.Errorf("%w: %d of %d within %v", ErrNotReplicated, got, s.waitN, s.waitTimeout)
	}
	return c, nil
}

// encode writes r as the record tag, a pending flag and the InstanceID
// bytes as they are.
func encode(r *store.Record) string {
	p := byte('0')
	if r.Pending {
		p = '1'
	}
	b := make([]byte, 0, 2+len(r.InstanceID))
	b = append(b, recordTag, p)
	b = append(b, r.InstanceID...)
	return string(b)
}

func decode(v string) (*store.Record, bool) {
	if len(v) < 2 || v[0] != recordTag || (v[1] != '0' && v[1] != '1') {
		return nil, false
	}
	return &store.Record{InstanceID: v[2:], Pending: v[1] == '1'}, true
}

// millis checks ctx and d and returns d in whole milliseconds, rounded up.
func millis(ctx context.Context, op, name string, d time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("redisstore: %s: %s %v is not positive", op, name, d)
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return min(ms, maxMillis), nil
}

// maxMillis keeps a duration in milliseconds convertible back to a
// time.Duration; Redis refuses expiries that far out anyway.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// wrap names op, and the context's error when the context ended the call,
// so that errors.Is(err, ctx.Err()) holds whatever go-redis returned.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s: %w (%w)", op, cerr, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.ReplayCache = (*Store)(nil)
)
