package koogallerytest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// A seller tests its SaaS V1 handler end to end: a genuine call goes
// through; stale, forged and tampered calls are refused with 000001 and
// never reach the seller's code. Every answer's Body-Sign is checked.
func ExampleV1Sender() {
	const key = "test-key"
	var expired []string
	handler := saas.NewV1Handler(key, &expirer{expired: &expired}, callback.WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx := context.Background()
	sender := koogallerytest.NewV1Sender(key)
	params := map[string]string{"activity": "expireInstance", "instanceId": "inst-1", "orderId": "CS1"}
	for _, c := range []struct {
		label string
		opts  []koogallerytest.V1CallOption
	}{
		{"genuine", nil},
		{"stale", []koogallerytest.V1CallOption{koogallerytest.V1Stale()}},
		{"forged", []koogallerytest.V1CallOption{koogallerytest.V1ForgedKey("guessed-key")}},
		{"tampered", []koogallerytest.V1CallOption{koogallerytest.V1Tampered()}},
	} {
		res, err := sender.Send(ctx, srv.URL, params, c.opts...)
		if err != nil { // includes a Body-Sign that does not verify
			fmt.Println(err)
			return
		}
		fmt.Println(c.label, res.ResultCode, res.ResultMsg)
	}
	fmt.Println("expired:", expired)
	// Output:
	// genuine 000000 success
	// stale 000001 authentication failed
	// forged 000001 authentication failed
	// tampered 000001 authentication failed
	// expired: [inst-1]
}

// SignKit signs a joint-operation kit V1 call with the authToken header;
// for this body it reproduces a known-answer vector.
func ExampleV1Sender_SignKit() {
	sender := koogallerytest.NewV1Sender("5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17")
	call, err := sender.SignKit("https://seller.example.com/isv/produce/produceAPI/tenantSync",
		`{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("authToken:", call.Header.Get("authToken"))
	// Output: authToken: pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog=
}
