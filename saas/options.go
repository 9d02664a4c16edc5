package saas

import (
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
)

// Option configures NewHandler, NewV1Handler and NewKitHandler.
type Option func(*config)

// newConfig applies opts over base and returns the configuration with the
// defaults every handler shares, and the logger to use.
func newConfig(base callback.Config, opts []Option) (*config, *slog.Logger) {
	cfg := &config{Config: base}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.store == nil {
		cfg.store = NewMemoryStore(DefaultMemoryStoreSize)
	}
	if cfg.keep <= 0 {
		cfg.keep = DefaultKeep
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return cfg, log
}

// once returns the at-most-once group over the configured Store.
func (c *config) once(log *slog.Logger) idempotency.Group[Record] {
	return idempotency.Group[Record]{
		Store:  c.store,
		Lease:  claimLease,
		Keep:   c.keep,
		Wait:   claimWait,
		Final:  func(r *Record) bool { return !r.Pending },
		Logger: log,
	}
}

type config struct {
	callback.Config
	store Store
	keep  time.Duration
	v1    v1Config // NewV1Handler and NewKitHandler settings, see v1options.go
}

// WithLogger sets the logger for refused calls, failures and panics
// (slog.Default() by default). The access key is never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.Logger = l }
}

// WithMaxBodyBytes bounds the request body (1 MiB by default). A larger
// body answers 000002 without being read in full.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.MaxBodyBytes = n }
}

// WithClockSkew sets the allowance for clock skew on top of KooGallery's
// 60-second freshness window, in both directions (5 s by default; zero or
// negative for none). Keep the server's clock synchronised rather than
// raising it.
func WithClockSkew(d time.Duration) Option {
	return func(c *config) { c.SetSkew(d) }
}

// WithReplayCacheSize bounds how many nonces are remembered to refuse
// replays (65,536 by default, enough for over 1,000 calls a second).
func WithReplayCacheSize(n int) Option {
	return func(c *config) { c.ReplayCacheSize = n }
}

// WithClock sets the clock the freshness window is checked against
// (time.Now by default); for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Now = now }
}

// WithStore sets where newInstance and upgradeInstance outcomes are recorded
// and for how long (keep ≤ 0 selects DefaultKeep). The default is
// NewMemoryStore(DefaultMemoryStoreSize), which is enough for one process; a
// seller running several replicas passes a shared Store.
func WithStore(s Store, keep time.Duration) Option {
	return func(c *config) {
		c.store = s
		c.keep = keep
	}
}
