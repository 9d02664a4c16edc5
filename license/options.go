package license

import (
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
)

// Option configures NewHandler.
type Option func(*config)

type config = callback.Config

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
// negative for none).
func WithClockSkew(d time.Duration) Option {
	return func(c *config) { c.SetSkew(d) }
}

// WithReplayCacheSize bounds how many nonces are remembered to refuse
// replays (65,536 by default).
func WithReplayCacheSize(n int) Option {
	return func(c *config) { c.ReplayCacheSize = n }
}

// WithClock sets the clock the freshness window is checked against
// (time.Now by default); for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Now = now }
}
