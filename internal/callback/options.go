package callback

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/store"
)

// Option configures a production-interface handler. Packages saas,
// saas/kit, license and order alias it (saas.Option, kit.Option, ...), so
// their options mix freely; each handler constructor names the options it
// accepts and panics at start-up, naming the option, when given another.
type Option func(*Settings)

// Settings is what the options set: the engine's Config and the settings
// only some handlers use.
type Settings struct {
	Config
	// Store and Keep: WithStore.
	Store store.Store
	Keep  time.Duration
	// Lease: WithClaimLease (0: idempotency.Lease).
	Lease time.Duration
	// EncryptType: WithEncryptType (SaaS V1 field encryption), as sent in
	// answers ("1" AES-256, "2" AES-128).
	EncryptType string
	// PrivateKey: WithPrivateKey (the kit's clientSecret).
	PrivateKey crypto.Decrypter

	set  Options  // options applied so far
	errs []string // invalid values found by the options
}

// Options is a set of handler options, as a bit set.
type Options uint32

// The handler options.
const (
	OptLogger Options = 1 << iota
	OptMaxBodyBytes
	OptClockSkew
	OptReplayCacheSize
	OptClock
	OptStore
	OptEncryptType
	OptV1Window
	OptPrivateKey
	OptReplayCache
	OptObserver
	OptClaimLease
)

// CommonOptions are accepted by every handler.
const CommonOptions = OptLogger | OptMaxBodyBytes | OptClockSkew | OptReplayCacheSize | OptClock | OptObserver

var optionNames = [...]string{"WithLogger", "WithMaxBodyBytes", "WithClockSkew", "WithReplayCacheSize", "WithClock",
	"WithStore", "WithEncryptType", "WithV1Window", "WithPrivateKey", "WithReplayCache", "WithObserver", "WithClaimLease"}

func (s *Settings) mark(o Options) { s.set |= o }

func (s *Settings) invalid(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// Apply applies opts over base for the constructor named ctor (for
// example "saas.NewHandler"), which accepts the options in accepted. It
// panics, naming every problem, if an option is not accepted or has an
// invalid value: a misconfigured handler is a programming error, caught at
// start-up rather than ignored.
func Apply(ctor string, base Config, accepted Options, opts []Option) *Settings {
	s := &Settings{Config: base}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	errs := s.errs
	if extra := s.set &^ accepted; extra != 0 {
		for i, name := range optionNames {
			if extra&(1<<i) != 0 {
				errs = append(errs, name+" does not apply to this handler")
			}
		}
	}
	if len(errs) > 0 {
		panic(ctor + ": " + strings.Join(errs, "; "))
	}
	return s
}

// WithLogger sets the logger; nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *Settings) { s.mark(OptLogger); s.Logger = l }
}

// WithMaxBodyBytes bounds the request body; n must be positive.
func WithMaxBodyBytes(n int64) Option {
	return func(s *Settings) {
		s.mark(OptMaxBodyBytes)
		if n <= 0 {
			s.invalid("WithMaxBodyBytes(%d): the limit must be positive", n)
		}
		s.MaxBodyBytes = n
	}
}

// WithClockSkew sets the skew allowance; zero or negative means none.
func WithClockSkew(d time.Duration) Option {
	return func(s *Settings) { s.mark(OptClockSkew); s.SetSkew(d) }
}

// WithReplayCacheSize bounds the in-memory replay protection; n must be
// positive.
func WithReplayCacheSize(n int) Option {
	return func(s *Settings) {
		s.mark(OptReplayCacheSize)
		if n <= 0 {
			s.invalid("WithReplayCacheSize(%d): the size must be positive", n)
		}
		s.ReplayCacheSize = n
	}
}

// WithClock sets the clock; nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Settings) { s.mark(OptClock); s.Now = now }
}

// WithStore sets the at-most-once Store (nil: the in-memory default) and
// how long its records are kept (≤ 0: the handler's default).
func WithStore(st store.Store, keep time.Duration) Option {
	return func(s *Settings) { s.mark(OptStore); s.Store, s.Keep = st, keep }
}

// MinClaimLease is the shortest lease WithClaimLease accepts: the seller's
// code gets 4/5 of it, and a lease of nanoseconds (WithClaimLease(5)) is a
// mistake, not a choice.
const MinClaimLease = time.Second

// WithClaimLease sets how long a claim lives in the Store when its holder
// stops answering (≥ MinClaimLease); the seller's code runs with a context
// ending at 4/5 of it.
func WithClaimLease(d time.Duration) Option {
	return func(s *Settings) {
		s.mark(OptClaimLease)
		if d < MinClaimLease {
			s.invalid("WithClaimLease(%v): the lease must be at least %v (the provider gets 4/5 of it)", d, MinClaimLease)
		}
		s.Lease = d
	}
}

// ClaimLease is the configured claim lease, idempotency.Lease by default.
func (s *Settings) ClaimLease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return idempotency.Lease
}

// WithReplayCache sets where the nonces of verified V2 and kit calls are
// remembered (nil: the in-memory default).
func WithReplayCache(c store.ReplayCache) Option {
	return func(s *Settings) { s.mark(OptReplayCache); s.Replay = c }
}

// WithEncryptType sets the V1 field encryption's key size: "1" (AES-256)
// or "2" (AES-128); "" means the default, AES-256.
func WithEncryptType(t string) Option {
	return func(s *Settings) {
		s.mark(OptEncryptType)
		if t != "" && t != "1" && t != "2" {
			s.invalid("WithEncryptType(%q): the type must be AES256 (\"1\") or AES128 (\"2\")", t)
		}
		s.EncryptType = t
	}
}

// WithV1Window sets the V1 freshness window; zero or negative means none.
func WithV1Window(d time.Duration) Option {
	return func(s *Settings) { s.mark(OptV1Window); s.SetV1Window(d) }
}

// WithPrivateKey sets the kit's RSA private key for clientSecret; nil
// means none.
func WithPrivateKey(k crypto.Decrypter) Option {
	return func(s *Settings) { s.mark(OptPrivateKey); s.PrivateKey = k }
}

// WithObserver sets a function told the outcome of every call, after its
// answer is written; nil means none.
func WithObserver(fn func(context.Context, Outcome)) Option {
	return func(s *Settings) { s.mark(OptObserver); s.Observe = fn }
}
