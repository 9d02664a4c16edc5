// Package callback verifies KooGallery's production-interface callbacks
// where no http.Handler can be mounted: calls received through a queue, a
// serverless runtime or another router. It is the engine of the handlers in
// packages saas, saas/kit, license and order (same checks, same replay
// protection, same bounds), minus the decoding and the answer, which the
// caller does.
//
// A Verifier per scheme and key:
//
//   - NewV2Verifier: SaaS V2 basic interface, License 2.0 and order
//     notification (signature, timestamp and nonce in the query);
//   - NewKitVerifier: the joint-operation kit's V2 interfaces (x-sign,
//     x-timestamp and x-nonce headers);
//   - NewKitV1Verifier: the kit's V1 interfaces (authToken header);
//   - NewV1Verifier: the SaaS V1 basic interface (GET, authToken in the
//     query).
//
// Verify returns the verified call, or an error whose Result is the answer
// KooGallery expects (000001 not proven to come from KooGallery, 000002
// malformed, 000005 retry: the replay protection could not be consulted). A
// verified call has been recorded against replay: verify each delivery
// once. Answer every call with HTTP 200 and a JSON {"resultCode","resultMsg"}
// body; V1 answers also need a Body-Sign header over exactly the bytes
// sent, which the handlers write and this package does not.
//
// # Options
//
// This package also defines, once, the options of every handler
// (saas.NewHandler, saas.NewV1Handler, kit.NewHandler, license.NewHandler,
// order.NewNotificationHandler) and of its verifiers. Each constructor
// accepts one option interface (SaaSOption, SaaSV1Option, KitOption,
// LicenseOption, NotificationOption, VerifierOption, V1VerifierOption), and
// each option returns a type that says which constructors it applies to:
// Option (all), HandlerOption (every handler), ReplayCacheSizeOption,
// ReplayCacheOption, StoreOption, V1WindowOption. Giving a constructor an
// option that does not apply to it does not compile. The two options that
// belong to one handler live in its package: saas.WithEncryptType and
// kit.WithPrivateKey. A nil option is ignored; an invalid value (a size that
// is not positive, a lease under MinClaimLease) panics when the constructor
// runs, naming the option, as an invalid pattern given to
// http.ServeMux.Handle does.
package callback

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// Request is a callback stripped of its transport.
type Request struct {
	// Method is the HTTP method: POST, or GET for the V1 basic interface.
	Method string
	// RawQuery is the URL's query without the '?' (URL.RawQuery): the V2
	// scheme's signature, timestamp and nonce, or the V1 query.
	RawQuery string
	// Header holds the kit schemes' headers (x-sign, x-timestamp, x-nonce;
	// authToken); only those are read. Keys in canonical form, as
	// http.Header has them.
	Header http.Header
	// Body is the request body as received.
	Body []byte
}

// Outcome is what a handler of packages saas, saas/kit, license and order
// tells the observer given to their WithObserver option about each call,
// once its answer is written: family, activity, result code, why a call was
// refused or failed, and how long it took. Every field has few distinct
// values, so each can be a metric label.
type Outcome struct {
	// Family is the handler: "saas" (V2), "saas.v1", "saas.kit", "license"
	// or "order".
	Family string
	// Activity is the call's activity or kit interface, once verified and
	// decoded; empty for calls refused before.
	Activity string
	// ResultCode is the resultCode answered.
	ResultCode string
	// Reason says why a call was not served: for 000001 which check failed
	// ("signature mismatch", "timestamp outside the freshness window",
	// "replayed nonce", ...); "store unavailable" or "store full" (and the
	// same for the replay cache) for a retryable 000005; "panic"; "provider
	// error" for an error from the seller's code; "invalid request" for a
	// malformed call. Empty when the call was served.
	Reason string
	// Duration is the time from the start of the call to the answer.
	Duration time.Duration
}

// Verifier verifies the callbacks of one scheme signed with one key. It is
// safe for concurrent use.
type Verifier struct {
	h      *engine.Handler
	scheme engine.Scheme
}

// Call is a verified callback.
type Call struct {
	// Body is the body as received (it aliases Request.Body). For the V1
	// basic interface it is the query, written so that a form decoder
	// (url.ParseQuery) reads the values the authToken covered.
	Body []byte
	// Values are the V1 basic interface's parameters, as signed (nil for
	// the other schemes).
	Values url.Values
	// ID identifies a verified V1 call (basic or kit), which has no nonce:
	// the hex MAC its authToken carries, the same for every spelling of the
	// token. Record it to serve a re-delivered call only once. Empty for the
	// V2 schemes, whose nonces Verify already remembers.
	ID string
}

func newVerifier(ctor, key string, scheme engine.Scheme, opts []engine.Option) *Verifier {
	if key == "" {
		panic("callback." + ctor + ": empty key")
	}
	s := engine.Apply("callback."+ctor, engine.Config{Family: "callback", Scheme: scheme}, opts)
	noServe := func(context.Context, []byte, *engine.Response) error { return nil }
	return &Verifier{h: engine.NewHandler(key, s.Config, noServe), scheme: scheme}
}

// NewV2Verifier returns a Verifier for the SaaS V2 basic interface,
// License 2.0 and the order notification, signed with accessKey. It accepts
// WithClock, WithClockSkew, WithMaxBodyBytes, WithReplayCache and
// WithReplayCacheSize.
func NewV2Verifier(accessKey string, opts ...VerifierOption) *Verifier {
	return newVerifier("NewV2Verifier", accessKey, engine.SchemeV2, engine.Options(opts))
}

// NewKitVerifier returns a Verifier for the joint-operation kit's V2
// interfaces (…/produceAPI/v2/…), signed with the kit's accessKey. It
// accepts the options of NewV2Verifier. The signature does not cover the
// path: check that the body carries the members that identify the
// interface the path names (kit.NewHandler's documentation lists them).
func NewKitVerifier(accessKey string, opts ...VerifierOption) *Verifier {
	return newVerifier("NewKitVerifier", accessKey, engine.SchemeKit, engine.Options(opts))
}

// NewKitV1Verifier returns a Verifier for the kit's V1 interfaces
// (…/produceAPI/…, authToken header) signed with the Key. It accepts
// WithClock, WithClockSkew, WithMaxBodyBytes and WithV1Window. V1 has no
// nonce: de-duplicate verified calls by Call.ID. The token skips null and
// blank members: treat them as absent, never as overriding another.
func NewKitV1Verifier(key string, opts ...V1VerifierOption) *Verifier {
	return newVerifier("NewKitV1Verifier", key, engine.SchemeV1Kit, engine.Options(opts))
}

// NewV1Verifier returns a Verifier for the SaaS V1 basic interface (GET,
// authToken in the query) signed with the Key. It accepts the options of
// NewKitV1Verifier. V1 has no nonce: de-duplicate verified calls by
// Call.ID.
func NewV1Verifier(key string, opts ...V1VerifierOption) *Verifier {
	return newVerifier("NewV1Verifier", key, engine.SchemeV1Query, engine.Options(opts))
}

// Verify checks r and returns the verified call, or an error (see Result).
func (v *Verifier) Verify(ctx context.Context, r *Request) (*Call, error) {
	body, err := v.h.Verify(ctx, (*engine.Request)(r))
	if err != nil {
		return nil, err
	}
	c := &Call{Body: body}
	switch v.scheme {
	case engine.SchemeV1Query:
		if c.Values, err = url.ParseQuery(string(body)); err != nil {
			return nil, err // unreachable: the engine parsed it
		}
		c.ID = tokenID(c.Values.Get(v1sign.ParamAuthToken))
	case engine.SchemeV1Kit:
		c.ID = tokenID(r.Header.Get(v1sign.HeaderAuthToken))
	}
	return c, nil
}

func tokenID(token string) string {
	mac, _ := v1sign.TokenMAC(token) // verified
	return hex.EncodeToString(mac[:])
}

// Result returns the resultCode and resultMsg to answer KooGallery with for
// an error Verify returned (000000 for nil). The reason of a refusal is not
// in it; log err for that.
func Result(err error) (code, message string) { return engine.Result(err) }
