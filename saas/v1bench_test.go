package saas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
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
			h := saas.NewV1Handler(accessKey, p, callback.WithLogger(discard))
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

// benchV1Provider provisions instantly and records nothing; the benchmarks
// measure the protocol.
type benchV1Provider struct{}

func (benchV1Provider) NewInstance(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	return &saas.V1NewInstanceResponse{InstanceID: req.BusinessID}, nil
}

func (benchV1Provider) RefreshInstance(context.Context, *saas.V1RefreshInstanceRequest) error {
	return nil
}
func (benchV1Provider) ExpireInstance(context.Context, *saas.V1ExpireInstanceRequest) error {
	return nil
}
func (benchV1Provider) ReleaseInstance(context.Context, *saas.V1ReleaseInstanceRequest) error {
	return nil
}
func (benchV1Provider) Upgrade(context.Context, *saas.V1UpgradeRequest) error { return nil }
func (benchV1Provider) InstanceStatus(context.Context, *saas.V1InstanceStatusRequest) error {
	return nil
}
func (benchV1Provider) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}

// v1NewInstanceAnswer is the lean verifier's answer to a V1 newInstance.
func v1NewInstanceAnswer(dst []byte, get func(string) string) []byte {
	dst = append(append(dst, `{"resultCode":"000000","resultMsg":"success","instanceId":"`...), get("businessId")...)
	return append(dst, `"}`...)
}

// presignV1NewInstances signs a round of V1 newInstance calls (GET, every
// parameter of a periodic purchase), each for a new order.
func presignV1NewInstances(b *testing.B) []benchtest.Call {
	sender := koogallerytest.NewV1Sender(accessKey)
	return benchtest.Presign(b, func(int) (benchtest.Call, error) {
		n := strconv.FormatInt(benchOrder.Add(1), 10)
		return v1Call(sender.Sign("http://kg.test/isv/v1", map[string]string{
			"activity": "newInstance", "businessId": "2b7c1f0e-3a54-4d6e-9f12-" + n, "orderId": "CS" + n,
			"customerId": "68cbc86abc2018ab880d92f36422fa0e", "customerName": "buyer", "productId": "OFFI000000000000000001",
			"skuCode": "sku-0001", "chargingMode": "1", "periodType": "year", "periodNumber": "1",
			"expireTime": "20271231235959", "orderAmount": "100.000", "testFlag": "0",
		}))
	})
}

// BenchmarkV1Presigned serves a V1 newInstance for a new order, signed
// beforehand and without a network, through NewV1Handler (authToken,
// window, replay guard, at-most-once, Body-Sign), a lean hand-written V1
// verifier (authToken and window, Body-Sign on the answer) and a bare
// handler, side by side; a fresh handler per round of calls, as in
// BenchmarkNewInstancePresigned.
func BenchmarkV1Presigned(b *testing.B) {
	benchtest.Compare(b, presignV1NewInstances,
		benchtest.Variant{Name: "handler", Handler: func() http.Handler {
			return saas.NewV1Handler(accessKey, benchV1Provider{}, callback.WithLogger(discard))
		}},
		benchtest.Variant{Name: "lean", Handler: func() http.Handler { return benchtest.LeanV1Query(accessKey, v1NewInstanceAnswer) }},
		benchtest.Variant{Name: "bare", Handler: func() http.Handler { return bare }},
	)
}

// v1Call is the benchtest.Call of a koogallerytest V1 or kit V1 call, or err.
func v1Call(c *koogallerytest.V1Call, err error) (benchtest.Call, error) {
	if err != nil {
		return benchtest.Call{}, err
	}
	return benchtest.Call{Method: c.Method, URL: c.URL, Header: c.Header, Body: c.Body}, nil
}
