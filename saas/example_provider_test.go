package saas_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// app is your product: the handler calls it only for genuine, well-formed calls.
type app struct{}

func (app) NewInstance(ctx context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	return &saas.NewInstanceResponse{InstanceID: "inst-" + r.OrderLineID}, nil // find or create it
}
func (app) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}
func (app) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error           { return nil }
func (app) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error { return nil }
func (app) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error           { return nil }
func (app) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error           { return nil }

// The README's first program: a saas.Provider served on /isv/produce. Here an
// httptest server stands in for http.ListenAndServe, and koogallerytest plays
// KooGallery: a newInstance signed as KooGallery signs it, then the same call
// signed with a guessed key, which never reaches the Provider.
func Example_provider() {
	os.Setenv("KOOGALLERY_ACCESS_KEY", "test-access-key") // 卖家中心 › 应用工具 › 密钥管理
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(os.Getenv("KOOGALLERY_ACCESS_KEY"), app{}))
	srv := httptest.NewServer(mux) // the README: log.Fatal(http.ListenAndServe(":8080", mux))
	defer srv.Close()

	market := koogallerytest.NewSender("test-access-key")
	call := map[string]string{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-1"}
	for _, opts := range [][]koogallerytest.CallOption{nil, {koogallerytest.ForgedKey("guessed-key")}} {
		res, err := market.Send(context.Background(), srv.URL+"/isv/produce", call, opts...)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(res.Body))
	}
	// Output:
	// {"resultCode":"000000","resultMsg":"success","instanceId":"inst-CS1-000001"}
	// {"resultCode":"000001","resultMsg":"authentication failed"}
}
