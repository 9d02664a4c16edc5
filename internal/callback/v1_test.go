package callback

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// Spec §9.3 and §9.7, and the instants they were signed at.
const (
	v1RawQuery = "timeStamp=20261127083000123&activity=refreshInstance&orderId=CS2611270001ABCDE&instanceId=inst-0001" +
		"&productId=OFFI000000000000000001&expireTime=20271231235959&periodType=year&periodNumber=1&testFlag=0" +
		"&authToken=ISQPmsWS3la%2F5IRnLdpTh0W9iyazgtByiifep%2FO%2F0vI%3D"
	v1KitBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	v1KitToken = "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog="
)

var v1Time = time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC) // 16:30:00.123 in GMT+8

type v1Fixture struct {
	h     *Handler
	calls atomic.Int64
	got   atomic.Value // string: what Serve received
	logs  *callbacktest.LogBuffer
}

func newV1Fixture(t *testing.T, scheme Scheme, cfg Config, serve Serve) *v1Fixture {
	t.Helper()
	f := &v1Fixture{logs: &callbacktest.LogBuffer{}}
	cfg.Scheme, cfg.Family = scheme, "saas.v1"
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return v1Time }
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.h = NewHandler(vecKey, cfg, func(ctx context.Context, body []byte, resp *Response) error {
		f.calls.Add(1)
		f.got.Store(string(body))
		if serve != nil {
			return serve(ctx, body, resp)
		}
		return nil
	})
	t.Cleanup(func() { assert.NotContains(t, f.logs.String(), vecKey) })
	return f
}

// serve answers req and checks the V1 contract: HTTP 200, JSON, and a
// Body-Sign that verifies over exactly the bytes sent.
func (f *v1Fixture) serve(t *testing.T, req *http.Request) (code, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	res := rec.Result()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, v1sign.VerifyBodySign(vecKey, raw, res.Header.Get("Body-Sign")), "Body-Sign over %s", raw)
	// ResultCode checks the envelope of the recorded answer, replayed.
	replay := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		_, _ = w.Write(raw)
	})
	code = callbacktest.ResultCode(t, replay, httptest.NewRequest(http.MethodGet, "/", nil))
	return code, string(raw)
}

func TestV1QuerySpecVector(t *testing.T) {
	t.Parallel()
	f := newV1Fixture(t, SchemeV1Query, Config{}, nil)
	code, body := f.serve(t, httptest.NewRequest(http.MethodGet, "/isv/v1?"+v1RawQuery, nil))
	assert.Equal(t, CodeSuccess, code)
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success"}`, body)
	assert.Equal(t, v1RawQuery, f.got.Load(), "Serve gets the verified raw query")
}

// A query whose authToken verifies only with '+' kept literal reaches Serve
// written so that it form-decodes to the values signed: "O+1", not "O 1".
func TestV1QueryServesTheReadingThatVerified(t *testing.T) {
	t.Parallel()
	values := url.Values{"activity": {"refreshInstance"}, "orderId": {"O+1"}, "instanceId": {"C++Team"},
		"saasExtendParams": {`[{"name":"email","value":"a+b@x.com"}]`}, "timeStamp": {"20261127083000123"}}
	token, err := v1sign.SignQuery(vecKey, values)
	require.NoError(t, err)
	raw := "activity=refreshInstance&orderId=O+1&instanceId=C++Team&saasExtendParams=" +
		strings.ReplaceAll(url.PathEscape(values.Get("saasExtendParams")), "%2B", "+") +
		"&timeStamp=20261127083000123&authToken=" + url.QueryEscape(token)
	require.Contains(t, raw, "a+b@x.com")
	f := newV1Fixture(t, SchemeV1Query, Config{}, nil)
	code, _ := f.serve(t, httptest.NewRequest(http.MethodGet, "/isv/v1?"+raw, nil))
	require.Equal(t, CodeSuccess, code)
	got, err := url.ParseQuery(f.got.Load().(string))
	require.NoError(t, err)
	assert.Equal(t, "O+1", got.Get("orderId"))
	assert.Equal(t, "C++Team", got.Get("instanceId"))
	assert.Equal(t, values.Get("saasExtendParams"), got.Get("saasExtendParams"))
	q, err := v1sign.ParseQuery(f.got.Load().(string))
	require.NoError(t, err)
	assert.NoError(t, q.Verify(vecKey), "what Serve gets still verifies")
}

func TestV1QueryRefusals(t *testing.T) {
	t.Parallel()
	forged := strings.Replace(v1RawQuery, "inst-0001", "inst-0002", 1)
	tests := []struct {
		name, method, query string
		cfg                 Config
		code                string
	}{
		{"changed value", http.MethodGet, forged, Config{}, CodeAuth},
		{"no authToken", http.MethodGet, strings.Split(v1RawQuery, "&authToken")[0], Config{}, CodeAuth},
		{"malformed escape", http.MethodGet, v1RawQuery + "&x=%zz", Config{}, CodeAuth},
		{"POST", http.MethodPost, v1RawQuery, Config{}, CodeInvalid},
		{"query over the bound", http.MethodGet, v1RawQuery, Config{MaxBodyBytes: 100}, CodeInvalid},
		{"25 h later", http.MethodGet, v1RawQuery, Config{Now: func() time.Time { return v1Time.Add(25 * time.Hour) }}, CodeAuth},
		{"25 h earlier", http.MethodGet, v1RawQuery, Config{Now: func() time.Time { return v1Time.Add(-25 * time.Hour) }}, CodeAuth},
		{"outside a 1 h window", http.MethodGet, v1RawQuery, Config{V1Window: time.Hour, Now: func() time.Time { return v1Time.Add(2 * time.Hour) }}, CodeAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newV1Fixture(t, SchemeV1Query, tt.cfg, nil)
			code, _ := f.serve(t, httptest.NewRequest(tt.method, "/isv/v1?"+tt.query, nil))
			assert.Equal(t, tt.code, code)
			assert.Zero(t, f.calls.Load())
		})
	}
}

func TestV1Window(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		window time.Duration
		offset time.Duration
		query  string
		code   string
	}{
		{"23 h later, default window", 0, 23 * time.Hour, v1RawQuery, CodeSuccess},
		{"a year later, no window", -1, 365 * 24 * time.Hour, v1RawQuery, CodeSuccess},
		{"30 min later, 1 h window", time.Hour, 30 * time.Minute, v1RawQuery, CodeSuccess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Now: func() time.Time { return v1Time.Add(tt.offset) }}
			cfg.SetV1Window(tt.window)
			if tt.window == 0 {
				cfg.V1Window = 0 // the default
			}
			f := newV1Fixture(t, SchemeV1Query, cfg, nil)
			code, _ := f.serve(t, httptest.NewRequest(http.MethodGet, "/isv/v1?"+tt.query, nil))
			assert.Equal(t, tt.code, code)
		})
	}

	// An unreadable timeStamp is refused only when there is a window.
	q := url.Values{"activity": {"releaseInstance"}, "instanceId": {"i"}, "timeStamp": {"yesterday"}}
	token, err := v1sign.SignQuery(vecKey, q)
	require.NoError(t, err)
	q.Set("authToken", token)
	f := newV1Fixture(t, SchemeV1Query, Config{}, nil)
	code, _ := f.serve(t, httptest.NewRequest(http.MethodGet, "/?"+q.Encode(), nil))
	assert.Equal(t, CodeAuth, code)
	assert.Contains(t, f.logs.String(), "malformed timeStamp")
	cfg := Config{}
	cfg.SetV1Window(0)
	f = newV1Fixture(t, SchemeV1Query, cfg, nil)
	code, _ = f.serve(t, httptest.NewRequest(http.MethodGet, "/?"+q.Encode(), nil))
	assert.Equal(t, CodeSuccess, code)
}

func TestV1KitSpecVector(t *testing.T) {
	t.Parallel()
	f := newV1Fixture(t, SchemeV1Kit, Config{}, nil)
	req := httptest.NewRequest(http.MethodPost, "/isv/produce/produceAPI/tenantSync", strings.NewReader(v1KitBody))
	req.Header.Set("authToken", v1KitToken)
	code, _ := f.serve(t, req)
	assert.Equal(t, CodeSuccess, code)
	assert.Equal(t, v1KitBody, f.got.Load())

	// The kit timeStamp is GMT+8: 16:30 there is 08:30 UTC. Read as UTC it
	// would lie 8 h in the future, outside a 1 h window.
	cfg := Config{V1Window: time.Hour}
	f = newV1Fixture(t, SchemeV1Kit, cfg, nil)
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(v1KitBody))
	req.Header.Set("authToken", v1KitToken)
	code, _ = f.serve(t, req)
	assert.Equal(t, CodeSuccess, code)
}

func TestV1KitRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, method, body, token string
		code                      string
	}{
		{"no token", http.MethodPost, v1KitBody, "", CodeAuth},
		{"wrong token", http.MethodPost, v1KitBody, "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVoh=", CodeAuth},
		{"changed body", http.MethodPost, strings.Replace(v1KitBody, `"flag": 1`, `"flag": 0`, 1), v1KitToken, CodeAuth},
		{"not JSON", http.MethodPost, "flag=1", v1KitToken, CodeAuth},
		{"GET", http.MethodGet, v1KitBody, v1KitToken, CodeInvalid},
		{"too large", http.MethodPost, v1KitBody + strings.Repeat(" ", DefaultMaxBodyKit), v1KitToken, CodeInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newV1Fixture(t, SchemeV1Kit, Config{}, nil)
			req := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body))
			if tt.token != "" {
				req.Header.Set("authToken", tt.token)
			}
			code, _ := f.serve(t, req)
			assert.Equal(t, tt.code, code)
			assert.Zero(t, f.calls.Load())
		})
	}
}

// Every answer of a V1 scheme is signed, failures and panics included; a V2
// scheme's answer is not.
func TestV1AnswersSigned(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		serve Serve
		code  string
	}{
		{"extra members", func(_ context.Context, _ []byte, r *Response) error {
			r.Extra = AppendString(append(r.Extra, `,"instanceId":`...), "inst-0001")
			return nil
		}, CodeSuccess},
		{"error", func(context.Context, []byte, *Response) error { return &Error{Code: "000106", Message: "sold out"} }, "000106"},
		{"panic", func(context.Context, []byte, *Response) error { panic("boom") }, CodeInternal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newV1Fixture(t, SchemeV1Query, Config{}, tt.serve)
			code, _ := f.serve(t, httptest.NewRequest(http.MethodGet, "/?"+v1RawQuery, nil))
			assert.Equal(t, tt.code, code)
		})
	}

	// §9.4 exactly.
	f := newV1Fixture(t, SchemeV1Query, Config{}, func(_ context.Context, _ []byte, r *Response) error {
		r.Extra = AppendString(append(r.Extra, `,"instanceId":`...), "inst-0001")
		return nil
	})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?"+v1RawQuery, nil))
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success","instanceId":"inst-0001"}`, rec.Body.String())
	assert.Equal(t, `sign_type="HMAC-SHA256", signature="MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="`, rec.Header().Get("Body-Sign"))

	v2 := NewHandler(vecKey, Config{Logger: slog.New(slog.DiscardHandler)}, func(context.Context, []byte, *Response) error { return nil })
	rec = httptest.NewRecorder()
	v2.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Empty(t, rec.Header().Get("Body-Sign"))
}

func TestTimeIn(t *testing.T) {
	t.Parallel()
	got, err := TimeIn("20261127163000123", GMT8())
	require.NoError(t, err)
	assert.Equal(t, v1Time, got)
	assert.Equal(t, time.UTC, got.Location())
	got, err = TimeIn("20261127T163000Z", GMT8())
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC), got, "a 'Z' time names its own zone")
	_, err = TimeIn("2026", GMT8())
	assert.Error(t, err)
}
