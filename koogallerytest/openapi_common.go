package koogallerytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/saas/usage"
)

// DefaultSellerKey is the seller key (卖家中心 › 应用工具 › 密钥管理) a fake
// Server checks the usage push's body signature with, unless WithSellerKey
// sets another.
const DefaultSellerKey = "koogallerytest-seller-key-0001"

// DefaultMaxUploadBytes is the largest request body the fake accepts for
// the event file upload: 12 MiB, the API gateway's documented limit for
// request bodies (larger ones get HTTP 413, APIGW.0201). WithMaxUploadBytes
// raises it, e.g. to test large streamed uploads.
const DefaultMaxUploadBytes = 12 << 20

// WithSellerKey sets the seller key the usage push's signature header is
// checked with.
func WithSellerKey(key string) ServerOption {
	return serverFunc(func(c *serverConfig) { c.sellerKey = key })
}

// WithMaxUploadBytes sets the largest event-file upload body the fake
// accepts (default DefaultMaxUploadBytes).
func WithMaxUploadBytes(n int64) ServerOption {
	return serverFunc(func(c *serverConfig) {
		if n > 0 {
			c.maxUpload = n
		}
	})
}

// openState is the state of the usage, licence and upload APIs. It is
// guarded by Server.mu.
type openState struct {
	sellerKey string
	maxUpload int64

	instances map[string]bool       // known pay-per-use instances; nil accepts any
	failing   map[string]string     // metering_sn → reason the fake reports it abnormal
	usage     []usage.Record        // accepted usage records, both APIs
	sns       map[string]bool       // metering_sn already accepted
	ledger    *usageLedger          // UsageChaos and UsageLedger (usage_chaos.go)
	codes     map[string]*codeState // licence codes
	events    map[string]bool       // known market events; nil accepts any
	uploads   []EventUpload
}

func (s *Server) registerOpenAPI(cfg *serverConfig) {
	s.open = openState{
		sellerKey: cfg.sellerKey,
		maxUpload: cfg.maxUpload,
		failing:   map[string]string{},
		sns:       map[string]bool{},
		ledger:    newUsageLedger(),
		codes:     map[string]*codeState{},
	}
	post := func(path string, h http.HandlerFunc) { s.handlers[http.MethodPost+" "+path] = h }
	post(usage.Path, s.usageData)
	post(usage.LegacyPath, s.legacyUsageData)
	post(license.ActivatePath, s.activate)
	post(license.ActivateV2Path, s.activateV2)
	post(license.HeartbeatPath, s.heartbeat)
	post(license.HeartbeatV2Path, s.heartbeatV2)
	post(license.SoftwareUsagePath, s.softwareUsage)
}

// eventPathParts splits an event file upload path; ok is false for any
// other path.
func eventPathParts(path string) (eventID string, ok bool) {
	const prefix = "/api/mkp-openapi-public/global/v1/market-event/"
	rest, found := strings.CutPrefix(path, prefix)
	if !found {
		return "", false
	}
	id, found := strings.CutSuffix(rest, "/file")
	if !found || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// isEventUpload reports requests for the event file upload.
func isEventUpload(r *http.Request) bool {
	_, ok := eventPathParts(r.URL.Path)
	return ok && r.Method == http.MethodPost
}

// isStreamed reports requests whose body goes to the handler unread: event
// uploads whose body is left out of the signature. A signed body has to be
// read whole to be verified anyway, so it is read and recorded as usual.
func (s *Server) isStreamed(r *http.Request) bool {
	return isEventUpload(r) && strings.TrimSpace(r.Header.Get(auth.HeaderContentSHA256)) == auth.UnsignedPayload
}

// patternHandler serves the routes with a path parameter.
func (s *Server) patternHandler(r *http.Request) http.HandlerFunc {
	if isEventUpload(r) {
		return s.eventFile
	}
	return nil
}

// writeEnvelope writes the snake_case envelope of the usage, licence and
// upload APIs: error_code, error_msg and, when not nil, data.
func writeEnvelope(w http.ResponseWriter, status int, code, msg string, data any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	v := struct {
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Data      any    `json:"data,omitempty"`
	}{code, msg, data}
	if err := enc.Encode(v); err != nil {
		code, msg = "MKT.0999", "System internal error."
		b.Reset()
		b.WriteString(`{"error_code":"MKT.0999","error_msg":"System internal error."}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if rec, ok := w.(*recorder); ok {
		rec.rec.Code = code
	}
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
