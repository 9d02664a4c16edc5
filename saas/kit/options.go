package kit

import (
	"crypto"
	"log/slog"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/store"
)

// Option configures NewHandler. It is the option type of every handler
// package (saas.Option, license.Option and order.NotificationOption are the
// same type), so options mix freely; NewHandler accepts WithLogger,
// WithMaxBodyBytes, WithClockSkew, WithReplayCacheSize, WithReplayCache,
// WithStore, WithClaimLease, WithClock, WithV1Window and WithPrivateKey, and
// panics at start-up on any other or on an invalid value.
type Option = callback.Option

const handlerOptions = callback.CommonOptions | callback.OptV1Window | callback.OptPrivateKey | callback.OptStore | callback.OptReplayCache |
	callback.OptClaimLease

// WithLogger sets the logger for refused calls, failures and panics
// (slog.Default() if nil). The key, the clientSecret and the users' data are
// never logged.
func WithLogger(l *slog.Logger) Option { return callback.WithLogger(l) }

// WithMaxBodyBytes bounds the request body (1 MiB by default, enough for 500 users at the documented maxima; n must be
// positive). A larger body answers 000002 without being read in full.
func WithMaxBodyBytes(n int64) Option { return callback.WithMaxBodyBytes(n) }

// WithClockSkew sets the allowance for clock skew on top of the freshness
// windows (60 s for V2, WithV1Window for V1), in both directions (5 s by
// default; zero or negative for none).
func WithClockSkew(d time.Duration) Option { return callback.WithClockSkew(d) }

// WithReplayCacheSize bounds the in-memory replay protection: the V2 nonces
// and the deliveries already served (65,536 by default; n must be positive).
func WithReplayCacheSize(n int) Option { return callback.WithReplayCacheSize(n) }

// WithReplayCache sets where the nonces of verified V2 calls are remembered
// against replay, for as long as their timestamp is fresh (in memory by
// default, WithReplayCacheSize entries); several replicas share one
// store.ReplayCache (modules store/redisstore, store/pgstore). If it fails
// or is full, calls are answered 000005 (retryable) and logged at ERROR,
// never accepted unchecked.
func WithReplayCache(c store.ReplayCache) Option { return callback.WithReplayCache(c) }

// WithStore sets where the calls already served are remembered (their
// replay guard and de-duplication: see NewHandler), each for the V1 window
// (keep is not used: the kit keeps no outcomes). The default is in memory,
// WithReplayCacheSize keys; several replicas share one store.Store. If it
// fails or is full, calls are answered 000005 (retryable) and logged at
// ERROR, never served unchecked.
func WithStore(s store.Store, keep time.Duration) Option { return callback.WithStore(s, keep) }

// WithClaimLease sets how long a replica's claim on a call being served
// lives in the Store (WithStore) if the replica stops answering: 5 minutes
// by default, at least one second. Until it runs out, an identical delivery
// to another replica is answered 000005; the Provider runs with a context
// that ends at 4/5 of it. See saas.WithClaimLease for when to change it.
func WithClaimLease(d time.Duration) Option { return callback.WithClaimLease(d) }

// WithClock sets the clock the freshness windows are checked against
// (time.Now if nil). Tests give the handler and koogallerytest's senders one
// koogallerytest.Clock.
func WithClock(now func() time.Time) Option { return callback.WithClock(now) }

// WithV1Window sets how far the body timeStamp of a V1 kit call may lie
// from the server's clock, in either direction, before the call is refused
// with 000001 (24 hours by default; zero or negative turns the check off).
// KooGallery documents no window for V1; see saas.WithV1Window.
func WithV1Window(d time.Duration) Option { return callback.WithV1Window(d) }

// WithPrivateKey sets the RSA private key NewHandler decrypts the
// clientSecret of applicationSync with: the key whose public half was
// uploaded at 应用凭证申请 (≥ 3072 bits). An *rsa.PrivateKey works (see
// ParsePrivateKey), as does a KMS or HSM key whose Decrypt accepts
// *rsa.OAEPOptions. Without it, ApplicationSyncRequest.ClientSecret stays
// empty and EncryptedClientSecret carries the ciphertext as received.
func WithPrivateKey(k crypto.Decrypter) Option { return callback.WithPrivateKey(k) }
