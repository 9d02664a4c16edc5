//go:build !race

// The race detector's sync.Pool drops what is put back at random, so
// allocation counts mean something only without it.

package saas_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// The allocations of a verified newInstance (signature, replay cache,
// at-most-once claim and record, answer) are part of the handler's design:
// a regression shows here. 9 (19 before issue 14's work): the replay key,
// one copy of the body for its fields, the record key, the in-process call,
// the operation's lease context and its context.WithoutCancel, the
// provider's request, the record, and the benchmark provider's response.
func TestNewInstanceAllocations(t *testing.T) {
	sender := koogallerytest.NewSender(accessKey)
	const runs = 200
	var queries []string
	var bodies [][]byte
	for range runs + 1 {
		c := signedNewInstance(nil, sender, "http://kg.test/isv/produce")
		u, _ := url.Parse(c.URL)
		queries, bodies = append(queries, u.RawQuery), append(bodies, c.Body)
	}
	h := saas.NewHandler(accessKey, benchProvider{}, callback.WithLogger(slog.New(slog.DiscardHandler)))
	req := httptest.NewRequest(http.MethodPost, "http://kg.test/isv/produce", nil)
	w := &discardWriter{h: http.Header{}}
	r := &bytesReader{}
	body := io.NopCloser(r)
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		req.URL.RawQuery, r.b = queries[i], bodies[i]
		req.Body, req.ContentLength = body, int64(len(bodies[i]))
		i++
		w.n = 0
		h.ServeHTTP(w, req)
		if !strings.HasPrefix(w.first, `{"resultCode":"000000"`) {
			t.Fatalf("answer %q", w.first)
		}
	})
	if allocs > 9 {
		t.Errorf("a verified newInstance allocates %.0f times, want at most 9", allocs)
	}
	t.Logf("%.0f allocations", allocs)
}

// discardWriter is an http.ResponseWriter that keeps only the start of the
// answer, so that the count is the handler's, not a recorder's.
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

// The allocations of a verified V1 newInstance: the parsed query (parsed
// once, by the verifier), the parameters handed to the provider as
// url.Values (one map, one backing array), the replay guard's and the
// record's claims, the answer and its Body-Sign. 22 (50 before: the query
// parsed twice, a slice per parameter, crypto/hmac's state per MAC).
func TestV1NewInstanceAllocations(t *testing.T) {
	sender := koogallerytest.NewV1Sender(accessKey)
	const runs = 200
	var urls []string
	for i := range runs + 1 {
		n := strconv.Itoa(i)
		c, err := sender.Sign("http://kg.test/isv/v1", map[string]string{
			"activity": "newInstance", "businessId": "b-" + n, "orderId": "CS" + n, "customerId": "c-1",
			"productId": "OFFI000000000000000001", "skuCode": "sku-0001", "chargingMode": "1", "periodType": "year",
			"periodNumber": "1", "expireTime": "20271231235959", "testFlag": "0",
		})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, c.URL)
	}
	h := saas.NewV1Handler(accessKey, benchV1Provider{}, callback.WithLogger(slog.New(slog.DiscardHandler)))
	reqs := make([]*http.Request, len(urls))
	for i, u := range urls {
		reqs[i] = httptest.NewRequest(http.MethodGet, u, nil)
	}
	w := &discardWriter{h: http.Header{}}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		w.n = 0
		h.ServeHTTP(w, reqs[i])
		i++
		if !strings.HasPrefix(w.first, `{"resultCode":"000000"`) {
			t.Fatalf("answer %q", w.first)
		}
	})
	if allocs > 22 {
		t.Errorf("a verified V1 newInstance allocates %.0f times, want at most 22", allocs)
	}
	t.Logf("%.0f allocations", allocs)
}
