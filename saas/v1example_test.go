package saas_test

import (
	"context"
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

// v1Shop is a seller's V1Provider for a periodic product.
type v1Shop struct {
	mu        sync.Mutex
	instances map[string]string // instance ID → state
}

func (s *v1Shop) NewInstance(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	// req carries the buyer and product; MobilePhone and Email arrive
	// decrypted. The handler calls this once per order.
	fmt.Println("  buyer", req.CustomerID, "phone", req.MobilePhone)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := "inst-" + req.OrderID
	s.instances[id] = "running"
	return &saas.V1NewInstanceResponse{InstanceID: id, AppInfo: s.appInfo(id)}, nil
}

// appInfo is how the buyer reaches an instance; the handler encrypts the
// user name and password.
func (s *v1Shop) appInfo(id string) *saas.AppInfo {
	return &saas.AppInfo{FrontEndURL: "https://" + id + ".example.com", UserName: "admin", Password: "change-me-" + id}
}

func (s *v1Shop) QueryInstance(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	var out saas.QueryInstanceResponse
	for _, id := range req.InstanceIDs {
		out.Info = append(out.Info, saas.InstanceInfo{InstanceID: id, AppInfo: s.appInfo(id)})
	}
	return &out, nil
}

func (s *v1Shop) RefreshInstance(context.Context, *saas.V1RefreshInstanceRequest) error { return nil }

func (s *v1Shop) ExpireInstance(_ context.Context, req *saas.V1ExpireInstanceRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.instances[req.InstanceID]; !ok {
		return saas.ErrInstanceNotFound
	}
	s.instances[req.InstanceID] = "frozen"
	return nil
}

func (s *v1Shop) ReleaseInstance(_ context.Context, req *saas.V1ReleaseInstanceRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.instances, req.InstanceID) // already gone is fine
	return nil
}

func (s *v1Shop) Upgrade(context.Context, *saas.V1UpgradeRequest) error {
	return saas.NewResultError(saas.CodeSoldOut, "no larger plan left")
}

func (s *v1Shop) InstanceStatus(context.Context, *saas.V1InstanceStatusRequest) error { return nil }

// Mount the V1 handler, then test it as KooGallery calls it: koogallerytest
// signs V1 calls exactly as KooGallery does, on a clock shared with the
// handler, checks each answer's Body-Sign and decrypts its credentials.
func ExampleNewV1Handler() {
	const key = "test-key" // the Key of 卖家中心 › 服务商管理 › 服务商信息
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	mux := http.NewServeMux()
	mux.Handle("/isv/v1", saas.NewV1Handler(key, &v1Shop{instances: map[string]string{}},
		saas.WithEncryptType(saas.AES256), callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/isv/v1"

	// KooGallery sends mobilePhone and email encrypted; the Provider gets them
	// decrypted.
	phone, err := saas.EncryptField(key, "13800138000", saas.AES256)
	if err != nil {
		fmt.Println(err)
		return
	}
	kg := koogallerytest.NewV1Sender(key, koogallerytest.WithClock(clk.Now))
	ctx := context.Background()
	for _, params := range []map[string]string{
		{"activity": "newInstance", "orderId": "CS1", "businessId": "b-1", "customerId": "c-1", "chargingMode": "1", "mobilePhone": phone},
		{"activity": "newInstance", "orderId": "CS1", "businessId": "b-2", "customerId": "c-1", "chargingMode": "1", "mobilePhone": phone}, // re-sent
		{"activity": "expireInstance", "orderId": "CS1", "instanceId": "inst-CS1"},
		{"activity": "instanceStatus", "instanceId": "inst-CS1", "instanceStatus": "NORMAL"},
		{"activity": "upgrade", "orderId": "UP1", "instanceId": "inst-CS1"},
		{"activity": "releaseInstance", "orderId": "CS1", "instanceId": "inst-gone"},
	} {
		res, err := kg.Send(ctx, url, params)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(params["activity"], res.ResultCode, res.ResultMsg)
		if res.AppInfo != nil {
			fmt.Println("  instance", res.InstanceID)
			fmt.Println("  encryptType", res.EncryptType, "user", res.AppInfo.UserName, "password", res.AppInfo.Password)
		}
	}

	// Refused before reaching the Provider: a forged call, a stale one.
	release := map[string]string{"activity": "releaseInstance", "instanceId": "inst-CS1"}
	res, err := kg.Send(ctx, url, release, koogallerytest.V1ForgedKey("guessed-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("forged:", res.ResultCode, res.ResultMsg)
	res, err = kg.Send(ctx, url, release, koogallerytest.V1At(clk.Now().Add(-48*time.Hour)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("two days old:", res.ResultCode, res.ResultMsg)
	// Output:
	//   buyer c-1 phone 13800138000
	// newInstance 000000 success
	//   instance inst-CS1
	//   encryptType 1 user admin password change-me-inst-CS1
	// newInstance 000000 success
	//   instance inst-CS1
	//   encryptType 1 user admin password change-me-inst-CS1
	// expireInstance 000000 success
	// instanceStatus 000000 success
	// upgrade 000106 no larger plan left
	// releaseInstance 000000 success
	// forged: 000001 authentication failed
	// two days old: 000001 authentication failed
}

// A seller answering V1 calls by hand encrypts the admin credentials with
// the Key; KooGallery decrypts them with the same Key.
func ExampleEncryptField() {
	const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	field, err := saas.EncryptField(key, "Admin@KooGallery", saas.AES128)
	if err != nil {
		fmt.Println(err)
		return
	}
	// 16 random IV characters, then the Base64 of the ciphertext.
	fmt.Println(len(field), len(field) <= 128)
	plain, _ := saas.DecryptField(key, field, saas.AES128)
	fmt.Println(plain)
	// Output:
	// 60 true
	// Admin@KooGallery
}

// The mobilePhone of a V1 newInstance, decrypted by hand.
func ExampleDecryptField() {
	const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	phone, err := saas.DecryptField(key, "A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w==", saas.AES256)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(phone)
	// Output: 13800138000
}
