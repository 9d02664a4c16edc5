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

// Option sets what one option configures. Users never see it: package
// callback (the public one) wraps each in a type that says which
// constructors accept it, so that an option given to a constructor it does
// not apply to does not compile.
type Option func(*Settings)

// Unwrap returns the Option inside one of package callback's option
// values; package callback sets it when it is initialised, and every
// handler package imports package callback for its option types.
var Unwrap func(opt any) Option

// Wrap returns an Option wrapped as package callback's option value, for a
// handler package's own options (saas.WithEncryptType, kit.WithPrivateKey);
// the caller asserts it to the public interface it returns.
var Wrap func(o Option) any

// Options reads the public options given to a constructor.
func Options[O any](opts []O) []Option {
	out := make([]Option, 0, len(opts))
	for _, o := range opts {
		if any(o) != nil {
			out = append(out, Unwrap(o))
		}
	}
	return out
}

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

	errs []string // invalid values found by the options
}

func (s *Settings) invalid(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// Apply applies opts over base for the constructor named ctor (for
// example "saas.NewHandler"). Which options a constructor accepts is
// checked when the program compiles (package callback's option types); an
// invalid value (a negative size, a lease under MinClaimLease) panics,
// naming every problem, like an invalid pattern given to
// http.ServeMux.Handle: it is a programming error, caught at start-up
// rather than ignored.
func Apply(ctor string, base Config, opts []Option) *Settings {
	s := &Settings{Config: base}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if len(s.errs) > 0 {
		panic(ctor + ": " + strings.Join(s.errs, "; "))
	}
	return s
}

// WithLogger sets the logger; nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *Settings) { s.Logger = l }
}

// WithMaxBodyBytes bounds the request body; n must be positive.
func WithMaxBodyBytes(n int64) Option {
	return func(s *Settings) {
		if n <= 0 {
			s.invalid("WithMaxBodyBytes(%d): the limit must be positive", n)
		}
		s.MaxBodyBytes = n
	}
}

// WithClockSkew sets the skew allowance; zero or negative means none.
func WithClockSkew(d time.Duration) Option {
	return func(s *Settings) { s.SetSkew(d) }
}

// WithReplayCacheSize bounds the in-memory replay protection; n must be
// positive.
func WithReplayCacheSize(n int) Option {
	return func(s *Settings) {
		if n <= 0 {
			s.invalid("WithReplayCacheSize(%d): the size must be positive", n)
		}
		s.ReplayCacheSize = n
	}
}

// WithClock sets the clock; nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Settings) { s.Now = now }
}

// WithStore sets the at-most-once Store (nil: the in-memory default) and
// how long its records are kept (≤ 0: the handler's default).
func WithStore(st store.Store, keep time.Duration) Option {
	return func(s *Settings) { s.Store, s.Keep = st, keep }
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
	return func(s *Settings) { s.Replay = c }
}

// WithEncryptType sets the V1 field encryption's key size: "1" (AES-256)
// or "2" (AES-128); "" means the default, AES-256.
func WithEncryptType(t string) Option {
	return func(s *Settings) {
		if t != "" && t != "1" && t != "2" {
			s.invalid("WithEncryptType(%q): the type must be AES256 (\"1\") or AES128 (\"2\")", t)
		}
		s.EncryptType = t
	}
}

// WithV1Window sets the V1 freshness window; zero or negative means none.
func WithV1Window(d time.Duration) Option {
	return func(s *Settings) { s.SetV1Window(d) }
}

// WithPrivateKey sets the kit's RSA private key for clientSecret; nil
// means none.
func WithPrivateKey(k crypto.Decrypter) Option {
	return func(s *Settings) { s.PrivateKey = k }
}

// WithObserver sets a function told the outcome of every call, after its
// answer is written; nil means none.
func WithObserver(fn func(context.Context, Outcome)) Option {
	return func(s *Settings) { s.Observe = fn }
}
