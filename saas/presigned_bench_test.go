package saas_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// lean is the floor the handler is measured against (issue: performance):
// the verifier a careful engineer writes by hand for the V2 scheme, with
// none of the handler's protections beyond the signature and the window.
// It reads the three query parameters without a map, the body into a
// pooled buffer, reuses pooled HMAC states, checks the timestamp against
// the clock, compares in constant time, decodes with json.Unmarshal and
// writes the answer: no replay cache, no at-most-once, no canonical forms,
// no JSON escaping of the answer, no logging.
func lean(key string) http.HandlerFunc {
	type state struct {
		mac  hash.Hash
		body []byte
		buf  []byte
	}
	pool := sync.Pool{New: func() any {
		return &state{mac: hmac.New(sha256.New, []byte(key)), body: make([]byte, 0, 4096), buf: make([]byte, 0, 256)}
	}}
	return func(w http.ResponseWriter, r *http.Request) {
		var sig, ts, nonce string
		for q := r.URL.RawQuery; q != ""; {
			var kv string
			kv, q, _ = strings.Cut(q, "&")
			switch k, v, _ := strings.Cut(kv, "="); k {
			case "signature":
				sig = v
			case "timestamp":
				ts = v
			case "nonce":
				nonce = v
			}
		}
		st := pool.Get().(*state)
		defer pool.Put(st)
		body := st.body[:0]
		for len(body) < 64<<10 {
			if len(body) == cap(body) {
				body = append(body, 0)[:len(body)]
			}
			n, err := r.Body.Read(body[len(body):cap(body)])
			body = body[:len(body)+n]
			if err != nil {
				break
			}
		}
		st.body = body
		stamp, err := strconv.ParseInt(ts, 10, 64)
		if d := time.Now().UnixMilli() - stamp; err != nil || d > 65_000 || d < -65_000 {
			_, _ = w.Write([]byte(`{"resultCode":"000001","resultMsg":"stale"}`))
			return
		}
		var sum, want [sha256.Size]byte
		var inner [2 * sha256.Size]byte
		if len(sig) != 2*sha256.Size {
			_, _ = w.Write([]byte(`{"resultCode":"000001","resultMsg":"forged"}`))
			return
		}
		b := append(st.buf[:0], sig...)
		if _, err := hex.Decode(want[:], b); err != nil {
			_, _ = w.Write([]byte(`{"resultCode":"000001","resultMsg":"forged"}`))
			return
		}
		st.mac.Reset()
		st.mac.Write(body)
		hex.Encode(inner[:], st.mac.Sum(sum[:0]))
		b = append(append(append(append(b[:0], key...), nonce...), ts...), inner[:]...)
		st.mac.Reset()
		st.mac.Write(b)
		if !hmac.Equal(st.mac.Sum(sum[:0]), want[:]) {
			_, _ = w.Write([]byte(`{"resultCode":"000001","resultMsg":"forged"}`))
			return
		}
		var req struct{ Activity, OrderID, OrderLineID, BusinessID, TestFlag string }
		if json.Unmarshal(body, &req) != nil {
			_, _ = w.Write([]byte(`{"resultCode":"000002","resultMsg":"bad"}`))
			return
		}
		b = append(append(b[:0], `{"resultCode":"000000","resultMsg":"success","instanceId":"`...), req.BusinessID...)
		st.buf = append(b, `"}`...)
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(st.buf)
	}
}

var jsonContentType = []string{"application/json"}

// naive is the verifier most often written by hand: what lean does, with
// url.Values, io.ReadAll and a new HMAC per stage.
func naive(key string) http.HandlerFunc {
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
// (signature, window, replay cache, at-most-once), the lean verifier, the
// naive one and a bare handler, side by side. Each round of presigned calls gets a new
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
		{"naive", func() http.Handler { return naive(accessKey) }},
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
