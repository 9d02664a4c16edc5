// Command quickstart runs a seller's whole KooGallery flow on one machine:
//
//	go run ./examples/quickstart
//
// Without credentials it needs no account. It starts the fake marketplace of
// package koogallerytest and a seller server with the SDK's verified
// handlers, then plays KooGallery: a signed orderNotify reaches the
// seller's handler, which queries the order through the open API; a signed
// newInstance provisions an instance; KooGallery's retry of newInstance gets
// the same instance without provisioning twice; a forged call is refused.
//
// Only with -real does it call the real KooGallery, with the credentials in
// HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (the documented mock order IDs
// work there too): having them in the environment is not enough, since
// many Huawei Cloud users keep them in their shell.
//
//	go run ./examples/quickstart -real -order MOCKPERIODYEARNEW
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

// accessKey is the production-interface key KooGallery signs callbacks with
// (卖家中心 › 应用工具 › 密钥管理); the fake marketplace and the seller share it.
const accessKey = "quickstart-access-key"

func main() {
	orderID := flag.String("order", "MOCKPERIODYEARNEW", "order ID to query")
	useReal := flag.Bool("real", false, "query the real KooGallery with "+koogallery.EnvAccessKey+" and "+koogallery.EnvSecretKey+" instead of running the fake flow")
	flag.Parse()
	// The quickstart is one process against a fake marketplace, so its
	// handlers keep their state in memory; it is in the core module, which
	// cannot depend on go-redis or pgx. Say so rather than ignore a shared
	// store the user asked for.
	for _, env := range []string{"KOOGALLERY_REDIS_URL", "KOOGALLERY_DATABASE_URL"} {
		if os.Getenv(env) != "" {
			fmt.Printf("%s is set, but the quickstart keeps its state in memory; examples/seller-server uses it (cd examples/seller-server && go run .).\n", env)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if *useReal {
		if os.Getenv(koogallery.EnvAccessKey) == "" || os.Getenv(koogallery.EnvSecretKey) == "" {
			log.Fatalf("-real needs %s and %s", koogallery.EnvAccessKey, koogallery.EnvSecretKey)
		}
		fmt.Println("Querying the real KooGallery with the credentials in the environment.")
		kg, err := koogallery.NewClient()
		if err != nil {
			log.Fatal(err)
		}
		o, err := order.NewClient(kg).QueryOrder(ctx, *orderID)
		if err != nil {
			log.Fatal(err)
		}
		printOrder(o)
		return
	}

	// 1. The fake KooGallery open API (AK/SK verified like the gateway).
	market := koogallerytest.NewServer()
	defer market.Close()
	kg, err := market.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	orders := order.NewClient(kg)
	fmt.Printf("The fake KooGallery runs at %s (pass -real to query the real one).\n", market.URL)

	// 2. The seller's server: the SDK's handlers verify every callback.
	quiet := slog.New(slog.DiscardHandler)
	provider := &instances{orders: orders, byOrderLine: map[string]string{}}
	mux := http.NewServeMux()
	mux.Handle("/isv/order", order.NewNotificationHandler(accessKey, func(ctx context.Context, n *order.Notification) error {
		fmt.Printf("\n[seller] orderNotify for %s: querying the order\n", n.OrderID)
		o, err := orders.QueryOrder(ctx, n.OrderID, order.WithOrderLineID(n.OrderLineID))
		if err != nil {
			return err
		}
		printOrder(o)
		return nil
	}, callback.WithLogger(quiet)))
	mux.Handle("/isv/produce", saas.NewHandler(accessKey, provider, callback.WithLogger(quiet)))
	seller := httptest.NewServer(mux)
	defer seller.Close()
	fmt.Printf("The seller's production interfaces run at %s.\n", seller.URL)

	// 3. KooGallery calls the seller, signing each call with the access key.
	market2seller := koogallerytest.NewSender(accessKey)
	line := *orderID + "-000001"
	send := func(label, path string, body map[string]string, opts ...koogallerytest.CallOption) *koogallerytest.Answer {
		a, err := market2seller.Send(ctx, seller.URL+path, body, opts...)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("[market] %-36s → %s %s", label, a.ResultCode, a.ResultMsg)
		if a.InstanceID != "" {
			fmt.Printf(" (instance %s)", a.InstanceID)
		}
		fmt.Println()
		return a
	}
	send("orderNotify", "/isv/order", map[string]string{
		"activity": "orderNotify", "orderId": *orderID, "orderLineId": line, "testFlag": "1"})
	fmt.Println()
	first := send("newInstance", "/isv/produce", map[string]string{
		"activity": "newInstance", "orderId": *orderID, "orderLineId": line, "businessId": "biz-first", "testFlag": "1"})
	again := send("newInstance (KooGallery's retry)", "/isv/produce", map[string]string{
		"activity": "newInstance", "orderId": *orderID, "orderLineId": line, "businessId": "biz-retry", "testFlag": "1"})
	send("newInstance signed with a wrong key", "/isv/produce", map[string]string{
		"activity": "newInstance", "orderId": *orderID, "orderLineId": line, "businessId": "biz-forged", "testFlag": "1"},
		koogallerytest.ForgedKey("guessed-key"))

	fmt.Printf("\nProvisioned %d instance(s); the retry got the same instance: %v.\n",
		provider.provisioned(), first.InstanceID != "" && first.InstanceID == again.InstanceID)
}

// instances is a toy saas.Provider: it looks the order line up and
// "provisions" an instance named after the first businessId.
type instances struct {
	orders *order.Client

	mu          sync.Mutex
	byOrderLine map[string]string
}

func (p *instances) NewInstance(ctx context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	o, err := p.orders.QueryOrder(ctx, req.OrderID, order.WithOrderLineID(req.OrderLineID))
	if err != nil {
		return nil, err
	}
	sku := ""
	if len(o.OrderLines) > 0 && len(o.OrderLines[0].ProductInfo) > 0 {
		sku = o.OrderLines[0].ProductInfo[0].SKUCode
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id := "inst-" + req.BusinessID
	p.byOrderLine[req.OrderLineID] = id
	fmt.Printf("[seller] provisioning %s for order line %s, sku %s\n", id, req.OrderLineID, sku)
	return &saas.NewInstanceResponse{InstanceID: id}, nil
}

func (p *instances) provisioned() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byOrderLine)
}

func (p *instances) QueryInstance(_ context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	resp := &saas.QueryInstanceResponse{}
	for _, id := range req.InstanceIDs {
		resp.Info = append(resp.Info, saas.InstanceInfo{InstanceID: id, AppInfo: &saas.AppInfo{FrontEndURL: "https://app.example.com/" + id}})
	}
	return resp, nil
}

func (p *instances) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error { return nil }

func (p *instances) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error {
	return nil
}

func (p *instances) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error { return nil }

func (p *instances) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error { return nil }

func printOrder(o *order.Order) {
	fmt.Printf("  order     %s (%s), created %s\n", o.OrderID, o.OrderType, o.CreateTime.Format(time.RFC3339))
	if b := o.BuyerInfo; b != nil {
		fmt.Printf("  buyer     %s (%s), customer ID %s\n", b.CustomerName, b.CustomerRealName, b.CustomerID)
	}
	for _, l := range o.OrderLines {
		fmt.Printf("  line      %s: %s", l.OrderLineID, l.ChargingMode)
		if l.PeriodType != "" {
			fmt.Printf(", %d %s", l.PeriodNumber, l.PeriodType)
		}
		if !l.ExpireTime.IsZero() {
			fmt.Printf(", expires %s", l.ExpireTime.Format(time.RFC3339))
		}
		fmt.Printf(", amount %s (after discount %s)\n", l.Currency, l.CurrencyAfterDiscount)
		for _, p := range l.ProductInfo {
			fmt.Printf("  product   %s  sku %s  quantity %d  %q\n", p.ProductID, p.SKUCode, p.LinearValue, p.ProductName)
		}
		var params []string
		for _, p := range l.ExtendParams {
			params = append(params, p.Name+"="+p.Value)
		}
		if len(params) > 0 {
			fmt.Printf("  params    %s\n", strings.Join(params, ", "))
		}
	}
}
