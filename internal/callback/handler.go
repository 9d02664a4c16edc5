// Package callback is the engine behind every production-interface handler
// (SaaS V2 basic, License 2.0, order notification, the joint-operation kit's
// x-sign, and the V1 authToken schemes of the SaaS V1 basic interface and the
// kit V1): signature schemes, freshness window, nonce replay cache, bounded
// body, the JSON result envelope (signed with Body-Sign for V1), mapping
// errors and panics to result codes, and logging.
//
// Result-code policy. Every refusal on security grounds (missing, malformed
// or wrong signature, timestamp or nonce, a timestamp outside the window, a
// replayed nonce) answers 000001 "authentication failed". The official demo
// answers 000002 for a stale timestamp or a missing nonce; KooGallery treats
// both codes alike (a failure, retried), so one code for "not proven to come
// from KooGallery" is simpler to operate, gives a prober nothing to tell the
// cases apart, and the log says which check failed. 000002 is kept for
// verified calls that are malformed: a body that is not a JSON object, an
// unknown activity, a missing or invalid field, and also a non-POST method and
// an oversized body (refused before any signature can be checked).
package callback

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/store"
)

// Scheme says where a callback carries its signature.
type Scheme uint8

const (
	// SchemeV2 is the query-parameter scheme of SaaS V2, License 2.0 and
	// orderNotify: ?signature=&timestamp=&nonce=, two-stage HMAC (§3.4).
	SchemeV2 Scheme = iota
	// SchemeKit is the joint-operation kit V2 scheme: x-sign, x-timestamp
	// and x-nonce headers, one-stage HMAC (§3.5).
	SchemeKit
)

// Default bounds of a callback's body (the V1 basic interface: its query),
// per scheme. They are sized from the documented fields, with room to
// spare, because what an unauthenticated caller can make a handler read and
// parse grows with them.
const (
	// DefaultMaxBodyV2 bounds SaaS V2, License 2.0 and orderNotify bodies:
	// flat objects of documented strings, a few hundred bytes, the largest
	// under 4 KiB (a 2,048-character saasExtendParams).
	DefaultMaxBodyV2 = 64 << 10
	// DefaultMaxBodyKit bounds kit bodies, V2 and V1. authSync is the
	// largest: at most 500 users of at most about 1.4 KB each at the
	// documented maxima (userName, name, orgCode, position, employeeCode 64
	// characters, role 32, enable 8, mobile 32, email 128, workPlace,
	// entryDate, an extension object; names and position as 3-byte UTF-8;
	// member names and V1's escaped quotes), about 700 KB.
	DefaultMaxBodyKit = 1 << 20
	// DefaultMaxQueryV1 bounds a SaaS V1 query: about twenty parameters and
	// a saasExtendParams of at most 2,048 characters, percent-encoded, stay
	// under 10 KB.
	DefaultMaxQueryV1 = 32 << 10
)

// DefaultMaxBody returns the default bound of a body (or V1 query) of
// scheme s.
func DefaultMaxBody(s Scheme) int64 {
	switch s {
	case SchemeKit, SchemeV1Kit:
		return DefaultMaxBodyKit
	case SchemeV1Query:
		return DefaultMaxQueryV1
	}
	return DefaultMaxBodyV2
}

// Config configures a Handler. A zero field selects its default.
type Config struct {
	// Family names the handler in logs: "saas", "license", "order".
	Family string
	Scheme Scheme
	// Logger receives refusals, failures and panics; slog.Default() if nil.
	Logger *slog.Logger
	// MaxBodyBytes bounds the body, and the query of SchemeV1Query
	// (DefaultMaxBody(Scheme) if ≤ 0).
	MaxBodyBytes int64
	// Skew is the clock-skew allowance on top of Window (DefaultSkew if
	// zero; negative means none). Options set it with SetSkew.
	Skew time.Duration
	// ReplayCacheSize bounds the in-memory nonce cache used when Replay is
	// nil (DefaultReplayCacheSize if ≤ 0).
	ReplayCacheSize int
	// Replay remembers the nonces of verified V2 and kit calls (an
	// in-memory cache of ReplayCacheSize entries if nil).
	Replay store.ReplayCache
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// V1Window is how far a V1 call's timeStamp may lie from Now, in either
	// direction (DefaultV1Window if zero; negative means no check). Only the
	// V1 schemes use it; options set it with SetV1Window.
	V1Window time.Duration
	// Observe is told the outcome of every call (none if nil).
	Observe func(context.Context, Outcome)
}

// Outcome is what a handler tells its observer about one call, after the
// answer is written: enough to count calls, refusals and failures per
// family, activity and result code, and to time them, without the SDK
// depending on a metrics library. Every field has few distinct values, so
// each can be a metric label.
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

// SetSkew sets an explicit allowance: zero or negative means none, unlike
// the zero Skew field, which selects DefaultSkew.
func (c *Config) SetSkew(d time.Duration) {
	if d <= 0 {
		d = -1
	}
	c.Skew = d
}

// Response is what Serve fills in for a call it handled.
type Response struct {
	// Activity names the call in logs.
	Activity string
	// Code replaces 000000 for a non-failure answer, such as 000004 for
	// asynchronous provisioning.
	Code string
	// Message replaces the code's default resultMsg.
	Message string
	// Extra holds further members of the answer, each written as
	// `,"name":value` (see AppendString). It is dropped when Serve fails.
	Extra []byte
	// V1Query is the verified query of a SchemeV1Query call, its values
	// under the reading that verified (the body Serve gets is the same
	// query written for a form decoder), so that Serve need not parse it
	// again; nil for the other schemes. Valid only during the call.
	V1Query *v1sign.Query
}

// Serve handles one verified callback. body is the raw request body and is
// valid only during the call. A returned error decides the answer: a
// Resulter in its chain chooses the code, anything else answers 000005.
type Serve func(ctx context.Context, body []byte, resp *Response) error

// Handler is an http.Handler that verifies a callback, passes it to Serve
// and writes the result envelope. It always answers HTTP 200 with a JSON
// body, as KooGallery expects.
type Handler struct {
	family   string
	scheme   Scheme
	key      *Key
	v1key    string        // the V1 schemes' Key, for v1sign
	v1window time.Duration // 0: no check
	log      *slog.Logger
	maxBody  int64
	skew     time.Duration
	now      func() time.Time
	replay   store.ReplayCache
	observe  func(context.Context, Outcome)
	serve    Serve
	states   sync.Pool // *state
}

type state struct {
	body []byte
	box  *[]byte // the pooled buffer holding body, if any
	out  []byte
	resp Response
}

// NewHandler returns a Handler verifying with accessKey. It panics if
// accessKey is empty (an empty HMAC key would let anyone sign) or serve is
// nil: both are programming errors, caught at start-up.
func NewHandler(accessKey string, cfg Config, serve Serve) *Handler {
	if accessKey == "" {
		panic(cfg.Family + ": empty access key")
	}
	if serve == nil {
		panic(cfg.Family + ": nil callback implementation")
	}
	h := &Handler{
		family:  cfg.Family,
		scheme:  cfg.Scheme,
		key:     NewKey(accessKey),
		log:     cfg.Logger,
		maxBody: cfg.MaxBodyBytes,
		skew:    cfg.Skew,
		now:     cfg.Now,
		replay:  cfg.Replay,
		observe: cfg.Observe,
		serve:   serve,
	}
	if cfg.Scheme == SchemeV1Query || cfg.Scheme == SchemeV1Kit {
		h.v1key = accessKey
		switch {
		case cfg.V1Window == 0:
			h.v1window = DefaultV1Window
		case cfg.V1Window > 0:
			h.v1window = cfg.V1Window
		}
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody(cfg.Scheme)
	}
	switch {
	case h.skew == 0:
		h.skew = DefaultSkew
	case h.skew < 0:
		h.skew = 0
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.replay == nil {
		h.replay = store.NewMemoryReplayCache(cfg.ReplaySize(), store.WithClock(h.now))
	}
	h.states.New = func() any { return &state{out: make([]byte, 0, 256)} }
	return h
}

var jsonContentType = []string{"application/json"}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.Handle(w, r, h.serve)
}

// Handle is ServeHTTP with serve in place of the Handler's own Serve, for
// handlers that choose the Serve per request (the kit handler dispatches on
// the path, which no signature covers). serve must not be nil.
func (h *Handler) Handle(w http.ResponseWriter, r *http.Request, serve Serve) {
	var start time.Time
	if h.observe != nil {
		start = time.Now() // real time, not the configurable clock: this measures
	}
	st := h.states.Get().(*state)
	st.resp = Response{Extra: st.resp.Extra[:0]}

	err := h.handle(r, st, serve)
	code, msg, extra, reason := h.answer(r, &st.resp, err)

	out := append(st.out[:0], `{"resultCode":`...)
	out = AppendString(out, code)
	out = append(out, `,"resultMsg":`...)
	out = AppendString(out, msg)
	out = append(out, extra...)
	out = append(out, '}')
	st.out = out

	w.Header()["Content-Type"] = jsonContentType
	if h.v1key != "" {
		// V1 answers are signed over exactly the bytes written below (spec
		// §3.3), failures included.
		w.Header()[headerBodySign] = []string{v1sign.BodySign(h.v1key, out)}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out) // the peer is gone if this fails; nothing to do
	if h.observe != nil {
		h.observe(r.Context(), Outcome{Family: h.family, Activity: st.resp.Activity, ResultCode: code, Reason: reason,
			Duration: time.Since(start)})
	}

	if st.box != nil {
		putBody(st.box) // the bytes Serve saw are no longer used
		st.box = nil
	}
	st.body, st.resp.V1Query = nil, nil
	if cap(st.out) <= 64<<10 && cap(st.resp.Extra) <= 64<<10 {
		h.states.Put(st)
	}
}

// refusal is a security failure: it answers 000001 and its reason is only
// logged.
type refusal struct {
	reason string
	offset time.Duration // timestamp − now, for a timestamp outside the window
}

func (r *refusal) Error() string { return r.reason }

// unavailable is a state store that could not be consulted: full, or a
// shared backend failing. The call is neither accepted nor served unchecked;
// it answers a retryable 000005 and is logged at ERROR with what to do.
type unavailable struct {
	what string // "replay cache", "store"
	err  error
}

func (u *unavailable) Error() string { return u.what + ": " + u.err.Error() }
func (u *unavailable) Unwrap() error { return u.err }

// Unavailable wraps err, from the named state store, as a retryable
// refusal (see unavailable).
func Unavailable(what string, err error) error { return &unavailable{what: what, err: err} }

type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return "panic" }

func (h *Handler) handle(r *http.Request, st *state, serve Serve) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // net/http's own signal to abort the response
				panic(v)
			}
			err = &panicked{value: v, stack: debug.Stack()}
		}
	}()

	if err := h.verify(r.Context(), r.Method, r.URL.RawQuery, r.Header, r, st); err != nil {
		return err
	}
	return serve(r.Context(), st.body, &st.resp)
}

// Request is a callback stripped of its transport, for Verify.
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

// Verify checks req as ServeHTTP does, with the same checks, replay
// protection and bounds, and returns the verified payload: the body, or for
// SchemeV1Query the query written so that it form-decodes to the values the
// authToken covered (v1sign.Query.FormQuery). It aliases req.Body when it
// is the body. A refusal is an error for which Result gives the answer:
// 000001 (not proven to come from KooGallery), 000002 (malformed), 000005
// (state unavailable, retry).
func (h *Handler) Verify(ctx context.Context, req *Request) ([]byte, error) {
	var st state
	if h.scheme != SchemeV1Query {
		st.body = req.Body
	}
	if err := h.verify(ctx, req.Method, req.RawQuery, req.Header, nil, &st); err != nil {
		return nil, err
	}
	return st.body, nil
}

// Result returns the answer KooGallery should get for an error Verify (or
// a Serve) returned, as ServeHTTP would write it; the reason of a refusal
// is logged there, not returned.
func Result(err error) (code, message string) {
	var ref *refusal
	var una *unavailable
	switch {
	case err == nil:
		return CodeSuccess, defaultMessage(CodeSuccess)
	case errors.As(err, &ref):
		return CodeAuth, defaultMessage(CodeAuth)
	case errors.As(err, &una), errors.Is(err, idempotency.ErrStore):
		return CodeInternal, msgRetry
	}
	code, message, _ = classify(err)
	return code, message
}

// verify checks a call's parts. With r set it reads the body from r into
// st.body (bounded, only once the cheap checks passed); otherwise st.body
// holds it. On success st.body is what Serve gets.
func (h *Handler) verify(ctx context.Context, method, rawQuery string, header http.Header, r *http.Request, st *state) error {
	switch h.scheme {
	case SchemeV1Query:
		return h.verifyV1Query(method, rawQuery, st)
	case SchemeV1Kit:
		return h.verifyV1Kit(method, header, r, st)
	}
	if method != http.MethodPost {
		return Invalid("method must be POST")
	}
	sig, ts, nonce := h.credentials(rawQuery, header)
	if sig == "" || ts == "" || nonce == "" {
		return &refusal{reason: "missing signature, timestamp or nonce"}
	}
	if len(nonce) > maxNonceLen {
		return &refusal{reason: "malformed nonce"}
	}
	stamp, ok := parseMillis(ts)
	if !ok {
		return &refusal{reason: "malformed timestamp"}
	}
	now := h.now().UnixMilli()
	if !fresh(stamp, now, h.skew) {
		return &refusal{reason: "timestamp outside the freshness window", offset: time.Duration(stamp-now) * time.Millisecond}
	}

	if err := h.body(r, st); err != nil {
		return err
	}
	body := st.body

	var verified bool
	if h.scheme == SchemeKit {
		verified = h.key.VerifyKit(sig, nonce, ts, body)
	} else {
		verified = h.key.VerifyV2(sig, nonce, ts, body)
	}
	if !verified {
		return &refusal{reason: "signature mismatch"}
	}
	// Remember the nonce only now: a forged call must not be able to burn a
	// nonce KooGallery is about to use. The key includes the timestamp, which
	// the signature covers, so a retry that reuses a nonce with a new
	// timestamp is not mistaken for a replay. It lives until the last
	// instant fresh accepts the timestamp.
	ttl := time.Duration(nonceExpiry(stamp, h.skew)-now+1) * time.Millisecond
	added, err := h.replay.Add(ctx, replayKey(h.scheme, nonce, ts), ttl)
	if err != nil {
		return &unavailable{what: "replay cache", err: err}
	}
	if !added {
		return &refusal{reason: "replayed nonce"}
	}
	return nil
}

// body reads r's body into st.body, or, without r, checks the given body
// against the limit.
func (h *Handler) body(r *http.Request, st *state) error {
	if r != nil {
		return h.readBody(r, st)
	}
	if int64(len(st.body)) > h.maxBody {
		return Invalid("request body too large")
	}
	return nil
}

func (h *Handler) answer(r *http.Request, resp *Response, err error) (code, msg string, extra []byte, reason string) {
	ctx := r.Context()
	if err == nil {
		code, msg = resp.Code, resp.Message
		if code == "" {
			code = CodeSuccess
		} else if code != CodeSuccess && !validCode(code) {
			h.log.LogAttrs(ctx, slog.LevelError, "koogallery: callback produced an invalid result code",
				h.attrs(r, resp, slog.String("resultCode", code))...)
			return CodeInternal, defaultMessage(CodeInternal), nil, "invalid result code"
		}
		if msg == "" {
			msg = defaultMessage(code)
		}
		if h.log.Enabled(ctx, slog.LevelDebug) {
			h.log.LogAttrs(ctx, slog.LevelDebug, "koogallery: callback served", h.attrs(r, resp, slog.String("resultCode", code))...)
		}
		return code, truncate(msg, maxMsgLen), resp.Extra, ""
	}

	var ref *refusal
	var pan *panicked
	var una *unavailable
	if !errors.As(err, &una) && errors.Is(err, idempotency.ErrStore) {
		una = &unavailable{what: "store", err: err}
	}
	switch {
	case una != nil:
		advice, reason := "the shared backend failed; calls are refused until it answers", una.what+" unavailable"
		if errors.Is(una.err, store.ErrFull) {
			advice = "the in-memory bound is reached with every entry inside its window: raise it (" +
				boundOption(una.what) + ") or use a shared store (store/redisstore, store/pgstore)"
			reason = una.what + " full"
		}
		h.log.LogAttrs(ctx, slog.LevelError, "koogallery: callback refused: "+una.what+" unavailable",
			h.attrs(r, resp, slog.String("resultCode", CodeInternal), slog.String("advice", advice), slog.Any("error", una.err))...)
		return CodeInternal, msgRetry, nil, reason
	case errors.As(err, &ref):
		attrs := h.attrs(r, resp, slog.String("reason", ref.reason))
		if ref.offset != 0 {
			attrs = append(attrs, slog.Duration("timestampOffset", ref.offset))
		}
		h.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: callback refused", attrs...)
		return CodeAuth, defaultMessage(CodeAuth), nil, ref.reason
	case errors.As(err, &pan):
		h.log.LogAttrs(ctx, slog.LevelError, "koogallery: panic serving callback",
			h.attrs(r, resp, slog.Any("panic", pan.value), slog.String("stack", string(pan.stack)))...)
		return CodeInternal, defaultMessage(CodeInternal), nil, "panic"
	}
	code, msg, ok := classify(err)
	level := slog.LevelInfo
	if !ok {
		level = slog.LevelError
	}
	h.log.LogAttrs(ctx, level, "koogallery: callback failed",
		h.attrs(r, resp, slog.String("resultCode", code), slog.Any("error", err))...)
	reason = "provider error"
	var ce *Error
	if errors.As(err, &ce) && ce.Code == CodeInvalid {
		reason = "invalid request" // the engine's own 000002: malformed, not the seller's
	}
	return code, msg, nil, reason
}

// msgRetry answers a call refused because state could not be consulted.
const msgRetry = "temporarily unavailable, retry later"

func boundOption(what string) string {
	if what == "replay cache" {
		return "WithReplayCacheSize"
	}
	return "WithReplayCacheSize for the V1 and kit replay guard, or the memory store's size"
}

func (h *Handler) attrs(r *http.Request, resp *Response, more ...slog.Attr) []slog.Attr {
	attrs := make([]slog.Attr, 0, 4+len(more))
	attrs = append(attrs, slog.String("family", h.family))
	if resp.Activity != "" {
		attrs = append(attrs, slog.String("activity", resp.Activity))
	}
	attrs = append(attrs, slog.String("remote", r.RemoteAddr))
	return append(attrs, more...)
}

// readBody reads r's body into st.body within the handler's limit; a
// failure is the 000002 answer to give.
func (h *Handler) readBody(r *http.Request, st *state) error {
	box, err := readBodyInto(r, st.box, h.maxBody)
	st.box, st.body = box, *box
	switch {
	case errors.Is(err, errTooLarge):
		return Invalid("request body too large")
	case err != nil:
		return Invalid("unreadable request body")
	}
	return nil
}
