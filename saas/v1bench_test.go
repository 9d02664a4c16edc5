package saas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// BenchmarkV1Handler measures one verified V1 call through the handler
// (parse, authToken, dispatch, replay guard, answer, Body-Sign), for an
// activity without encryption and for a newInstance whose answer encrypts
// two credentials.
func BenchmarkV1Handler(b *testing.B) {
	for _, activity := range []string{"expireInstance", "newInstance"} {
		b.Run(activity, func(b *testing.B) {
			p := &v1Provider{}
			if activity == "newInstance" {
				p.newInstance = newInstanceWithApp
			}
			h := saas.NewV1Handler(accessKey, p, saas.WithLogger(discard))
			sender := koogallerytest.NewV1Sender(accessKey)
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				id := strconv.Itoa(i)
				c, err := sender.Sign("http://example.test/isv/v1", map[string]string{"activity": activity, "instanceId": "i-" + id,
					"orderId": "CS" + id, "businessId": "b-" + id})
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = httptest.NewRequest(http.MethodGet, c.URL, nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				p.Reqs = p.Reqs[:0]
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, reqs[i])
				if body := rec.Body.String(); body[:22] != `{"resultCode":"000000"` {
					b.Fatal(body)
				}
			}
		})
	}
}

func newInstanceWithApp(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	return &saas.V1NewInstanceResponse{InstanceID: req.BusinessID,
		AppInfo: &saas.AppInfo{FrontEndURL: "https://acme.example.com", UserName: "admin", Password: "initial-password"}}, nil
}
