package saas

import (
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
)

// Option configures NewHandler and NewV1Handler. It is the option type of
// every handler package (kit.Option, license.Option and
// order.NotificationOption are the same type), so options mix freely; a
// constructor given an option that does not apply to it, or an invalid
// value, panics at start-up naming it.
//
// Both handlers accept WithLogger, WithMaxBodyBytes, WithClockSkew,
// WithReplayCacheSize, WithClock and WithStore; NewV1Handler also
// WithEncryptType and WithV1Window.
type Option = callback.Option

// Options each handler accepts.
const (
	v2Options = callback.CommonOptions | callback.OptStore
	v1Options = v2Options | callback.OptEncryptType | callback.OptV1Window
)

// settings applies opts for ctor over base and fills in the defaults the
// SaaS handlers share.
func settings(ctor string, base callback.Config, accepted callback.Options, opts []Option) (*callback.Settings, *slog.Logger) {
	s := callback.Apply(ctor, base, accepted, opts)
	if s.Store == nil {
		s.Store = NewMemoryStore(DefaultMemoryStoreSize)
	}
	if s.Keep <= 0 {
		s.Keep = DefaultKeep
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	return s, log
}

// once returns the at-most-once group over the configured Store.
func once(s *callback.Settings, log *slog.Logger) idempotency.Group[Record] {
	return idempotency.Group[Record]{
		Store:  s.Store,
		Lease:  idempotency.Lease,
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

// WithClock sets the clock the freshness window is checked against
// (time.Now if nil). Tests give the handler and koogallerytest's sender one
// koogallerytest.Clock.
func WithClock(now func() time.Time) Option { return callback.WithClock(now) }

// WithStore sets where newInstance and upgrade outcomes are recorded and for
// how long (keep ≤ 0 selects DefaultKeep). The default is
// NewMemoryStore(DefaultMemoryStoreSize), which is enough for one process; a
// seller running several replicas passes a shared Store (modules
// store/redisstore, store/pgstore).
func WithStore(s Store, keep time.Duration) Option { return callback.WithStore(s, keep) }
