package license_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

// benchProvider answers at once; the benchmarks measure the protocol.
type benchProvider struct{}

func (benchProvider) RefreshLicenseCode(context.Context, *license.RefreshLicenseCodeRequest) error {
	return nil
}

func (benchProvider) UpdateLicenseCodeStatus(context.Context, *license.UpdateLicenseCodeStatusRequest) error {
	return nil
}

func (benchProvider) ReleaseLicenseCode(context.Context, *license.ReleaseLicenseCodeRequest) error {
	return nil
}

const successAnswer = `{"resultCode":"000000","resultMsg":"success"}`

// refreshAnswer is the lean verifier's decoding and answer of a
// refreshLicenseCode.
func refreshAnswer(dst, body []byte) ([]byte, error) {
	var req struct{ Activity, ExpireTime, License, OrderID, OrderLineID, ProductID, Scene, TestFlag string }
	if err := json.Unmarshal(body, &req); err != nil {
		return dst, err
	}
	if req.License == "" {
		return dst, errors.New("missing license")
	}
	return append(dst, successAnswer...), nil
}

// presignRefreshes signs a round of refreshLicenseCode calls (the renewal
// of a licence code, KooGallery's canonical JSON), each for a new order.
func presignRefreshes(b *testing.B) []benchtest.Call {
	sender := koogallerytest.NewSender(accessKey)
	return benchtest.Presign(b, func(i int) (benchtest.Call, error) {
		n := strconv.Itoa(i)
		body := `{"activity":"refreshLicenseCode","expireTime":"20271231235959","license":"LIC-0001-` + n +
			`","orderId":"CS` + n + `","orderLineId":"CS` + n + `-000001","productId":"OFFI000000000000000001","scene":"RENEWAL","testFlag":"0"}`
		return v2Call(sender.Sign("http://kg.test/isv/license", body))
	})
}

// BenchmarkLicensePresigned serves a refreshLicenseCode, signed beforehand
// and without a network, through NewHandler (signature, window, replay
// cache, decoding), a lean hand-written V2 verifier and a bare handler,
// side by side; a fresh handler per round of calls (outside the timer), so
// that its replay cache starts empty.
func BenchmarkLicensePresigned(b *testing.B) {
	benchtest.Compare(b, presignRefreshes,
		benchtest.Variant{Name: "handler", Handler: func() http.Handler {
			return license.NewHandler(accessKey, benchProvider{}, callback.WithLogger(slog.New(slog.DiscardHandler)))
		}},
		benchtest.Variant{Name: "lean", Handler: func() http.Handler { return benchtest.LeanV2(accessKey, refreshAnswer) }},
		benchtest.Variant{Name: "bare", Handler: func() http.Handler { return benchtest.Bare(successAnswer) }},
	)
}

// v2Call is the benchtest.Call of a koogallerytest V2 or kit V2 call, or err.
func v2Call(c *koogallerytest.Call, err error) (benchtest.Call, error) {
	if err != nil {
		return benchtest.Call{}, err
	}
	return benchtest.Call{Method: http.MethodPost, URL: c.URL, Header: c.Header, Body: c.Body}, nil
}
