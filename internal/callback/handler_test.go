package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/internal/callbacktest"
)

var vecTime = time.UnixMilli(1795768200123)

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	key    *Key
	logs   *callbacktest.LogBuffer
	calls  atomic.Int64
	bodies chan string
	nonce  atomic.Int64
}

// newFixture mounts an engine under a non-root prefix; serve defaults to
// recording the body and succeeding.
func newFixture(t *testing.T, cfg Config, serve Serve) *fixture {
	t.Helper()
	f := &fixture{t: t, key: NewKey(vecKey), logs: &callbacktest.LogBuffer{}, bodies: make(chan string, 100)}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return vecTime }
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if serve == nil {
		serve = func(_ context.Context, body []byte, resp *Response) error {
			f.bodies <- string(body)
			return nil
		}
	}
	counted := func(ctx context.Context, body []byte, resp *Response) error {
		f.calls.Add(1)
		return serve(ctx, body, resp)
	}
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", NewHandler(vecKey, cfg, counted))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		assert.NotContains(t, f.logs.String(), vecKey, "the access key leaked into the logs")
	})
	return f
}

type answer struct {
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
	InstanceID string `json:"instanceId"`
	raw        string
}

func (f *fixture) do(req *http.Request) answer {
	f.t.Helper()
	resp, err := f.srv.Client().Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "always HTTP 200")
	require.Equal(f.t, "application/json", resp.Header.Get("Content-Type"))
	var a answer
	require.NoError(f.t, json.Unmarshal(raw, &a), "answer is JSON: %s", raw)
	a.raw = string(raw)
	assert.NotContains(f.t, a.raw, vecKey, "the access key leaked into a response")
	return a
}

// post sends body signed with the V2 scheme; query overrides individual
// parameters after signing.
func (f *fixture) post(body, nonce, ts string, query map[string]string) answer {
	f.t.Helper()
	q := url.Values{"signature": {f.key.SignV2(nonce, ts, canonical(f.t, body))}, "timestamp": {ts}, "nonce": {nonce}}
	for k, v := range query {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce?"+q.Encode(), strings.NewReader(body))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	return f.do(req)
}

func (f *fixture) nextNonce() string { return "nonce" + strconv.FormatInt(f.nonce.Add(1), 10) }

func canonical(t *testing.T, body string) []byte {
	out, err := canonicalOrRaw([]byte(body))
	require.NoError(t, err)
	return out
}

func canonicalOrRaw(body []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body, nil // sign garbage as is
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for k, v := range m {
		if string(v) == "null" {
			delete(m, k)
		}
	}
	err := enc.Encode(m) // maps encode with sorted keys
	return bytes.TrimSpace(b.Bytes()), err
}

func TestHandlerSpecVector(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Family: "saas"}, nil)
	q := url.Values{"signature": {v2Signature}, "timestamp": {vecTimestamp}, "nonce": {vecNonce}}
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce?"+q.Encode(), strings.NewReader(v2WireBody))
	require.NoError(t, err)
	a := f.do(req)
	assert.Equal(t, `{"resultCode":"000000","resultMsg":"success"}`, a.raw)
	assert.Equal(t, v2WireBody, <-f.bodies, "Serve gets the raw body")
}

func TestHandlerKitSpecVector(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Family: "kit", Scheme: SchemeKit}, nil)
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce", strings.NewReader(kitWireBody))
	require.NoError(t, err)
	req.Header.Set("x-sign", kitSignature)
	req.Header.Set("x-timestamp", vecTimestamp)
	req.Header.Set("x-nonce", vecNonce)
	assert.Equal(t, CodeSuccess, f.do(req).ResultCode)

	// The query parameters of the V2 scheme mean nothing to the kit scheme.
	q := url.Values{"signature": {kitSignature}, "timestamp": {vecTimestamp}, "nonce": {"other"}}
	req, err = http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce?"+q.Encode(), strings.NewReader(kitWireBody))
	require.NoError(t, err)
	assert.Equal(t, CodeAuth, f.do(req).ResultCode)
	assert.Equal(t, int64(1), f.calls.Load())
}

func TestHandlerRefusals(t *testing.T) {
	t.Parallel()
	const body = `{"activity":"orderNotify","orderId":"O1","orderLineId":"O1-1"}`
	ts := vecTimestamp
	tests := []struct {
		name   string
		ts     string
		query  map[string]string
		reason string
	}{
		{"missing signature", ts, map[string]string{"signature": ""}, "missing signature"},
		{"missing timestamp", ts, map[string]string{"timestamp": ""}, "missing signature"},
		{"missing nonce", ts, map[string]string{"nonce": ""}, "missing signature"},
		{"wrong signature", ts, map[string]string{"signature": strings.Repeat("0", 64)}, "signature mismatch"},
		{"signature not hex", ts, map[string]string{"signature": strings.Repeat("x", 64)}, "signature mismatch"},
		{"malformed timestamp", "17957682OO123", nil, "malformed timestamp"},
		{"timestamp in seconds", "1795768200", nil, "freshness window"},
		{"stale by 66 s", strconv.FormatInt(vecTime.UnixMilli()-66_000, 10), nil, "freshness window"},
		{"66 s in the future", strconv.FormatInt(vecTime.UnixMilli()+66_000, 10), nil, "freshness window"},
		{"oversized nonce", ts, map[string]string{"nonce": strings.Repeat("n", maxNonceLen+1)}, "malformed nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Family: "order"}, nil)
			a := f.post(body, f.nextNonce(), tt.ts, tt.query)
			assert.Equal(t, `{"resultCode":"000001","resultMsg":"authentication failed"}`, a.raw)
			assert.Zero(t, f.calls.Load(), "seller code must not run")
			logs := f.logs.String()
			assert.Contains(t, logs, tt.reason)
			assert.Contains(t, logs, `"level":"WARN"`)
		})
	}
}

func TestHandlerFreshnessEdges(t *testing.T) {
	t.Parallel()
	const body = `{"a":"b"}`
	for _, tt := range []struct {
		name   string
		skew   time.Duration
		offset time.Duration
		want   string
	}{
		{"default skew, 65 s old", 0, -65 * time.Second, CodeSuccess},
		{"default skew, 65.001 s old", 0, -65*time.Second - time.Millisecond, CodeAuth},
		{"default skew, 65 s ahead", 0, 65 * time.Second, CodeSuccess},
		{"default skew, 65.001 s ahead", 0, 65*time.Second + time.Millisecond, CodeAuth},
		{"no skew, 60 s old", -1, -60 * time.Second, CodeSuccess},
		{"no skew, 60.001 s old", -1, -60*time.Second - time.Millisecond, CodeAuth},
		{"30 s skew, 90 s ahead", 30 * time.Second, 90 * time.Second, CodeSuccess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Skew: tt.skew}, nil)
			ts := strconv.FormatInt(vecTime.Add(tt.offset).UnixMilli(), 10)
			assert.Equal(t, tt.want, f.post(body, f.nextNonce(), ts, nil).ResultCode)
		})
	}
}

func TestHandlerReplay(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(vecTime.UnixMilli())
	f := newFixture(t, Config{Now: func() time.Time { return time.UnixMilli(now.Load()) }}, nil)
	const body = `{"activity":"newInstance","orderId":"O1"}`

	assert.Equal(t, CodeSuccess, f.post(body, "N1", vecTimestamp, nil).ResultCode)
	assert.Equal(t, CodeAuth, f.post(body, "N1", vecTimestamp, nil).ResultCode, "replay")
	now.Add(65_000)
	assert.Equal(t, CodeAuth, f.post(body, "N1", vecTimestamp, nil).ResultCode, "replay at the last fresh instant")
	now.Add(1)
	assert.Equal(t, CodeAuth, f.post(body, "N1", vecTimestamp, nil).ResultCode, "replay after the nonce expired: stale")
	assert.Equal(t, int64(1), f.calls.Load())
	assert.Contains(t, f.logs.String(), "replayed nonce")
	assert.Contains(t, f.logs.String(), "freshness window")
}

// The signature covers nonce and timestamp concatenated: moving the trailing
// zeros of a genuine nonce to the front of the timestamp keeps it valid and
// names the same instant. Each such variant is a replay.
func TestHandlerReplayMovingZeros(t *testing.T) {
	t.Parallel()
	const body = `{"activity":"updateInstanceStatus","instanceId":"i1","status":"FREEZE"}`
	const nonce = "N3A7Q00000"
	t.Run("V2", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, Config{}, nil)
		sig := f.key.SignV2(nonce, vecTimestamp, canonical(t, body))
		assert.Equal(t, CodeSuccess, f.post(body, nonce, vecTimestamp, nil).ResultCode)
		for i := 0; i <= 5; i++ {
			n, ts := nonce[:len(nonce)-i], strings.Repeat("0", i)+vecTimestamp
			require.Equal(t, sig, f.key.SignV2(n, ts, canonical(t, body)), "same signed string")
			assert.Equal(t, CodeAuth, f.post(body, n, ts, map[string]string{"signature": sig}).ResultCode, "nonce %q timestamp %q", n, ts)
		}
		assert.Equal(t, int64(1), f.calls.Load())
	})
	t.Run("kit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, Config{Scheme: SchemeKit}, nil)
		sig := f.key.SignKit(nonce, vecTimestamp, canonical(t, body))
		send := func(n, ts string) string {
			req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("x-sign", sig)
			req.Header.Set("x-timestamp", ts)
			req.Header.Set("x-nonce", n)
			return f.do(req).ResultCode
		}
		assert.Equal(t, CodeSuccess, send(nonce, vecTimestamp))
		for i := 0; i <= 5; i++ {
			assert.Equal(t, CodeAuth, send(nonce[:len(nonce)-i], strings.Repeat("0", i)+vecTimestamp), "moved %d zeros", i)
		}
		assert.Equal(t, int64(1), f.calls.Load())
	})
}

// A forged call must not burn the nonce of the genuine call that follows.
func TestHandlerForgedCallDoesNotPoisonNonce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	const body = `{"activity":"newInstance","orderId":"O1"}`
	forged := f.post(body, "N1", vecTimestamp, map[string]string{"signature": NewKey("attacker").SignV2("N1", vecTimestamp, []byte(body))})
	assert.Equal(t, CodeAuth, forged.ResultCode)
	assert.Equal(t, CodeSuccess, f.post(body, "N1", vecTimestamp, nil).ResultCode)
}

// A retry that reuses a nonce with a new, signed timestamp is no replay.
func TestHandlerSameNonceNewTimestamp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	const body = `{"a":"b"}`
	assert.Equal(t, CodeSuccess, f.post(body, "N1", vecTimestamp, nil).ResultCode)
	assert.Equal(t, CodeSuccess, f.post(body, "N1", strconv.FormatInt(vecTime.UnixMilli()+1, 10), nil).ResultCode)
}

func TestHandlerEveryChangedByteRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	send := func(sig, ts, nonce, body string) answer {
		q := "signature=" + url.QueryEscape(sig) + "&timestamp=" + url.QueryEscape(ts) + "&nonce=" + url.QueryEscape(nonce)
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce?"+q, strings.NewReader(body))
		require.NoError(t, err)
		return f.do(req)
	}
	for i := range len(v2Canonical) {
		assert.Equal(t, CodeAuth, send(v2Signature, vecTimestamp, vecNonce, flipped(v2Canonical, i)).ResultCode, "body byte %d", i)
	}
	for i := range len(v2Signature) {
		assert.Equal(t, CodeAuth, send(flipped(v2Signature, i), vecTimestamp, vecNonce, v2Canonical).ResultCode, "signature byte %d", i)
	}
	for i := range len(vecTimestamp) {
		assert.Equal(t, CodeAuth, send(v2Signature, flipped(vecTimestamp, i), vecNonce, v2Canonical).ResultCode, "timestamp byte %d", i)
	}
	for i := range len(vecNonce) {
		assert.Equal(t, CodeAuth, send(v2Signature, vecTimestamp, flipped(vecNonce, i), v2Canonical).ResultCode, "nonce byte %d", i)
	}
	assert.Zero(t, f.calls.Load(), "seller code must not run")
	// And the untouched call still goes through (nothing was poisoned).
	assert.Equal(t, CodeSuccess, send(v2Signature, vecTimestamp, vecNonce, v2Canonical).ResultCode)
}

func TestHandlerMalformedRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxBodyBytes: 64}, nil)

	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/isv/produce?signature=x&timestamp=1&nonce=n", nil)
	require.NoError(t, err)
	assert.Equal(t, `{"resultCode":"000002","resultMsg":"method must be POST"}`, f.do(req).raw)

	big := `{"a":"` + strings.Repeat("x", 64) + `"}`
	a := f.post(big, f.nextNonce(), vecTimestamp, nil)
	assert.Equal(t, `{"resultCode":"000002","resultMsg":"request body too large"}`, a.raw)

	// Without a declared length (chunked) the limit still holds.
	q := url.Values{"signature": {f.key.SignV2("c1", vecTimestamp, []byte(big))}, "timestamp": {vecTimestamp}, "nonce": {"c1"}}
	req, err = http.NewRequest(http.MethodPost, f.srv.URL+"/isv/produce?"+q.Encode(), io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err)
	req.ContentLength = -1 // unknown: sent chunked
	assert.Equal(t, CodeInvalid, f.do(req).ResultCode)

	// At the limit exactly is fine.
	exact := `{"a":"` + strings.Repeat("x", 64-8) + `"}`
	require.Len(t, exact, 64)
	assert.Equal(t, CodeSuccess, f.post(exact, f.nextNonce(), vecTimestamp, nil).ResultCode)
	assert.Equal(t, int64(1), f.calls.Load())
}

// countingReader is an endless body that counts what is read from it.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func TestHandlerStopsReadingOversizeBody(t *testing.T) {
	t.Parallel()
	h := NewHandler(vecKey, Config{Now: func() time.Time { return vecTime }, Logger: slog.New(slog.DiscardHandler)}, func(context.Context, []byte, *Response) error {
		t.Error("seller code must not run")
		return nil
	})
	for _, declared := range []int64{-1, 10 << 20} {
		body := &countingReader{}
		req := httptest.NewRequest(http.MethodPost, "/?signature=x&timestamp="+vecTimestamp+"&nonce=n", body)
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.JSONEq(t, `{"resultCode":"000002","resultMsg":"request body too large"}`, rec.Body.String())
		assert.LessOrEqual(t, body.n.Load(), DefaultMaxBody(SchemeV2)+1, "declared %d: read more than the limit", declared)
		if declared > 0 {
			assert.Zero(t, body.n.Load(), "a declared oversize body is refused unread")
		}
	}
}

func TestHandlerSellerResults(t *testing.T) {
	t.Parallel()
	secretish := "dial tcp 10.0.0.7:5432: password authentication failed for user ops"
	tests := []struct {
		name  string
		serve Serve
		want  string
		level string
	}{
		{"extra members", func(_ context.Context, _ []byte, r *Response) error {
			r.Activity = "newInstance"
			r.Extra = append(AppendString(append(r.Extra, `,"instanceId":`...), "i-1"), `,"n":1`...)
			return nil
		}, `{"resultCode":"000000","resultMsg":"success","instanceId":"i-1","n":1}`, ""},
		{"non-failure code", func(_ context.Context, _ []byte, r *Response) error {
			r.Code, r.Extra = CodeProcessing, append(r.Extra, `,"instanceId":"i-2"`...)
			return nil
		}, `{"resultCode":"000004","resultMsg":"request is being processed","instanceId":"i-2"}`, ""},
		{"invalid code", func(_ context.Context, _ []byte, r *Response) error {
			r.Code = "42"
			return nil
		}, `{"resultCode":"000005","resultMsg":"internal error"}`, "ERROR"},
		{"result error wins, extra dropped", func(_ context.Context, _ []byte, r *Response) error {
			r.Extra = append(r.Extra, `,"instanceId":"i-3"`...)
			return errors.Join(errors.New("context"), &Error{Code: "000106", Message: "sold out"})
		}, `{"resultCode":"000106","resultMsg":"sold out"}`, "INFO"},
		{"plain error text not leaked", func(context.Context, []byte, *Response) error {
			return errors.New(secretish)
		}, `{"resultCode":"000005","resultMsg":"internal error"}`, "ERROR"},
		{"panic", func(context.Context, []byte, *Response) error {
			panic(secretish)
		}, `{"resultCode":"000005","resultMsg":"internal error"}`, "ERROR"},
		{"panic with error", func(context.Context, []byte, *Response) error {
			var m map[string]int
			m["x"]++ // nil map write
			return nil
		}, `{"resultCode":"000005","resultMsg":"internal error"}`, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Family: "saas"}, tt.serve)
			a := f.post(`{"activity":"x"}`, f.nextNonce(), vecTimestamp, nil)
			assert.Equal(t, tt.want, a.raw)
			assert.NotContains(t, a.raw, "10.0.0.7")
			if tt.level != "" {
				assert.Contains(t, f.logs.String(), `"level":"`+tt.level+`"`)
			}
			// The server keeps serving after whatever happened.
			assert.NotEmpty(t, f.post(`{"activity":"y"}`, f.nextNonce(), vecTimestamp, nil).ResultCode)
		})
	}
}

func TestHandlerLogsPanicAndSellerError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Family: "saas"}, func(_ context.Context, body []byte, r *Response) error {
		r.Activity = "newInstance"
		if bytes.Contains(body, []byte("panic")) {
			panic("boom in provider")
		}
		return errors.New("provider broke")
	})
	f.post(`{"activity":"panic"}`, f.nextNonce(), vecTimestamp, nil)
	f.post(`{"activity":"error"}`, f.nextNonce(), vecTimestamp, nil)
	logs := f.logs.String()
	assert.Contains(t, logs, "boom in provider")
	assert.Contains(t, logs, "handler_test.go", "the stack is logged")
	assert.Contains(t, logs, "provider broke")
	assert.Contains(t, logs, `"activity":"newInstance"`)
	assert.Contains(t, logs, `"family":"saas"`)
}

func TestHandlerAbortPanicPropagates(t *testing.T) {
	t.Parallel()
	h := NewHandler(vecKey, Config{Now: func() time.Time { return vecTime }}, func(context.Context, []byte, *Response) error {
		panic(http.ErrAbortHandler)
	})
	k := NewKey(vecKey)
	body := `{"a":"b"}`
	req := httptest.NewRequest(http.MethodPost, "/?signature="+k.SignV2("n", vecTimestamp, []byte(body))+"&timestamp="+vecTimestamp+"&nonce=n", strings.NewReader(body))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
}

func TestNewHandlerMisuse(t *testing.T) {
	t.Parallel()
	serve := func(context.Context, []byte, *Response) error { return nil }
	assert.PanicsWithValue(t, "saas: empty access key", func() { NewHandler("", Config{Family: "saas"}, serve) })
	assert.PanicsWithValue(t, "saas: nil callback implementation", func() { NewHandler(vecKey, Config{Family: "saas"}, nil) })
}

func TestQueryParams(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ raw, sig, ts, nonce string }{
		{"signature=AB&timestamp=1&nonce=n", "AB", "1", "n"},
		{"nonce=n&x=1&timestamp=1&signature=AB", "AB", "1", "n"},
		{"signature=AB&signature=CD&timestamp=1&nonce=n", "AB", "1", "n"},
		{"signature=&signature=CD&timestamp=1&nonce=n", "CD", "1", "n"},
		{"sig%6Eature=AB&timestamp=1&nonce=a%2Bb+c", "AB", "1", "a+b c"},
		{"signature=%zz&timestamp=1&nonce=n", "", "1", "n"},
		{"", "", "", ""},
		{"&&=&signature", "", "", ""},
	} {
		sig, ts, nonce := queryParams(tt.raw)
		assert.Equal(t, []string{tt.sig, tt.ts, tt.nonce}, []string{sig, ts, nonce}, tt.raw)
	}
}

// No bound silently forgets: a full nonce cache refuses new calls with a
// retryable 000005 rather than forget a nonce still inside its window, so a
// replay of the first call stays refused.
func TestHandlerReplayCacheFullRefusesRatherThanForgets(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(vecTime.UnixMilli())
	f := newFixture(t, Config{ReplayCacheSize: 3, Now: func() time.Time { return time.UnixMilli(now.Load()) }}, nil)
	const body = `{"activity":"updateInstanceStatus","instanceId":"i1","status":"FREEZE"}`
	for i := range 3 {
		require.Equal(t, CodeSuccess, f.post(body, "N"+strconv.Itoa(i), vecTimestamp, nil).ResultCode)
	}
	assert.Equal(t, CodeInternal, f.post(body, "N3", vecTimestamp, nil).ResultCode, "full: refused, retryable")
	assert.Equal(t, CodeAuth, f.post(body, "N0", vecTimestamp, nil).ResultCode, "the first call is still remembered")
	assert.Equal(t, int64(3), f.calls.Load())
	logs := f.logs.String()
	assert.Contains(t, logs, `"level":"ERROR"`)
	assert.Contains(t, logs, "WithReplayCacheSize")

	// Once the first nonces' window has closed, there is room again.
	now.Add((Window + DefaultSkew).Milliseconds() + 1)
	ts := strconv.FormatInt(now.Load(), 10)
	assert.Equal(t, CodeSuccess, f.post(body, "N3", ts, nil).ResultCode)
}

// failingReplay is a shared replay backend that cannot be reached.
type failingReplay struct{}

func (failingReplay) Add(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("dial tcp 10.0.0.9:6379: connect: connection refused")
}

// A replay backend that fails never lets a call through unchecked.
func TestHandlerReplayBackendDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Replay: failingReplay{}}, nil)
	a := f.post(`{"activity":"orderNotify"}`, "N1", vecTimestamp, nil)
	assert.Equal(t, `{"resultCode":"000005","resultMsg":"temporarily unavailable, retry later"}`, a.raw)
	assert.Zero(t, f.calls.Load())
	logs := f.logs.String()
	assert.Contains(t, logs, `"level":"ERROR"`)
	assert.Contains(t, logs, "connection refused")
	assert.Contains(t, logs, "shared backend failed")
}

// Verify is the engine ServeHTTP uses: the same checks and the same replay
// protection, whichever path a delivery takes.
func TestVerifySharesTheEngine(t *testing.T) {
	t.Parallel()
	h := NewHandler(vecKey, Config{Now: func() time.Time { return vecTime }, Logger: slog.New(slog.DiscardHandler)},
		func(context.Context, []byte, *Response) error { return nil })
	k := NewKey(vecKey)
	body := []byte(`{"activity":"orderNotify","orderId":"O1"}`)
	q := url.Values{"signature": {k.SignV2("N1", vecTimestamp, body)}, "timestamp": {vecTimestamp}, "nonce": {"N1"}}.Encode()
	req := &Request{Method: http.MethodPost, RawQuery: q, Body: body}
	got, err := h.Verify(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, string(body), string(got))
	_, err = h.Verify(context.Background(), req)
	code, _ := Result(err)
	assert.Equal(t, CodeAuth, code, "replayed through Verify")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?"+q, bytes.NewReader(body)))
	assert.Contains(t, rec.Body.String(), CodeAuth, "replayed through ServeHTTP")

	for _, bad := range []*Request{
		{Method: http.MethodGet, RawQuery: q, Body: body},
		{Method: http.MethodPost, RawQuery: q, Body: bytes.Repeat([]byte(" "), DefaultMaxBodyV2+1)},
	} {
		_, err := h.Verify(context.Background(), bad)
		code, _ := Result(err)
		assert.Equal(t, CodeInvalid, code)
	}
}
