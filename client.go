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
	"net"
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

// Environment variables NewClient reads when WithCredentials is not given,
// the names Huawei Cloud's own SDKs use.
const (
	EnvAccessKey     = "HUAWEICLOUD_SDK_AK"
	EnvSecretKey     = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
)

// Client calls KooGallery open APIs. Every request it sends is signed with
// AK/SK afresh on each attempt, retried only when that is safe, and its
// response decoded into a typed result or an *APIError. A Client is safe for
// concurrent use; build one and share it. Service packages (order, saas,
// license) wrap it with typed methods.
type Client struct {
	base      *url.URL
	signer    *auth.Signer
	rt        *retryTransport
	http      *http.Client
	logger    *slog.Logger
	userAgent string
	maxBody   int64
}

type config struct {
	ak, sk, token string
	credsSet      bool
	site          Site
	endpoint      string
	httpClient    *http.Client
	retry         RetryPolicy
	logger        *slog.Logger
	userAgent     string
	maxBody       int64
	clock         func() time.Time
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
// HUAWEICLOUD_SDK_SECURITY_TOKEN.
func WithSecurityToken(token string) Option {
	return func(c *config) error {
		c.token = token
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

// WithLogger sets the logger for attempts and retries (default: discard).
// Logs carry the method, path, status, result code and request ID, never a
// query string, header value or body.
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

// WithClock sets the clock requests are signed with (default time.Now), for
// tests and hosts whose clock is known to be off.
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
	if !cfg.credsSet {
		cfg.ak, cfg.sk = os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey)
	}
	if cfg.token == "" {
		cfg.token = os.Getenv(EnvSecurityToken)
	}
	if cfg.ak == "" || cfg.sk == "" {
		return nil, fmt.Errorf("koogallery: no credentials: use WithCredentials or set %s and %s", EnvAccessKey, EnvSecretKey)
	}
	var sopts []auth.SignerOption
	if cfg.token != "" {
		sopts = append(sopts, auth.WithSecurityToken(cfg.token))
	}
	if cfg.clock != nil {
		sopts = append(sopts, auth.WithClock(cfg.clock))
	}
	signer, err := auth.NewSigner(cfg.ak, cfg.sk, sopts...)
	if err != nil {
		return nil, fmt.Errorf("koogallery: %w", err)
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
		logger = slog.New(slog.DiscardHandler)
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
	rtr := &retryTransport{inner: inner, policy: cfg.retry, logger: logger, userAgent: ua}
	return &Client{
		base:      base,
		signer:    signer,
		rt:        rtr,
		http:      &http.Client{Transport: rtr, CheckRedirect: noRedirect},
		logger:    logger,
		userAgent: ua,
		maxBody:   cfg.maxBody,
	}, nil
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

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("koogallery: endpoint must be an absolute URL without query, fragment or user info")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, errors.New("koogallery: plain http is only allowed for loopback endpoints; KooGallery requires https")
		}
	default:
		return nil, fmt.Errorf("koogallery: endpoint scheme must be https")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL returns the base URL calls are sent to.
func (c *Client) BaseURL() string { return c.base.String() }

// HTTPClient returns an *http.Client that signs, retries and bounds every
// request like the open-API calls, for API Gateway calls this SDK does not
// wrap. Requests may target any host. Unlike Do, it does not decode bodies
// or map errors; the caller closes resp.Body.
func (c *Client) HTTPClient() *http.Client { return c.http }

// NewRequest builds a request for path (relative to the base URL, e.g.
// "/api/mkp-openapi-public/global/v1/order/query"). params, if not nil, is a
// struct encoded into the query with go-querystring `url` tags and written
// in canonical form. body, if not nil, is sent as JSON: []byte and
// json.RawMessage as they are, anything else through json.Marshal.
func (c *Client) NewRequest(ctx context.Context, method, path string, params, body any) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	if params != nil {
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
	// Build on the base URL's host, then hand over the parsed URL: no need
	// to print it and parse it again.
	req, err := http.NewRequestWithContext(ctx, method, c.base.Scheme+"://"+c.base.Host, rd)
	if err != nil {
		return nil, fmt.Errorf("koogallery: new request: %w", err)
	}
	req.URL = &u
	req.Header["Content-Type"] = []string{"application/json;charset=UTF-8"}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{c.userAgent}
	return req, nil
}

// Result is the result envelope of the open APIs, both families:
// resultCode/resultMsg (query order) and error_code/error_msg/request_id
// (usage, license, file upload, gateway errors). Embed it in a response type
// passed to Do and the body is decoded in one pass instead of two.
type Result struct {
	ResultCode string          `json:"resultCode,omitempty"`
	ResultMsg  string          `json:"resultMsg,omitempty"`
	ErrorCode  string          `json:"error_code,omitempty"`
	ErrorMsg   string          `json:"error_msg,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	ExtraInfo  json.RawMessage `json:"extra_info,omitempty"`
}

// Code returns the result code and message of whichever family is present.
func (r *Result) Code() (code, msg string) {
	if r.ResultCode != "" {
		return r.ResultCode, r.ResultMsg
	}
	return r.ErrorCode, r.ErrorMsg
}

func (r *Result) result() *Result { return r }

// resulter is implemented by types that embed Result.
type resulter interface{ result() *Result }

// Do sends req (signing every attempt, retrying what is safe to retry),
// reads at most the configured number of response bytes, and decodes the
// JSON body into v (if not nil). The call succeeds iff the result code is
// MKT.0000, CBC.0000 or 92020000, or a 2xx response carries no code. Any
// other outcome is an error: an *APIError for what KooGallery or the
// gateway answered (also with HTTP 200, and for non-JSON bodies such as a
// proxy's HTML page), the context's error when it ended first, or a
// transport error. Errors never contain the query string or secrets.
func (c *Client) Do(ctx context.Context, req *http.Request, v any) error {
	if ctx == nil {
		return errors.New("koogallery: nil context")
	}
	if req == nil || req.URL == nil {
		return errors.New("koogallery: nil request")
	}
	method, path := req.Method, req.URL.Path
	if method == "" {
		method = http.MethodGet
	}
	// The retry transport directly: the outer http.Client of HTTPClient()
	// adds nothing here (redirects are not followed anyway).
	resp, err := c.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return transportError(ctx, method, path, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("koogallery: %s %s: read response: %w", method, path, ctxErr)
		}
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path,
			Message: "reading the response failed: " + err.Error(), RequestID: resp.Header.Get("X-Request-Id")}
	}
	if int64(len(data)) > c.maxBody {
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, RequestID: resp.Header.Get("X-Request-Id"),
			Message: fmt.Sprintf("response body exceeds the %d-byte limit", c.maxBody)}
	}
	return decodeResponse(resp, data, method, path, v)
}

// decodeResponse maps a complete response to v or an error.
func decodeResponse(resp *http.Response, data []byte, method, path string, v any) error {
	trimmed := bytes.TrimSpace(data)
	fail := func(code, msg string, env *Result) *APIError {
		e := &APIError{StatusCode: resp.StatusCode, Code: code, Message: redactMessage(msg), Method: method, Path: path,
			RequestID: resp.Header.Get("X-Request-Id"), RetryAfter: retryAfter(resp.Header, time.Now())}
		if env != nil {
			if len(trimmed) <= MaxErrorBody {
				e.Body = append([]byte(nil), trimmed...)
			}
			if env.RequestID != "" {
				e.RequestID = env.RequestID
			}
			if len(env.ExtraInfo) > 0 && string(env.ExtraInfo) != "null" {
				e.ExtraInfo = env.ExtraInfo
			}
		}
		return e
	}
	if len(trimmed) == 0 {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		return fail("", "empty response body", nil)
	}
	if trimmed[0] != '{' {
		return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
	}
	// One pass when v carries the envelope itself; else the envelope first.
	var env *Result
	var decodeErr error
	decoded := false
	if r, ok := v.(resulter); ok {
		decodeErr = json.Unmarshal(trimmed, v)
		env, decoded = r.result(), true
		if decodeErr != nil {
			env = new(Result)
			if json.Unmarshal(trimmed, env) != nil {
				return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
			}
		}
	} else {
		env = new(Result)
		if json.Unmarshal(trimmed, env) != nil {
			return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
		}
	}
	code, msg := env.Code()
	switch {
	case isSuccess(code):
	case code == "" && resp.StatusCode >= 200 && resp.StatusCode < 300:
	default:
		if msg == "" && code == "" {
			msg = "no result code: " + excerpt(trimmed)
		}
		return fail(code, msg, env)
	}
	if v == nil {
		return nil
	}
	if !decoded {
		decodeErr = json.Unmarshal(trimmed, v)
	}
	if decodeErr != nil {
		return fail(code, "decoding the response failed: "+decodeErr.Error(), env)
	}
	return nil
}

// excerpt returns a short, printable prefix of a body for error messages.
func excerpt(b []byte) string {
	const max = 120
	cut := len(b) > max
	if cut {
		b = b[:max]
	}
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, string(b))
	if cut {
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// redactMessage hides a security token the gateway may echo inside a
// canonical request ("x-security-token:…|").
func redactMessage(msg string) string {
	const key = "x-security-token:"
	i := strings.Index(msg, key)
	if i < 0 {
		return msg
	}
	rest := msg[i+len(key):]
	end := strings.IndexAny(rest, "|\n")
	if end < 0 {
		end = len(rest)
	}
	return msg[:i+len(key)] + "<redacted>" + redactMessage(rest[end:])
}

// RequestError is a failure to get any response: a connection, TLS or
// signing error, or the context ending. It names the call without its query.
type RequestError struct {
	Method, Path string
	Err          error
}

func (e *RequestError) Error() string {
	return "koogallery: " + e.Method + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause (for errors.Is with context.DeadlineExceeded,
// auth.ErrSign, *net.OpError, ...).
func (e *RequestError) Unwrap() error { return e.Err }

// transportError strips the URL that net/http puts into its errors.
func transportError(ctx context.Context, method, path string, err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return &RequestError{Method: method, Path: path, Err: err}
}
