package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// benchKit answers at once; the benchmarks measure the protocol.
type benchKit struct{}

func (benchKit) TenantSync(context.Context, *kit.TenantSyncRequest) error           { return nil }
func (benchKit) ApplicationSync(context.Context, *kit.ApplicationSyncRequest) error { return nil }
func (benchKit) AuthSync(context.Context, *kit.AuthSyncRequest) error               { return nil }
func (benchKit) SingleOrgSync(context.Context, *kit.SingleOrgSyncRequest) error     { return nil }
func (benchKit) AllOrgSync(context.Context, *kit.AllOrgSyncRequest) error           { return nil }

const successAnswer = `{"resultCode":"000000","resultMsg":"success"}`

// tenantSyncAnswer is the lean verifiers' decoding and answer of a
// tenantSync.
func tenantSyncAnswer(dst, body []byte) ([]byte, error) {
	var req struct {
		InstanceID, OrderID, TenantID, TenantCode, Name, DomainName, TimeStamp string
		Flag, TestFlag                                                         int
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return dst, err
	}
	if req.TenantID == "" {
		return dst, errors.New("missing tenantId")
	}
	return append(dst, successAnswer...), nil
}

// tenantSync is the body of a tenantSync for tenant n, its members sorted
// (the V2 scheme signs the canonical form).
func tenantSync(n string) string {
	return `{"domainName":"https://tenant` + n + `.example.com","flag":1,"instanceId":"inst-` + n + `","name":"Tenant ` + n +
		`","orderId":"CS` + n + `","tenantCode":"code-` + n + `","tenantId":"68cbc86abc2018ab880d92f36422fa0e` + n + `","testFlag":0`
}

// presignTenantSyncs signs a round of tenantSync calls, each for a new
// tenant: V2 with x-sign headers, V1 with an authToken header.
func presignTenantSyncs(v kit.Version) func(*testing.B) []benchtest.Call {
	v2 := koogallerytest.NewSender(accessKey)
	v1 := koogallerytest.NewV1Sender(accessKey)
	return func(b *testing.B) []benchtest.Call {
		return benchtest.Presign(b, func(i int) (benchtest.Call, error) {
			n := strconv.Itoa(i)
			if v == kit.V2 {
				return v2Call(v2.SignKit("http://kg.test/isv/produce/produceAPI/v2/tenantSync", tenantSync(n)+`,"timeStamp":"20261127163000123"}`))
			}
			return v1Call(v1.SignKit("http://kg.test/isv/produce/produceAPI/tenantSync", tenantSync(n)+"}"))
		})
	}
}

// BenchmarkKitPresigned serves a tenantSync, V2 and V1, signed beforehand
// and without a network, through NewHandler (signature, window, replay
// protection, at-most-once of a success, typed decoding; for V1 Body-Sign on
// the answer), a lean hand-written verifier of the scheme and a bare
// handler, side by side; a fresh handler per round of calls (outside the
// timer), so that its caches and store start empty.
func BenchmarkKitPresigned(b *testing.B) {
	for _, version := range []struct {
		name string
		v    kit.Version
		lean http.Handler
	}{
		{"v2", kit.V2, benchtest.LeanKitV2(accessKey, tenantSyncAnswer)},
		{"v1", kit.V1, benchtest.LeanV1Kit(accessKey, tenantSyncAnswer)},
	} {
		b.Run(version.name, func(b *testing.B) {
			benchtest.Compare(b, presignTenantSyncs(version.v),
				benchtest.Variant{Name: "handler", Handler: func() http.Handler {
					return kit.NewHandler(accessKey, benchKit{}, callback.WithLogger(discard))
				}},
				benchtest.Variant{Name: "lean", Handler: func() http.Handler { return version.lean }},
				benchtest.Variant{Name: "bare", Handler: func() http.Handler { return benchtest.Bare(successAnswer) }},
			)
		})
	}
}

// v2Call is the benchtest.Call of a koogallerytest V2 or kit V2 call, or err.
func v2Call(c *koogallerytest.Call, err error) (benchtest.Call, error) {
	if err != nil {
		return benchtest.Call{}, err
	}
	return benchtest.Call{Method: http.MethodPost, URL: c.URL, Header: c.Header, Body: c.Body}, nil
}

// v1Call is the benchtest.Call of a koogallerytest V1 or kit V1 call, or err.
func v1Call(c *koogallerytest.V1Call, err error) (benchtest.Call, error) {
	if err != nil {
		return benchtest.Call{}, err
	}
	return benchtest.Call{Method: c.Method, URL: c.URL, Header: c.Header, Body: c.Body}, nil
}
