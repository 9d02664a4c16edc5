package license

import (
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/store"
)

// Option configures NewHandler. It is the option type of every handler
// package (saas.Option, kit.Option, order.NotificationOption are the same
// type); NewHandler accepts WithLogger, WithMaxBodyBytes, WithClockSkew,
// WithReplayCacheSize, WithReplayCache and WithClock, and panics at start-up
// on any other.
type Option = callback.Option

// WithLogger sets the logger for refused calls, failures and panics
// (slog.Default() if nil). The access key is never logged.
func WithLogger(l *slog.Logger) Option { return callback.WithLogger(l) }

// WithMaxBodyBytes bounds the request body (64 KiB by default, many times
// the largest documented body; n must be positive). A larger body answers
// 000002 without being read in full.
func WithMaxBodyBytes(n int64) Option { return callback.WithMaxBodyBytes(n) }

// WithClockSkew sets the allowance for clock skew on top of KooGallery's
// 60-second freshness window, in both directions (5 s by default; zero or
// negative for none).
func WithClockSkew(d time.Duration) Option { return callback.WithClockSkew(d) }

// WithReplayCacheSize bounds how many nonces are remembered to refuse
// replays (65,536 by default; n must be positive).
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
// (time.Now if nil). Tests give the handler and koogallerytest's sender
// one koogallerytest.Clock.
func WithClock(now func() time.Time) Option { return callback.WithClock(now) }
