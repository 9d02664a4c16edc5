package saas_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// benchProvider provisions instantly; the benchmarks measure the protocol.
type benchProvider struct{}

func (benchProvider) NewInstance(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	return &saas.NewInstanceResponse{InstanceID: req.BusinessID}, nil
}

func (benchProvider) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}

func (benchProvider) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error { return nil }

func (benchProvider) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error {
	return nil
}

func (benchProvider) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error { return nil }

func (benchProvider) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error { return nil }

// bare is what a hand-written handler without verification would do: read
// the body and answer the same JSON.
var bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"resultCode":"000000","resultMsg":"success","instanceId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f"}`))
})

var benchOrder atomic.Int64

// signedNewInstance signs a newInstance for a fresh order line, as
// KooGallery sends it: canonical (sorted, compact) JSON.
func signedNewInstance(b testing.TB, sender *koogallerytest.Sender, url string) *koogallerytest.Call {
	n := strconv.FormatInt(benchOrder.Add(1), 10)
	body := `{"activity":"newInstance","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","orderId":"CS` + n +
		`","orderLineId":"CS` + n + `-000001","testFlag":"0"}`
	c, err := sender.Sign(url, body)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchHandlers() []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"handler", saas.NewHandler(accessKey, benchProvider{}, callback.WithLogger(slog.New(slog.DiscardHandler)))},
		{"bare", bare},
	}
}

// BenchmarkRoundTrip is a verified newInstance over HTTP through the SaaS
// handler next to the bare handler, sequential and parallel. The client
// signs each call in both cases.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"seq", "par"} {
		for _, bh := range benchHandlers() {
			b.Run(bh.name+"-"+mode, func(b *testing.B) {
				srv := httptest.NewServer(bh.h)
				defer srv.Close()
				transport := srv.Client().Transport.(*http.Transport)
				transport.MaxIdleConnsPerHost = 64
				sender := koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client()))
				ctx := context.Background()
				send := func() {
					res, err := signedNewInstance(b, sender, srv.URL).Send(ctx)
					if err != nil || res.ResultCode != "000000" {
						b.Fatalf("%v %+v", err, res)
					}
				}
				b.ReportAllocs()
				if mode == "seq" {
					for b.Loop() {
						send()
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						send()
					}
				})
			})
		}
	}
}

// BenchmarkServeHTTP calls the handlers directly, without a network, to
// show the handler's own cost; the client still signs each call.
func BenchmarkServeHTTP(b *testing.B) {
	for _, bh := range benchHandlers() {
		b.Run(bh.name, func(b *testing.B) {
			sender := koogallerytest.NewSender(accessKey)
			b.ReportAllocs()
			for b.Loop() {
				c := signedNewInstance(b, sender, "http://kg.test/isv/produce")
				req := httptest.NewRequest(http.MethodPost, c.URL, nil)
				req.Body = io.NopCloser(newBytesReader(c.Body))
				req.ContentLength = int64(len(c.Body))
				rec := httptest.NewRecorder()
				bh.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

func newBytesReader(b []byte) io.Reader { return &bytesReader{b: b} }

// bytesReader is a minimal io.Reader, so the direct benchmark does not pay
// for bytes.Reader's extra interfaces.
type bytesReader struct{ b []byte }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
