package saas

import (
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/store"
)

// Option configures NewHandler and NewV1Handler. It is the option type of
// every handler package (kit.Option, license.Option and
// order.NotificationOption are the same type), so options mix freely; a
// constructor given an option that does not apply to it, or an invalid
// value, panics at start-up naming it.
//
// Both handlers accept WithLogger, WithMaxBodyBytes, WithClockSkew,
// WithReplayCacheSize, WithClock, WithStore and WithClaimLease; NewHandler
// also WithReplayCache, NewV1Handler WithEncryptType and WithV1Window.
type Option = callback.Option

// Options each handler accepts.
const (
	v2Options = callback.CommonOptions | callback.OptStore | callback.OptReplayCache | callback.OptClaimLease
	v1Options = callback.CommonOptions | callback.OptStore | callback.OptEncryptType | callback.OptV1Window | callback.OptClaimLease
)

// settings applies opts for ctor over base and fills in the defaults the
// SaaS handlers share.
func settings(ctor string, base callback.Config, accepted callback.Options, opts []Option) (*callback.Settings, *slog.Logger) {
	s := callback.Apply(ctor, base, accepted, opts)
	if s.Keep <= 0 {
		s.Keep = DefaultKeep
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	return s, log
}

// once returns the at-most-once group over the configured Store, or a new
// in-memory one of DefaultMemoryStoreSize records on the handler's clock.
func once(s *callback.Settings, log *slog.Logger) idempotency.Group[Record] {
	st := s.Store
	if st == nil {
		st = store.NewMemory(DefaultMemoryStoreSize, store.WithClock(s.Now))
	}
	return idempotency.Group[Record]{
		Store:  st,
		Lease:  s.ClaimLease(),
		Keep:   s.Keep,
		Wait:   idempotency.Wait,
		Final:  func(r *Record) bool { return !r.Pending },
		Logger: log,
	}
}

// WithLogger sets the logger for refused calls, failures and panics
// (slog.Default() if nil). The key is never logged.
func WithLogger(l *slog.Logger) Option { return callback.WithLogger(l) }

// WithMaxBodyBytes bounds the request body of NewHandler (64 KiB by
// default) and the query of NewV1Handler (32 KiB by default), many times
// the largest documented call; n must be positive. A larger body or query
// answers 000002 without being read in full.
func WithMaxBodyBytes(n int64) Option { return callback.WithMaxBodyBytes(n) }

// WithClockSkew sets the allowance for clock skew on top of KooGallery's
// 60-second freshness window, in both directions (5 s by default; zero or
// negative for none). Keep the server's clock synchronised rather than
// raising it.
func WithClockSkew(d time.Duration) Option { return callback.WithClockSkew(d) }

// WithReplayCacheSize bounds the in-memory replay protection: the nonces of
// NewHandler, the served calls of NewV1Handler (65,536 by default, enough
// for over 1,000 calls a second; n must be positive).
func WithReplayCacheSize(n int) Option { return callback.WithReplayCacheSize(n) }

// WithReplayCache sets where the nonces of verified calls are remembered
// against replay, for as long as their timestamp is fresh. The default is
// in memory (WithReplayCacheSize entries): enough for one process, but a
// replica does not see another's nonces and a restart forgets them; several
// replicas share one store.ReplayCache (modules store/redisstore,
// store/pgstore). If it fails or is full, calls are answered 000005
// (retryable) and logged at ERROR, never accepted unchecked.
func WithReplayCache(c store.ReplayCache) Option { return callback.WithReplayCache(c) }

// WithClock sets the clock the freshness window is checked against
// (time.Now if nil). Tests give the handler and koogallerytest's sender one
// koogallerytest.Clock.
func WithClock(now func() time.Time) Option { return callback.WithClock(now) }

// WithStore sets where newInstance and upgrade outcomes are recorded and for
// how long (keep ≤ 0 selects DefaultKeep), and, for NewV1Handler, the calls
// already served (its replay guard, kept for the V1 window). The default is
// NewMemoryStore(DefaultMemoryStoreSize) for the outcomes and a memory store
// of WithReplayCacheSize keys for the served calls, enough for one process;
// a seller running several replicas passes a shared Store (modules
// store/redisstore, store/pgstore). A full or failing store answers 000005
// (retryable), logged at ERROR: nothing is provisioned without a claim.
func WithStore(s Store, keep time.Duration) Option { return callback.WithStore(s, keep) }

// WithClaimLease sets how long a replica's claim on an order line (and, for
// NewV1Handler, on a call its replay guard is serving) lives in the Store
// if the replica stops answering: 5 minutes by default, at least one
// second. The Provider runs with a context that ends at 4/5 of it, so that
// the claim cannot lapse while a Provider that honours its context is still
// working.
//
// Until a dead replica's lease runs out, every replica answers that order
// line's newInstance with a retryable 000005; then one of them takes the
// claim over and calls NewInstance again, which must find the instance the
// dead one had begun (look it up by order line before creating one).
// KooGallery re-sends hourly, so the default costs nothing there. Shorten
// the lease when NewInstance always finishes (or answers Pending) within a
// few seconds and an order line should be served again sooner after a
// crash, for the console's re-send or a seller's manual retry, or in fault
// drills that kill replicas; lengthen it only for a NewInstance that must
// run synchronously for longer than 4 minutes (answer Pending instead).
func WithClaimLease(d time.Duration) Option { return callback.WithClaimLease(d) }
