package saas_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// lean is the floor the handler is measured against (issue: performance):
// a hand-written verifier of the V2 scheme with none of the handler's
// protections beyond the signature and the window: two-stage HMAC over the
// raw body, the timestamp, json.Unmarshal, the answer. No replay cache, no
// at-most-once, no canonical forms.
func lean(key string) http.HandlerFunc {
	k := []byte(key)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		ts, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if d := time.Now().UnixMilli() - ts; d > 65_000 || d < -65_000 {
			http.Error(w, "stale", http.StatusOK)
			return
		}
		m := hmac.New(sha256.New, k)
		m.Write(body)
		inner := hex.EncodeToString(m.Sum(nil))
		m = hmac.New(sha256.New, k)
		m.Write([]byte(key + q.Get("nonce") + q.Get("timestamp") + inner))
		want, _ := hex.DecodeString(q.Get("signature"))
		if !hmac.Equal(m.Sum(nil), want) {
			http.Error(w, "forged", http.StatusOK)
			return
		}
		var req struct{ Activity, OrderID, OrderLineID, BusinessID, TestFlag string }
		if json.Unmarshal(body, &req) != nil {
			http.Error(w, "bad", http.StatusOK)
			return
		}
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write([]byte(`{"resultCode":"000000","resultMsg":"success","instanceId":"` + req.BusinessID + `"}`))
	}
}

// BenchmarkNewInstancePresigned serves a V2 newInstance for a new order
// line, signed beforehand and without a network, through the SaaS handler
// (signature, window, replay cache, at-most-once), the lean verifier and a
// bare handler, side by side. Each round of presigned calls gets a new
// handler (outside the timer), so that its replay cache and store start
// empty and never refuse.
//
//	go test ./saas -run XXX -bench NewInstancePresigned -benchmem -count 10 | benchstat -col /variant -
func BenchmarkNewInstancePresigned(b *testing.B) {
	const round = 4096
	sender := koogallerytest.NewSender(accessKey)
	type call struct {
		rawQuery string
		body     []byte
	}
	calls := make([]call, round)
	for i := range calls {
		c := signedNewInstance(b, sender, "http://kg.test/isv/produce")
		u, _ := url.Parse(c.URL)
		calls[i] = call{u.RawQuery, c.Body}
	}
	for _, v := range []struct {
		name string
		h    func() http.Handler
	}{
		{"handler", func() http.Handler {
			return saas.NewHandler(accessKey, benchProvider{}, saas.WithLogger(slog.New(slog.DiscardHandler)))
		}},
		{"lean", func() http.Handler { return lean(accessKey) }},
		{"bare", func() http.Handler { return bare }},
	} {
		b.Run("variant="+v.name, func(b *testing.B) {
			h := v.h()
			req := httptest.NewRequest(http.MethodPost, "http://kg.test/isv/produce", nil)
			rec := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == round {
					b.StopTimer()
					h, i = v.h(), 0
					b.StartTimer()
				}
				c := &calls[i]
				i++
				req.URL.RawQuery = c.rawQuery
				r := &bytesReader{b: c.body}
				req.Body = io.NopCloser(r)
				req.ContentLength = int64(len(c.body))
				rec.n = 0
				h.ServeHTTP(rec, req)
				if rec.n == 0 || !strings.HasPrefix(rec.first, `{"resultCode":"000000"`) {
					b.Fatalf("answer %q", rec.first)
				}
			}
		})
	}
}

// discardWriter is an http.ResponseWriter that keeps only the start of the
// answer, so that the benchmark measures the handlers, not a recorder.
type discardWriter struct {
	h     http.Header
	n     int
	first string
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.n == 0 && len(w.first) < 22 {
		w.first = string(p[:min(len(p), 22)])
	}
	w.n += len(p)
	return len(p), nil
}
