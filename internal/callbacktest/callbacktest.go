// Package callbacktest holds the test helpers shared by the tests of the
// callback handlers (packages saas, license, order and internal/callback).
package callbacktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
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
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	out := rec.Body.Bytes()
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
	return env.ResultCode
}
