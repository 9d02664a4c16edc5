package saas_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// shop is a seller's Provider: it keeps instances in a map.
type shop struct {
	mu        sync.Mutex
	instances map[string]time.Time // instance ID → expiry
}

func (s *shop) NewInstance(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	// Fetch what was bought with order.Client.QueryOrder(ctx, req.OrderID), then
	// provision. The handler calls this once per order line.
	s.mu.Lock()
	defer s.mu.Unlock()
	id := "inst-" + req.OrderLineID
	s.instances[id] = time.Time{}
	return &saas.NewInstanceResponse{InstanceID: id}, nil
}

func (s *shop) QueryInstance(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	var out saas.QueryInstanceResponse
	for _, id := range req.InstanceIDs {
		out.Info = append(out.Info, saas.InstanceInfo{
			InstanceID: id,
			AppInfo:    &saas.AppInfo{FrontEndURL: "https://" + id + ".example.com"},
		})
	}
	return &out, nil
}

func (s *shop) RefreshInstance(_ context.Context, req *saas.RefreshInstanceRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.instances[req.InstanceID]; !ok {
		return saas.ErrInstanceNotFound
	}
	s.instances[req.InstanceID] = req.ExpireTime
	return nil
}

func (s *shop) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error {
	return nil
}

func (s *shop) ReleaseInstance(_ context.Context, req *saas.ReleaseInstanceRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.instances, req.InstanceID) // already gone is fine
	return nil
}

func (s *shop) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error {
	return saas.NewResultError(saas.CodeSoldOut, "no larger plan left")
}

func ExampleNewHandler() {
	const accessKey = "test-access-key" // from 卖家中心 › 应用工具 › 密钥管理
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(accessKey, &shop{instances: map[string]time.Time{}},
		saas.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// In tests, koogallerytest signs calls exactly as KooGallery does.
	kg := koogallerytest.NewSender(accessKey)
	ctx := context.Background()
	for _, body := range []map[string]string{
		{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-1"},
		{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-2"}, // a retry
		{"activity": "refreshInstance", "instanceId": "inst-CS1-000001", "orderId": "CS2", "orderLineId": "CS2-000001",
			"scene": "RENEWAL", "expireTime": "20271231235959"},
		{"activity": "refreshInstance", "instanceId": "nope", "orderId": "CS3", "orderLineId": "CS3-000001",
			"scene": "RENEWAL", "expireTime": "20271231235959"},
		{"activity": "upgradeInstance", "instanceId": "inst-CS1-000001", "orderId": "CS4", "orderLineId": "CS4-000001"},
		{"activity": "queryInstance", "instanceId": "inst-CS1-000001"},
	} {
		res, err := kg.Send(ctx, srv.URL+"/isv/produce", body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(body["activity"], string(res.Body))
	}
	// Output:
	// newInstance {"resultCode":"000000","resultMsg":"success","instanceId":"inst-CS1-000001"}
	// newInstance {"resultCode":"000000","resultMsg":"success","instanceId":"inst-CS1-000001"}
	// refreshInstance {"resultCode":"000000","resultMsg":"success"}
	// refreshInstance {"resultCode":"000003","resultMsg":"instance not found"}
	// upgradeInstance {"resultCode":"000106","resultMsg":"no larger plan left"}
	// queryInstance {"resultCode":"000000","resultMsg":"success","info":[{"instanceId":"inst-CS1-000001","appInfo":{"frontEndUrl":"https://inst-CS1-000001.example.com"}}]}
}

// asyncShop provisions in the background.
type asyncShop struct {
	*shop
	ready bool // set when background provisioning finished
}

func (s *asyncShop) NewInstance(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	if req.PendingInstanceID != "" {
		// Started earlier: report progress, do not provision again.
		return &saas.NewInstanceResponse{InstanceID: req.PendingInstanceID, Pending: !s.ready}, nil
	}
	// Start provisioning in the background, then answer at once.
	return &saas.NewInstanceResponse{InstanceID: "inst-" + req.BusinessID, Pending: true}, nil
}

// Provisioning that takes longer than KooGallery's 5 s answers Pending
// (000004); KooGallery then polls queryInstance. When newInstance comes again
// for the same order line, the Provider is asked about the pending instance
// instead of provisioning a second one.
func ExampleNewInstanceResponse_pending() {
	p := &asyncShop{shop: &shop{instances: map[string]time.Time{}}}
	srv := httptest.NewServer(saas.NewHandler("test-access-key", p, saas.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	kg := koogallerytest.NewSender("test-access-key")
	for i, businessID := range []string{"b-1", "b-2", "b-3"} {
		p.ready = i == 2
		res, err := kg.Send(context.Background(), srv.URL, map[string]string{
			"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": businessID})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.ResultCode, res.InstanceID)
	}
	// Output:
	// 000004 inst-b-1
	// 000004 inst-b-1
	// 000000 inst-b-1
}

// Provider errors choose the result code: sentinels, NewResultError for the
// business codes, and 000005 for anything else, whose text stays in the logs.
func ExampleNewResultError() {
	for _, err := range []error{
		saas.NewResultError(saas.CodeNoResource, "region full"),
		fmt.Errorf("freeze %s: %w", "inst-1", saas.ErrInstanceNotFound),
		errors.New("dial tcp 10.0.0.7:5432: connection refused"),
	} {
		var re *saas.ResultError
		if errors.As(err, &re) {
			fmt.Println(re.Code, re.Message)
		} else {
			fmt.Println("000005 internal error")
		}
	}
	// Output:
	// 000100 region full
	// 000003 instance not found
	// 000005 internal error
}

// A seller running several replicas gives them one shared Store, so that a
// newInstance retried on another replica is not provisioned twice.
func ExampleWithStore() {
	shared := saas.NewMemoryStore(1000) // stand-in: in production a Redis or SQL Store, see Store
	var replicas []*httptest.Server
	for range 2 {
		h := saas.NewHandler("test-access-key", &shop{instances: map[string]time.Time{}},
			saas.WithStore(shared, 90*24*time.Hour), saas.WithLogger(slog.New(slog.DiscardHandler)))
		srv := httptest.NewServer(h)
		defer srv.Close()
		replicas = append(replicas, srv)
	}
	kg := koogallerytest.NewSender("test-access-key")
	for i, srv := range replicas {
		res, err := kg.Send(context.Background(), srv.URL, map[string]string{
			"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": fmt.Sprint("b-", i)})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("replica", i, res.ResultCode, res.InstanceID)
	}
	// Output:
	// replica 0 000000 inst-CS1-000001
	// replica 1 000000 inst-CS1-000001
}
