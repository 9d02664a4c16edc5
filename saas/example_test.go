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

	"github.com/isvkit/koogallery/callback"
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

// Mount the handler, then test it as KooGallery calls it: koogallerytest
// signs calls exactly as KooGallery does, on a clock shared with the handler
// so that the example passes on any date.
func ExampleNewHandler() {
	const accessKey = "test-access-key" // from 卖家中心 › 应用工具 › 密钥管理
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(accessKey, &shop{instances: map[string]time.Time{}},
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/isv/produce"

	kg := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	ctx := context.Background()
	for _, body := range []map[string]string{
		{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-1"},
		{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-2"}, // a retry
		{"activity": "refreshInstance", "instanceId": "inst-CS1-000001", "orderId": "CS2", "orderLineId": "CS2-000001",
			"scene": "RENEWAL", "expireTime": "20271231235959"},
		{"activity": "refreshInstance", "instanceId": "nope", "orderId": "CS3", "orderLineId": "CS3-000001",
			"scene": "RENEWAL", "expireTime": "20271231235959"},
		{"activity": "updateInstanceStatus", "instanceId": "inst-CS1-000001", "status": "FREEZE"},
		{"activity": "updateInstanceStatus", "instanceId": "inst-CS1-000001", "instanceStatus": "FREEZE"}, // V1's name
		{"activity": "upgradeInstance", "instanceId": "inst-CS1-000001", "orderId": "CS4", "orderLineId": "CS4-000001"},
		{"activity": "queryInstance", "instanceId": "inst-CS1-000001"},
	} {
		res, err := kg.Send(ctx, url, body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(body["activity"], string(res.Body))
	}

	// Refused before reaching the Provider: a replayed call, a forged one.
	call, err := kg.Sign(url, map[string]string{"activity": "releaseInstance", "instanceId": "inst-CS1-000001"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, label := range []string{"genuine", "replayed"} {
		res, err := call.Send(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(label, res.ResultCode, res.ResultMsg)
	}
	res, err := kg.Send(ctx, url, map[string]string{"activity": "releaseInstance", "instanceId": "inst-CS1-000001"},
		koogallerytest.ForgedKey("guessed-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("forged", res.ResultCode, res.ResultMsg)
	// Output:
	// newInstance {"resultCode":"000000","resultMsg":"success","instanceId":"inst-CS1-000001"}
	// newInstance {"resultCode":"000000","resultMsg":"success","instanceId":"inst-CS1-000001"}
	// refreshInstance {"resultCode":"000000","resultMsg":"success"}
	// refreshInstance {"resultCode":"000003","resultMsg":"instance not found"}
	// updateInstanceStatus {"resultCode":"000000","resultMsg":"success"}
	// updateInstanceStatus {"resultCode":"000002","resultMsg":"missing status"}
	// upgradeInstance {"resultCode":"000106","resultMsg":"no larger plan left"}
	// queryInstance {"resultCode":"000000","resultMsg":"success","info":[{"instanceId":"inst-CS1-000001","appInfo":{"frontEndUrl":"https://inst-CS1-000001.example.com"}}]}
	// genuine 000000 success
	// replayed 000001 authentication failed
	// forged 000001 authentication failed
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
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	p := &asyncShop{shop: &shop{instances: map[string]time.Time{}}}
	srv := httptest.NewServer(saas.NewHandler("test-access-key", p,
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	kg := koogallerytest.NewSender("test-access-key", koogallerytest.WithClock(clk.Now))
	for i, businessID := range []string{"b-1", "b-2", "b-3"} {
		p.ready = i == 2
		clk.Advance(time.Hour) // KooGallery polls, then re-sends, over hours
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
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	shared := saas.NewMemoryStore(1000) // stand-in: in production a Redis or SQL Store, see Store
	var replicas []*httptest.Server
	for range 2 {
		h := saas.NewHandler("test-access-key", &shop{instances: map[string]time.Time{}},
			callback.WithStore(shared, 90*24*time.Hour), callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler)))
		srv := httptest.NewServer(h)
		defer srv.Close()
		replicas = append(replicas, srv)
	}
	kg := koogallerytest.NewSender("test-access-key", koogallerytest.WithClock(clk.Now))
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

// countingShop counts the instances it provisions, and finds the one it
// already made for an order line, as a Provider backed by a database would.
type countingShop struct {
	*shop
	calls, provisioned int
}

func (s *countingShop) NewInstance(_ context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	id := "inst-" + req.OrderLineID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if _, ok := s.instances[id]; !ok { // look up first: a Store can forget
		s.instances[id] = time.Time{}
		s.provisioned++
	}
	return &saas.NewInstanceResponse{InstanceID: id}, nil
}

// The default Store is NewMemoryStore(DefaultMemoryStoreSize): at most once
// per order line within one process. A restarted process starts empty, so
// NewInstance runs again for a re-sent order line and must find the instance
// it already made.
func ExampleNewMemoryStore() {
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	p := &countingShop{shop: &shop{instances: map[string]time.Time{}}}
	kg := koogallerytest.NewSender("test-access-key", koogallerytest.WithClock(clk.Now))
	body := map[string]string{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b-1"}
	for _, process := range []string{"first process", "after a restart"} {
		srv := httptest.NewServer(saas.NewHandler("test-access-key", p,
			callback.WithStore(saas.NewMemoryStore(saas.DefaultMemoryStoreSize), saas.DefaultKeep),
			callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
		for range 2 { // KooGallery re-sends
			res, err := kg.Send(context.Background(), srv.URL, body)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(process, res.ResultCode, res.InstanceID)
		}
		srv.Close()
	}
	fmt.Println("NewInstance calls:", p.calls, "provisioned:", p.provisioned)
	// Output:
	// first process 000000 inst-CS1-000001
	// first process 000000 inst-CS1-000001
	// after a restart 000000 inst-CS1-000001
	// after a restart 000000 inst-CS1-000001
	// NewInstance calls: 2 provisioned: 1
}
