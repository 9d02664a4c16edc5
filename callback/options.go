package callback

import (
	"context"
	"log/slog"
	"time"

	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/store"
)

// SaaSOption configures saas.NewHandler (SaaS V2).
type SaaSOption interface{ saas() }

// SaaSV1Option configures saas.NewV1Handler (SaaS V1).
type SaaSV1Option interface{ saasV1() }

// KitOption configures kit.NewHandler (the joint-operation kit, V2 and V1).
type KitOption interface{ kit() }

// LicenseOption configures license.NewHandler (License 2.0).
type LicenseOption interface{ license() }

// NotificationOption configures order.NewNotificationHandler (orderNotify).
type NotificationOption interface{ notification() }

// VerifierOption configures NewV2Verifier and NewKitVerifier.
type VerifierOption interface{ verifier() }

// V1VerifierOption configures NewV1Verifier and NewKitV1Verifier.
type V1VerifierOption interface{ verifierV1() }

// HandlerOption is accepted by every handler: WithLogger, WithObserver.
type HandlerOption interface {
	SaaSOption
	SaaSV1Option
	KitOption
	LicenseOption
	NotificationOption
}

// Option is accepted by every handler and verifier: WithClock,
// WithClockSkew, WithMaxBodyBytes.
type Option interface {
	HandlerOption
	VerifierOption
	V1VerifierOption
}

// ReplayCacheSizeOption is accepted by every handler and by the V2
// verifiers: WithReplayCacheSize.
type ReplayCacheSizeOption interface {
	HandlerOption
	VerifierOption
}

// ReplayCacheOption is accepted by the handlers and verifiers of the
// schemes with a nonce (SaaS V2, the kit, License 2.0, orderNotify):
// WithReplayCache. SaaS V1 has no nonce; its handler remembers the calls it
// served in its Store.
type ReplayCacheOption interface {
	SaaSOption
	KitOption
	LicenseOption
	NotificationOption
	VerifierOption
}

// StoreOption is accepted by the handlers that provision at most once
// (SaaS V2 and V1, the kit): WithStore, WithClaimLease.
type StoreOption interface {
	SaaSOption
	SaaSV1Option
	KitOption
}

// V1WindowOption is accepted where V1 calls are verified (SaaS V1, the
// kit's V1 interfaces, the V1 verifiers): WithV1Window.
type V1WindowOption interface {
	SaaSV1Option
	KitOption
	V1VerifierOption
}

// option is every option's value: what it sets. Its static type, one of
// the interfaces above, limits where it can be given.
type option struct{ set engine.Option }

func (option) saas()         {}
func (option) saasV1()       {}
func (option) kit()          {}
func (option) license()      {}
func (option) notification() {}
func (option) verifier()     {}
func (option) verifierV1()   {}

func init() {
	engine.Unwrap = func(o any) engine.Option { return o.(option).set }
	engine.Wrap = func(o engine.Option) any { return option{o} }
}

// WithLogger sets the logger for refused calls, failures and panics
// (slog.Default() if nil). No key, signature or secret field is ever logged.
func WithLogger(l *slog.Logger) HandlerOption { return option{engine.WithLogger(l)} }

// WithObserver sets a function told the Outcome of every call, after its
// answer is written: the place for metrics (calls by family, activity and
// result code; refusals by reason; durations) without this SDK depending on
// a metrics library. It runs on the request's goroutine; keep it fast. nil
// means none.
func WithObserver(fn func(context.Context, Outcome)) HandlerOption {
	if fn == nil {
		return option{engine.WithObserver(nil)}
	}
	return option{engine.WithObserver(func(ctx context.Context, o engine.Outcome) { fn(ctx, Outcome(o)) })}
}

// WithClock sets the clock the freshness windows, leases and records are
// checked against (time.Now if nil). Tests pin it.
func WithClock(now func() time.Time) Option { return option{engine.WithClock(now)} }

// WithClockSkew sets the allowance for clock skew on top of KooGallery's
// 60-second freshness window (and the V1 window), in both directions (5 s by
// default; zero or negative for none). Keep the server's clock synchronised
// rather than raising it.
func WithClockSkew(d time.Duration) Option { return option{engine.WithClockSkew(d)} }

// WithMaxBodyBytes bounds the request body (64 KiB by default for V2,
// License and orderNotify, 1 MiB for the kit) or the V1 query (32 KiB),
// many times the largest documented call; n must be positive. A larger body
// or query is answered 000002 without being read in full.
func WithMaxBodyBytes(n int64) Option { return option{engine.WithMaxBodyBytes(n)} }

// WithReplayCacheSize bounds the in-memory replay protection: the nonces of
// the V2 schemes, the calls a V1 handler served (65,536 by default, enough
// for over 1,000 calls a second; n must be positive). A full cache refuses
// new calls with 000005 (KooGallery retries) rather than forget one.
func WithReplayCacheSize(n int) ReplayCacheSizeOption {
	return option{engine.WithReplayCacheSize(n)}
}

// WithReplayCache sets where the nonces of verified calls are remembered:
// in memory by default; replicas behind one URL share one store.ReplayCache
// (store/redisstore, store/pgstore), or a replay refused by one replica is
// accepted by another.
func WithReplayCache(c store.ReplayCache) ReplayCacheOption {
	return option{engine.WithReplayCache(c)}
}

// WithStore sets where newInstance and upgrade outcomes are recorded and for
// how long (keep ≤ 0 selects saas.DefaultKeep), and, for saas.NewV1Handler,
// the calls already served (its replay guard, kept for the V1 window). The
// default is a bounded memory store, enough for one process; a seller
// running several replicas passes a shared Store (modules store/redisstore,
// store/pgstore). A full or failing store answers 000005 (retryable), logged
// at ERROR: nothing is provisioned without a claim.
func WithStore(s store.Store, keep time.Duration) StoreOption {
	return option{engine.WithStore(s, keep)}
}

// MinClaimLease is the shortest lease WithClaimLease accepts.
const MinClaimLease = engine.MinClaimLease

// WithClaimLease sets how long a replica's claim on an order line (and, for
// saas.NewV1Handler, on a call its replay guard is serving) lives in the
// Store if the replica stops answering: 5 minutes by default, at least
// MinClaimLease. The Provider runs with a context that ends at 4/5 of it, so
// that the claim cannot lapse while a Provider that honours its context is
// still working.
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
func WithClaimLease(d time.Duration) StoreOption { return option{engine.WithClaimLease(d)} }

// WithV1Window sets how far the timeStamp of a V1 call (saas.NewV1Handler,
// the V1 paths of kit.NewHandler, the V1 verifiers) may lie from the
// server's clock, in either direction, before the call is refused with
// 000001; the WithClockSkew allowance comes on top. The default is 24 hours;
// zero or negative turns the check off.
//
// KooGallery documents no window for V1, and re-sends failed calls for up
// to three hours: a tight window would refuse its retries should they carry
// the original timeStamp. Without a window, a V1 URL from an access log
// could be replayed forever. Keep the default unless the logs show genuine
// calls refused as "outside the V1 freshness window".
func WithV1Window(d time.Duration) V1WindowOption { return option{engine.WithV1Window(d)} }
