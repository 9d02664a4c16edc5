//go:build !race

// The race detector's sync.Pool drops what is put back at random, so
// allocation counts mean something only without it.

package kit_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// The allocations of a verified kit V2 tenantSync: the replay key, the
// typed request and the fields decoded for it, the done guard's key (its
// canonical form hashed from pooled state) and claim. 30 (48 before the
// canonical form was streamed into a pooled hash).
func TestKitV2TenantSyncAllocations(t *testing.T) {
	sender := koogallerytest.NewSender(accessKey)
	const runs = 200
	reqs := make([]*http.Request, runs+1)
	bodies := make([][]byte, runs+1)
	for i := range reqs {
		n := strconv.Itoa(i)
		c, err := sender.SignKit("http://kg.test/isv/produce/produceAPI/v2/tenantSync", tenantSync(n)+`,"timeStamp":"20261127163000123"}`)
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = httptest.NewRequest(http.MethodPost, c.URL, nil)
		reqs[i].Header = c.Header
		bodies[i] = c.Body
	}
	h := kit.NewHandler(accessKey, benchKit{}, callback.WithLogger(slog.New(slog.DiscardHandler)))
	rec := httptest.NewRecorder()
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		r := reqs[i]
		r.Body = io.NopCloser(bytes.NewReader(bodies[i]))
		i++
		rec.Body.Reset()
		h.ServeHTTP(rec, r)
		if !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"resultCode":"000000"`)) {
			t.Fatalf("answer %s", rec.Body)
		}
	})
	// Two of them are the test's own: the body reader and its closer.
	if allocs > 32 {
		t.Errorf("a verified kit V2 tenantSync allocates %.0f times, want at most 32", allocs)
	}
	t.Logf("%.0f allocations", allocs)
}
