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
	"strings"
	"testing"

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
	h := saas.NewHandler(accessKey, benchProvider{}, saas.WithLogger(slog.New(slog.DiscardHandler)))
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
