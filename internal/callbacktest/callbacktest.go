// Package callbacktest holds the test helpers shared by the tests of the
// callback handlers (packages saas, license, order and internal/callback).
package callbacktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/internal/v1sign"
)

// LogBuffer collects log output from concurrent handlers: give it to
// slog.NewJSONHandler.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ResultCode serves req with h, checks the answer's contract (HTTP 200,
// application/json, an ASCII JSON object with a six-digit resultCode and a
// resultMsg) and returns its resultCode.
func ResultCode(t testing.TB, h http.Handler, req *http.Request) string {
	t.Helper()
	code, _ := serve(t, h, req, "")
	return code
}

// SignedResult is ResultCode for the V1 schemes: the answer must also carry
// a Body-Sign over its bytes with key. It returns the resultCode and the
// answer.
func SignedResult(t testing.TB, h http.Handler, req *http.Request, key string) (code string, body []byte) {
	t.Helper()
	return serve(t, h, req, key)
}

func serve(t testing.TB, h http.Handler, req *http.Request, v1key string) (string, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	out := rec.Body.Bytes()
	if v1key != "" {
		require.NoError(t, v1sign.VerifyBodySign(v1key, out, rec.Header().Get("Body-Sign")), "answer %q", out)
	}
	for _, c := range out {
		require.Less(t, c, byte(utf8.RuneSelf), "answer is not ASCII: %q", out)
	}
	var env struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	require.NoError(t, json.Unmarshal(out, &env), "answer is not JSON: %q", out)
	require.Len(t, env.ResultCode, 6)
	require.NotEmpty(t, env.ResultMsg)
	return env.ResultCode, out
}

// Recorder counts and keeps the requests a test provider receives; the
// test providers of the handler packages embed it.
type Recorder struct {
	// Calls counts the requests recorded.
	Calls atomic.Int64

	// Mu guards Reqs.
	Mu   sync.Mutex
	Reqs []any
}

// Record records req.
func (r *Recorder) Record(req any) {
	r.Calls.Add(1)
	r.Mu.Lock()
	defer r.Mu.Unlock()
	r.Reqs = append(r.Reqs, req)
}

// Last returns the last request recorded, or nil.
func (r *Recorder) Last() any {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	if len(r.Reqs) == 0 {
		return nil
	}
	return r.Reqs[len(r.Reqs)-1]
}

// LastAs returns the last request recorded, failing the test unless it is
// a T.
func LastAs[T any](t testing.TB, r *Recorder) T {
	t.Helper()
	return As[T](t, r.Last())
}

// As returns v as a T, failing the test unless it is one.
func As[T any](t testing.TB, v any) T {
	t.Helper()
	got, ok := v.(T)
	require.Truef(t, ok, "got %T, want %T", v, *new(T))
	return got
}
