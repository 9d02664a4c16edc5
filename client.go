package koogallery

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/isvkit/koogallery/auth"
)

// Version is the SDK version sent in the User-Agent.
const Version = "0.1.0"

// DefaultMaxResponseBytes bounds the response body Do reads.
const DefaultMaxResponseBytes = 10 << 20

// Environment variables NewClient reads when neither WithCredentials nor
// WithCredentialsProvider is given, the names Huawei Cloud's own SDKs use.
const (
	EnvAccessKey     = auth.EnvAccessKey
	EnvSecretKey     = auth.EnvSecretKey
	EnvSecurityToken = auth.EnvSecurityToken
)

// Client calls KooGallery open APIs. Every request it sends is signed with
// AK/SK afresh on each attempt, retried only when that is safe, and its
// response decoded into a typed result or an *APIError. A Client is safe for
// concurrent use; build one and share it. Service packages (order, saas,
// license) wrap it with typed methods.
type Client struct {
	base      *url.URL
	rt        *retryTransport
	userAgent string
	maxBody   int64
}

type config struct {
	ak, sk, token string
	credsSet      bool
	provider      auth.CredentialsProvider
	site          Site
	endpoint      string
	httpClient    *http.Client
	retry         RetryPolicy
	logger        *slog.Logger
	userAgent     string
	maxBody       int64
	clock         func() time.Time
	hook          func(context.Context, Attempt)
}

// Option configures NewClient.
type Option func(*config) error

// WithCredentials sets the AK/SK pair of the seller's Huawei Cloud account
// (卖家中心 › 我的凭证 › 访问密钥). Without it NewClient reads
// HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK.
func WithCredentials(accessKey, secretKey string) Option {
	return func(c *config) error {
		c.ak, c.sk, c.credsSet = accessKey, secretKey, true
		return nil
	}
}

// WithSecurityToken sets the token of temporary AK/SK credentials; it is
// sent and signed as X-Security-Token. Without it NewClient reads
// HUAWEICLOUD_SDK_SECURITY_TOKEN. Temporary credentials expire: prefer
// WithCredentialsProvider, which renews them.
func WithSecurityToken(token string) Option {
	return func(c *config) error {
		c.token = token
		return nil
	}
}

// WithCredentialsProvider signs every attempt with the credentials p
// returns at that moment, so that credentials which rotate need no
// restart: temporary credentials of an ECS or CCE agency
// (auth.MetadataCredentials behind an auth.CredentialsCache), or your own
// secret store. It replaces WithCredentials, WithSecurityToken and the
// environment. A failure of p fails the call before anything is sent
// (errors.Is(err, auth.ErrCredentials)).
func WithCredentialsProvider(p auth.CredentialsProvider) Option {
	return func(c *config) error {
		if p == nil {
			return errors.New("koogallery: nil credentials provider")
		}
		c.provider = p
		return nil
	}
}

// WithSite selects the KooGallery site (default SiteChina).
func WithSite(s Site) Option {
	return func(c *config) error {
		if s.BaseURL() == "" {
			return fmt.Errorf("koogallery: unknown site %v", s)
		}
		c.site = s
		return nil
	}
}

// WithEndpoint sends every call to baseURL instead of the site's host: for
// fakes (package koogallerytest), tests and proxies. It must be https, or
// http on a loopback address. No fallback host is used.
func WithEndpoint(baseURL string) Option {
	return func(c *config) error {
		c.endpoint = baseURL
		return nil
	}
}

// WithHTTPClient sets the client whose Transport carries the signed requests
// and whose Timeout bounds each attempt. Its TLS configuration must verify
// certificates: a transport with InsecureSkipVerify is refused, because
// KooGallery requires strict verification. Redirects are never followed (a
// signed request must not travel to another host).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("koogallery: nil http client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 1 {
			return errors.New("koogallery: retry policy needs MaxAttempts >= 1")
		}
		if p.MinBackoff < 0 || p.MaxBackoff < p.MinBackoff || p.MaxElapsed < 0 {
			return errors.New("koogallery: retry policy needs 0 <= MinBackoff <= MaxBackoff and MaxElapsed >= 0")
		}
		c.retry = p
		return nil
	}
}

// WithLogger sets the logger for attempts and retries (default, and for
// nil: slog.Default(), like the handlers). Retries log at INFO, giving up
// at WARN, every attempt at DEBUG. Logs carry the method, path, status,
// result code and request ID, never a query string, header value or body.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header; the SDK's own is appended.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		c.userAgent = ua
		return nil
	}
}

// WithMaxResponseBytes bounds the response body Do reads (default 10 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("koogallery: max response bytes must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// WithClock sets the clock requests are signed with, for tests and hosts
// whose clock is known to be off. nil means time.Now, the default.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		c.clock = now
		return nil
	}
}

// NewClient returns a Client. Missing credentials are an error here, not a
// failure at the first call.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{site: SiteChina, retry: DefaultRetryPolicy(), maxBody: DefaultMaxResponseBytes}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	signer, err := newSigner(&cfg)
	if err != nil {
		return nil, err
	}

	baseURL, fallback := cfg.site.BaseURL(), cfg.site.FallbackURL()
	if cfg.endpoint != "" {
		baseURL, fallback = cfg.endpoint, ""
	}
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}

	var baseRT http.RoundTripper
	// Each attempt is bounded: by the caller's http.Client.Timeout when one
	// is given, else by the default transport's dial, TLS and response-header
	// timeouts (one timer per attempt, cheaper than a per-request context);
	// the whole call by RetryPolicy.MaxElapsed and the context.
	var attemptTimeout time.Duration
	if cfg.httpClient != nil {
		baseRT = cfg.httpClient.Transport
		if cfg.httpClient.Timeout > 0 {
			attemptTimeout = cfg.httpClient.Timeout
		}
	}
	if baseRT == nil {
		baseRT = defaultTransport()
	}
	if t, ok := baseRT.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
		return nil, errors.New("koogallery: the HTTP client skips TLS verification; KooGallery requires strict certificate verification")
	}

	logger := cfg.logger
	if logger == nil {
		logger = slog.Default()
	}
	var rt http.RoundTripper = &auth.Transport{Signer: signer, Base: baseRT}
	if fallback != "" {
		fb, err := parseBaseURL(fallback)
		if err != nil {
			return nil, err
		}
		rt = &fallbackTransport{next: rt, primary: base.Host, fallback: fb.Host, logger: logger}
	}
	inner := &http.Client{Transport: rt, Timeout: attemptTimeout, CheckRedirect: noRedirect}
	if cfg.httpClient != nil {
		inner.Jar = cfg.httpClient.Jar
	}

	ua := "koogallery-go/" + Version + " (" + runtime.Version() + ")"
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + ua
	}
	return &Client{
		base:      base,
		rt:        &retryTransport{base: base, inner: inner, policy: cfg.retry, logger: logger, userAgent: ua, hook: cfg.hook},
		userAgent: ua,
		maxBody:   cfg.maxBody,
	}, nil
}

// newSigner builds the signer from the credential options, else from the
// environment.
func newSigner(cfg *config) (*auth.Signer, error) {
	var sopts []auth.SignerOption
	if cfg.clock != nil {
		sopts = append(sopts, auth.WithClock(cfg.clock))
	}
	if cfg.provider != nil {
		if cfg.credsSet || cfg.token != "" {
			return nil, errors.New("koogallery: WithCredentialsProvider replaces WithCredentials and WithSecurityToken; use one")
		}
		signer, err := auth.NewSignerFrom(cfg.provider, sopts...)
		if err != nil {
			return nil, fmt.Errorf("koogallery: %w", err)
		}
		return signer, nil
	}
	if !cfg.credsSet {
		cfg.ak, cfg.sk = os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey)
	}
	if cfg.token == "" {
		cfg.token = os.Getenv(EnvSecurityToken)
	}
	if cfg.ak == "" || cfg.sk == "" {
		return nil, fmt.Errorf("koogallery: no credentials: use WithCredentials or WithCredentialsProvider, or set %s and %s", EnvAccessKey, EnvSecretKey)
	}
	if cfg.token != "" {
		sopts = append(sopts, auth.WithSecurityToken(cfg.token))
	}
	signer, err := auth.NewSigner(cfg.ak, cfg.sk, sopts...)
	if err != nil {
		return nil, fmt.Errorf("koogallery: %w", err)
	}
	return signer, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// defaultTransport is http.DefaultTransport's configuration (proxy from the
// environment, HTTP/2, keep-alives) with TLS 1.2 or newer and system roots.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

// BaseURL returns the base URL calls are sent to.
func (c *Client) BaseURL() string { return c.base.String() }

// HTTPClient returns a new *http.Client that signs, retries and bounds every
// request like the open-API calls, for API Gateway calls this SDK does not
// wrap. Requests may target any host, over https (plain http only to
// loopback hosts). Changing the returned client changes nothing for the
// SDK. Unlike Do it neither decodes bodies nor maps errors: pass the
// response to CheckResponse for the same *APIError mapping; the caller
// closes resp.Body. A POST or other non-idempotent request is retried only
// when it cannot have reached the server, unless it carries an
// Idempotency-Key or X-Idempotency-Key header (net/http's convention) or
// was built by NewRequest with Idempotent.
//
// Transport failures are *RequestError values naming the method and path.
// net/http's Client wraps each in a *url.Error quoting the URL, query
// included: where the query may carry something sensitive, log the
// *RequestError found with errors.As, or use Do.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: c.rt, CheckRedirect: noRedirect}
}

// RequestOption adjusts a request NewRequest builds.
type RequestOption func(*http.Request)

// idempotentKey marks, in a request's context, a request Idempotent made.
// A context value rather than net/http's nil-valued X-Idempotency-Key
// header: with the header, net/http's Transport would itself resend a
// request whose answer was lost on a reused connection, an attempt the
// RetryPolicy neither counts nor signs afresh.
type idempotentKey struct{}

// Idempotent marks a request that is safe to send twice, so that it is
// retried even after a failure that may have reached the server (a reset
// connection, a timeout, a 5xx): a call whose body carries its own
// idempotency key, such as the usage push's metering_sn, or a query sent
// as POST. GET, HEAD and OPTIONS need no mark. Without it a POST is
// retried only when it cannot have been received: the connection was
// refused, the host not found, or KooGallery answered that it throttled
// the request without running it. Nothing is sent for the mark.
func Idempotent() RequestOption {
	return func(r *http.Request) { *r = *r.WithContext(context.WithValue(r.Context(), idempotentKey{}, true)) }
}

// NewRequest builds a request for path, relative to the base URL (e.g.
// "/api/mkp-openapi-public/global/v1/order/query") and given decoded: it
// is escaped on the wire. The path must be absolute and clean, with no "."
// or ".." segment (also percent-encoded), no empty segment, no backslash or
// control character; otherwise NewRequest fails with an error matching
// ErrInvalidRequest, so that no value spliced into a path can reach another
// interface. params, if not nil, is a struct encoded into the query with
// go-querystring `url` tags, or url.Values, written in canonical form.
// body, if not nil, is sent as JSON: []byte and json.RawMessage as they
// are, anything else through json.Marshal. opts adjust the request (see
// Idempotent).
func (c *Client) NewRequest(ctx context.Context, method, path string, params, body any, opts ...RequestOption) (*http.Request, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	switch p := params.(type) {
	case nil:
	case url.Values:
		u.RawQuery = auth.EncodeQuery(p)
	default:
		v, err := query.Values(params)
		if err != nil {
			return nil, fmt.Errorf("koogallery: encode query: %w", err)
		}
		u.RawQuery = auth.EncodeQuery(v)
	}
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	case json.RawMessage:
		data = b
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("koogallery: encode body: %w", err)
		}
	}
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	// Hand over the URL already built: no need to print it and parse it
	// again.
	req, err := http.NewRequestWithContext(ctx, method, "", rd)
	if err != nil {
		return nil, fmt.Errorf("koogallery: new request: %w", err)
	}
	req.URL, req.Host = &u, u.Host
	// One array for the three values; each slice is capped, so appending to
	// one never touches another.
	vals := &[3]string{"application/json;charset=UTF-8", "application/json", c.userAgent}
	req.Header["Content-Type"], req.Header["Accept"], req.Header["User-Agent"] = vals[0:1:1], vals[1:2:2], vals[2:3:3]
	for _, o := range opts {
		if o != nil {
			o(req)
		}
	}
	return req, nil
}

// checkPath refuses an API path that is not absolute and clean: a value
// spliced into a path must not reach another interface. Other characters
// ('?', '#', '%', spaces, UTF-8) are escaped on the wire and stay inside
// their segment.
func checkPath(path string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: path %q %s", ErrInvalidRequest, excerpt([]byte(path)), why)
	}
	if !strings.HasPrefix(path, "/") {
		return bad("is not absolute")
	}
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c < 0x20 || c == 0x7f:
			return bad("contains a control character")
		case c == '\\':
			return bad("contains a backslash")
		}
	}
	if strings.Contains(path, "//") {
		return bad("contains an empty segment")
	}
	for seg := range strings.SplitSeq(path[1:], "/") {
		// Also "%2e%2e", which a server that decodes twice reads as "..".
		if u, err := url.PathUnescape(seg); seg == "." || seg == ".." || (err == nil && (u == "." || u == "..")) {
			return bad("contains a dot segment")
		}
	}
	return nil
}

// Do sends req (signing every attempt, retrying what is safe to retry),
// reads at most the configured number of response bytes, and decodes the
// JSON body into v (if not nil). The call ends when ctx or the request's
// own context ends, whichever is first; values are looked up in the
// request's context, then in ctx. The call succeeds iff the result code is
// MKT.0000, CBC.0000 or 92020000, or a 2xx response carries no code. Any
// other outcome is an error: an *APIError for what KooGallery or the
// gateway answered (also with HTTP 200, and for non-JSON bodies such as a
// proxy's HTML page), a *RequestError wrapping the context's error when it
// ended before an answer was read in full, or another *RequestError for a
// transport failure. An answer read in full is the call's outcome even if
// the context ended as it arrived: a success is decoded into v, a failure
// keeps its code and Retry-After; nothing is retried once the context has
// ended, and a context that ends while the call waits to retry ends it
// with the answer that made it wait (when that answer was at most 64 KiB).
// Errors never contain the query string or secrets. CaptureResponse gives
// the request ID, status and headers of a call that succeeded.
func (c *Client) Do(ctx context.Context, req *http.Request, v any) error {
	if ctx == nil {
		return errors.New("koogallery: nil context")
	}
	if req == nil || req.URL == nil {
		return errors.New("koogallery: nil request")
	}
	method, path := req.Method, c.rt.apiPath(req.URL)
	if method == "" {
		method = http.MethodGet
	}
	if own := req.Context(); own != ctx {
		joined, cancel := joinContexts(ctx, own)
		defer cancel()
		ctx, req = joined, req.WithContext(joined)
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return requestError(ctx, method, path, err)
	}
	defer resp.Body.Close()

	data, err := readBody(resp, c.maxBody)
	if err != nil {
		if cause := contextCause(ctx); cause != nil {
			return &RequestError{Method: method, Path: path, Err: fmt.Errorf("read response: %w", cause)}
		}
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path,
			Message: "reading the response failed: " + err.Error(), RequestID: resp.Header.Get("X-Request-Id")}
	}
	if int64(len(data)) > c.maxBody {
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, RequestID: resp.Header.Get("X-Request-Id"),
			Message: fmt.Sprintf("response body exceeds the %d-byte limit", c.maxBody)}
	}
	err = decodeResponse(resp, data, method, path, v)
	if dst := capturedResponse(ctx); dst != nil {
		if ae, ok := err.(*APIError); ok && ae.RequestID != "" {
			dst.RequestID = ae.RequestID
		}
	}
	return err
}

// joinContexts returns a context that ends when either ends, with the
// earlier deadline, whose values are own's, then arg's.
func joinContexts(arg, own context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(own)
	stop := context.AfterFunc(arg, func() { cancel(context.Cause(arg)) })
	stopDeadline := context.CancelFunc(func() {})
	if dl, ok := arg.Deadline(); ok {
		ctx, stopDeadline = context.WithDeadline(ctx, dl)
	}
	return joinedContext{Context: ctx, other: arg}, func() {
		stop()
		stopDeadline()
		cancel(context.Canceled)
	}
}

// joinedContext adds the values of other to a context.
type joinedContext struct {
	context.Context
	other context.Context
}

func (j joinedContext) Value(key any) any {
	if v := j.Context.Value(key); v != nil {
		return v
	}
	return j.other.Value(key)
}

// readBody reads at most limit+1 bytes of resp's body, in one allocation
// when a length of up to 64 KiB is announced (a larger announcement is not
// trusted with memory before the bytes arrive).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	size := int64(512)
	if n := resp.ContentLength; n >= size && n <= limit && n < 64<<10 {
		size = n + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := cap(buf) - len(buf)
		if over := limit + 1 - int64(len(buf)); int64(room) > over {
			room = int(over)
		}
		n, err := resp.Body.Read(buf[len(buf) : len(buf)+room])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
