package koogallerytest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/internal/testcert"
	"github.com/isvkit/koogallery/order"
)

// Default credentials of a fake Server.
const (
	DefaultAccessKey = "KOOGALLERYTESTAK0001"
	DefaultSecretKey = "koogallerytest-secret-key-0001"
)

// Server is an in-process fake of the KooGallery open API. It checks every
// request's AK/SK signature with auth.Verifier exactly as the gateway does
// (APIGW.0301 on failure, the AK locked for five minutes after five failures
// in a row), serves the nine documented mock orders plus any added ones,
// injects faults, and records requests. It is safe for concurrent use.
//
// It also serves the other open APIs, validating like the real service and
// answering its documented codes: the usage push, new (checking the body
// signature with the seller key, WithSellerKey) and old; the licence-code
// APIs (codes added with AddLicenseCode); and the event file upload (the
// multipart body parsed as a stream and its sha256 checked). UsageRecords,
// LicenseCode and Uploads show what the seller's code sent. NewOAuthServer
// fakes the joint-operation identity provider.
type Server struct {
	// URL is the base URL to pass to koogallery.WithEndpoint: the
	// server's address and BasePath.
	URL string

	srv      *httptest.Server
	verifier *auth.Verifier
	now      func() time.Time

	mu       sync.Mutex
	keys     map[string]string
	orders   map[string]json.RawMessage
	faults   []*Fault
	requests []Request
	failures map[string]int
	locked   map[string]time.Time
	handlers map[string]http.HandlerFunc

	// open holds the state of the usage, licence and upload APIs
	// (openapi_*.go).
	open openState
}

// Request is a request the Server received.
type Request struct {
	Method string
	// Path is the API path, without BasePath (e.g. order.QueryPath); a
	// request outside BasePath keeps its whole path.
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the request body; nil for a streamed event-file upload
	// (UNSIGNED-PAYLOAD), which is never held in memory: see Uploads.
	Body      []byte
	AccessKey string // the access key claimed in Authorization, if any
	// AuthError is nil when the signature verified.
	AuthError error
	// Status and Code are what the Server answered.
	Status int
	Code   string
}

// ServerOption configures NewServer: WithKey, WithTLS, WithClock,
// WithSellerKey, WithMaxUploadBytes.
type ServerOption interface{ applyServer(*serverConfig) }

type serverConfig struct {
	keys      map[string]string
	tls       bool
	now       func() time.Time
	sellerKey string
	maxUpload int64
}

// WithKey adds an AK/SK pair the Server accepts (DefaultAccessKey /
// DefaultSecretKey is always accepted).
func WithKey(accessKey, secretKey string) ServerOption {
	return serverFunc(func(c *serverConfig) { c.keys[accessKey] = secretKey })
}

// WithTLS serves HTTPS with a test certificate; Server.NewClient trusts it.
func WithTLS() ServerOption { return serverFunc(func(c *serverConfig) { c.tls = true }) }

// NewServer starts a fake KooGallery open API. Close it when done.
func NewServer(opts ...ServerOption) *Server {
	cfg := serverConfig{keys: map[string]string{DefaultAccessKey: DefaultSecretKey}, now: time.Now,
		sellerKey: DefaultSellerKey, maxUpload: DefaultMaxUploadBytes}
	for _, o := range opts {
		if o != nil {
			o.applyServer(&cfg)
		}
	}
	s := &Server{
		now:      cfg.now,
		keys:     cfg.keys,
		orders:   map[string]json.RawMessage{},
		failures: map[string]int{},
		locked:   map[string]time.Time{},
		handlers: map[string]http.HandlerFunc{},
	}
	for id, raw := range mockOrders() {
		s.orders[id] = raw
	}
	s.verifier = auth.NewVerifier(s.lookup, auth.WithClock(func() time.Time { return s.now() }))
	s.handlers[http.MethodGet+" "+order.QueryPath] = s.queryOrder
	s.registerOpenAPI(&cfg)
	if cfg.tls {
		s.srv = testcert.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	s.URL = s.srv.URL + BasePath
	return s
}

// Close shuts the Server down, releasing hung requests.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// HTTPClient returns an *http.Client that reaches the Server (and trusts
// its test certificate under WithTLS), to use as the base transport of a
// koogallery.Client built by hand.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// NewClient returns a koogallery.Client for this Server with the default
// credentials and a logger that discards (tests stay quiet; pass
// koogallery.WithLogger to see the retries); opts are applied after, and
// may override, these.
func (s *Server) NewClient(opts ...koogallery.Option) (*koogallery.Client, error) {
	base := []koogallery.Option{
		koogallery.WithEndpoint(s.URL),
		koogallery.WithCredentials(DefaultAccessKey, DefaultSecretKey),
		koogallery.WithHTTPClient(s.srv.Client()),
		koogallery.WithLogger(slog.New(slog.DiscardHandler)),
	}
	return koogallery.NewClient(append(base, opts...)...)
}

// AddOrder adds (or replaces) an order the query-order API returns.
func (s *Server) AddOrder(o order.Order) error {
	raw, err := json.Marshal(o)
	if err != nil {
		return err
	}
	s.AddOrderJSON(o.OrderID, raw)
	return nil
}

// AddOrderJSON adds an order as the raw orderInfo JSON to return.
func (s *Server) AddOrderJSON(orderID string, orderInfo json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[orderID] = orderInfo
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Fault is an injected failure. Faults are used in the order they were
// injected; each answers Times matching requests (1 when 0), before or
// instead of the normal handling.
type Fault struct {
	// Path restricts the fault to requests whose API path (without
	// BasePath, e.g. order.QueryPath) has this prefix.
	Path string
	// Times is how many requests the fault answers (default 1).
	Times int
	// Delay waits before answering (or before the normal answer when
	// Status is 0).
	Delay time.Duration
	// Hang blocks until the client gives up or the Server closes.
	Hang bool
	// Status, with Code and Message, answers a JSON error envelope
	// (resultCode/resultMsg for MKT.* and CBC.* codes, else
	// error_code/error_msg/request_id). Body, when set, is sent verbatim
	// with ContentType instead.
	Status      int
	Code        string
	Message     string
	Body        []byte
	ContentType string
	// RetryAfter sets the Retry-After header.
	RetryAfter string
	// Unsigned applies the fault before the signature check.
	Unsigned bool
}

// Throttled is KooGallery's throttling answer: HTTP 406, MKT.0250.
func Throttled() Fault {
	return Fault{Status: http.StatusNotAcceptable, Code: "MKT.0250", Message: "Access frequency overlimit"}
}

// Unavailable is a gateway 503 (APIG.0201-style backend failure).
func Unavailable() Fault {
	return Fault{Status: http.StatusServiceUnavailable, Code: "APIGW.0201", Message: "Backend unavailable"}
}

// HTMLPage is a proxy's HTML error page with the given status.
func HTMLPage(status int) Fault {
	return Fault{Status: status, ContentType: "text/html",
		Body: []byte("<html><head><title>" + http.StatusText(status) + "</title></head><body><h1>" + http.StatusText(status) + "</h1><hr>nginx</body></html>")}
}

// Truncated is a 200 whose JSON body stops half way.
func Truncated() Fault {
	return Fault{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"MOCK`)}
}

// Hang never answers.
func Hang() Fault { return Fault{Hang: true} }

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every fault not yet used.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the next fault for the path and phase, consuming one use.
func (s *Server) takeFault(path string, unsigned bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Unsigned != unsigned || !strings.HasPrefix(path, f.Path) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

func (s *Server) lookup(ak string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sk, ok := s.keys[ak]
	return sk, ok
}

// maxRequestBody is the gateway's request size limit (APIGW.0201, HTTP 413).
const maxRequestBody = 12 << 20

// BasePath is the path prefix the Server serves the open API under: URL
// ends with it. A client that builds an absolute path instead of one
// relative to its endpoint gets APIGW.0101, as it would behind a proxy that
// mounts the gateway under a path.
const BasePath = "/koogallerytest"

func (s *Server) serve(w http.ResponseWriter, full *http.Request) {
	// full is the request as signed (the whole path); r is the same request
	// with the API path, for routing and the handlers.
	apiPath, inside := strings.CutPrefix(full.URL.Path, BasePath)
	inside = inside && strings.HasPrefix(apiPath, "/")
	r := full
	if inside {
		r = new(http.Request)
		*r = *full
		u := *full.URL
		u.Path, u.RawPath = apiPath, strings.TrimPrefix(u.RawPath, BasePath)
		r.URL = &u
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	// A file upload is streamed to its handler, never held in memory; every
	// other body is read (up to the gateway's limit) and recorded.
	stream := s.isStreamed(r)
	var body []byte
	if !stream {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			return
		}
		rec.Body = body
		full.Body = io.NopCloser(bytes.NewReader(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rw := &recorder{ResponseWriter: w, rec: &rec}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	requestID := newRequestID()
	w.Header().Set("X-Request-Id", requestID)

	if !inside {
		writeJSON(rw, http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment", requestID)
		return
	}
	if f := s.takeFault(r.URL.Path, true); f != nil && s.applyFault(rw, r, f, requestID) {
		return
	}
	if len(body) > maxRequestBody || (stream && r.ContentLength > s.open.maxUpload) {
		writeJSON(rw, http.StatusRequestEntityTooLarge, "APIGW.0201", "Request entity too large", requestID)
		return
	}
	if a, err := auth.ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		rec.AccessKey = a.AccessKey
	}
	if code, status, msg := s.authenticate(full, rec.AccessKey); code != "" {
		rec.AuthError = errors.New(msg)
		writeJSON(rw, status, code, msg, requestID)
		return
	}
	if f := s.takeFault(r.URL.Path, false); f != nil && s.applyFault(rw, r, f, requestID) {
		return
	}
	s.mu.Lock()
	h := s.handlers[r.Method+" "+r.URL.Path]
	s.mu.Unlock()
	if h == nil {
		h = s.patternHandler(r)
	}
	if h == nil {
		writeJSON(rw, http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment", requestID)
		return
	}
	h(rw, r)
}

// authenticate checks the signature and the lock-out, gateway style.
func (s *Server) authenticate(r *http.Request, ak string) (code string, status int, msg string) {
	const prefix = "Incorrect IAM authentication information: "
	now := s.now()
	s.mu.Lock()
	until, locked := s.locked[ak]
	s.mu.Unlock()
	if locked && now.Before(until) {
		return "APIGW.0301", http.StatusUnauthorized, prefix + "AK access failed to reach the limit,forbidden."
	}
	err := s.verifier.Verify(r)
	if err == nil {
		s.mu.Lock()
		delete(s.failures, ak)
		s.mu.Unlock()
		return "", 0, ""
	}
	s.mu.Lock()
	s.failures[ak]++
	if s.failures[ak] >= 5 {
		s.locked[ak] = now.Add(5 * time.Minute)
		s.failures[ak] = 0
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, auth.ErrUnknownAccessKey):
		return "APIGW.0301", http.StatusUnauthorized, prefix + "Get secretKey failed,ak:" + ak + ",err:ak not exist"
	case errors.Is(err, auth.ErrExpired):
		return "APIGW.0301", http.StatusUnauthorized, prefix + "calc ak sk signature fail:signature expired"
	}
	return "APIGW.0301", http.StatusUnauthorized, prefix + "verify aksk signature fail"
}

// applyFault answers with f and reports whether the request is done.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault, requestID string) bool {
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Minute):
		}
		return true
	}
	if f.Delay > 0 {
		select {
		case <-r.Context().Done():
			return true
		case <-time.After(f.Delay):
		}
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch {
	case f.Body != nil:
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		w.Write(f.Body)
		return true
	case f.Status != 0:
		writeJSON(w, f.Status, f.Code, f.Message, requestID)
		return true
	}
	return false
}

// writeJSON writes a result envelope in the family the code belongs to.
func writeJSON(w http.ResponseWriter, status int, code, msg, requestID string) {
	var v any
	if strings.HasPrefix(code, "MKT.") || strings.HasPrefix(code, "CBC.") {
		v = map[string]string{"resultCode": code, "resultMsg": msg}
	} else {
		v = map[string]string{"error_code": code, "error_msg": msg, "request_id": requestID}
	}
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if rec, ok := w.(*recorder); ok {
		rec.rec.Code = code
	}
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) queryOrder(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("orderId")
	lineID := r.URL.Query().Get("orderLineId")
	rid := w.Header().Get("X-Request-Id")
	for name := range r.URL.Query() {
		if name != "orderId" && name != "orderLineId" {
			writeJSON(w, http.StatusBadRequest, "MKT.0101", "Invalid parameter", rid)
			return
		}
	}
	if id == "" || utf8.RuneCountInString(id) > 64 || utf8.RuneCountInString(lineID) > 64 {
		writeJSON(w, http.StatusBadRequest, "MKT.0101", "Invalid parameter", rid)
		return
	}
	s.mu.Lock()
	raw, ok := s.orders[id]
	s.mu.Unlock()
	if !ok {
		// What the live service answers for an unknown order is not
		// documented; this fake says the input failed validation.
		writeJSON(w, http.StatusInternalServerError, "MKT.0100", "Failure of input parameter: order not found", rid)
		return
	}
	if lineID != "" {
		var err error
		if raw, err = onlyLine(raw, lineID); err != nil {
			writeJSON(w, http.StatusInternalServerError, "MKT.0100", "Failure of input parameter: order line not found", rid)
			return
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":`)
	b.Write(raw)
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if rec, ok := w.(*recorder); ok {
		rec.rec.Code = "MKT.0000"
	}
	w.Write(b.Bytes())
}

// onlyLine filters an orderInfo document down to one order line.
func onlyLine(raw json.RawMessage, lineID string) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var lines []json.RawMessage
	if err := json.Unmarshal(doc["orderLine"], &lines); err != nil {
		return nil, err
	}
	for _, l := range lines {
		var id struct {
			OrderLineID string `json:"orderLineId"`
		}
		if json.Unmarshal(l, &id) == nil && id.OrderLineID == lineID {
			doc["orderLine"], _ = json.Marshal([]json.RawMessage{l})
			return json.Marshal(doc)
		}
	}
	return nil, errors.New("no such order line")
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder captures the status for the request log.
type recorder struct {
	http.ResponseWriter
	rec *Request
}

func (r *recorder) WriteHeader(status int) {
	r.rec.Status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.rec.Status == 0 {
		r.rec.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}
