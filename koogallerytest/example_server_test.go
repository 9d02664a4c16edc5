package koogallerytest_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/isvkit/koogallery/saas/kit"
	"log"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// Test code that calls the open API without an account: the fake verifies
// every signature as the gateway does, serves the documented mock orders
// and any you add, and records what it received.
func ExampleServer() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	if err := fake.AddOrder(order.Order{OrderID: "CS-MINE", OrderType: order.TypeRenew}); err != nil {
		log.Fatal(err)
	}
	kg, err := fake.NewClient() // koogallery.WithEndpoint(fake.URL) and the fake's keys
	if err != nil {
		log.Fatal(err)
	}
	orders := order.NewClient(kg)
	for _, id := range []string{"MOCKPERIODYEARNEW", "CS-MINE"} {
		o, err := orders.QueryOrder(context.Background(), id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(o.OrderID, o.OrderType)
	}
	for _, r := range fake.Requests() {
		fmt.Println(r.Method, r.Path, r.Query.Get("orderId"), r.AuthError == nil, r.Status)
	}
	// Output:
	// MOCKPERIODYEARNEW NEW
	// CS-MINE RENEW
	// GET /api/mkp-openapi-public/global/v1/order/query MOCKPERIODYEARNEW true 200
	// GET /api/mkp-openapi-public/global/v1/order/query CS-MINE true 200
}

// Check how your code copes with KooGallery's failures: faults answer the
// next matching requests before the normal handling.
func ExampleServer_Inject() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{
		MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	orders := order.NewClient(kg)

	throttled := koogallerytest.Throttled() // HTTP 406 MKT.0250
	throttled.Times = 2
	fake.Inject(throttled)
	_, err = orders.QueryOrder(context.Background(), "MOCKONDEMAND")
	fmt.Println("after two throttled answers:", err)

	fake.Inject(koogallerytest.Fault{Path: order.QueryPath, Status: 500, Code: "MKT.0100", Message: "Failure of input parameter", Times: 5})
	_, err = orders.QueryOrder(context.Background(), "MOCKONDEMAND")
	fmt.Println("a validation failure is not retried:", errors.Is(err, koogallery.ErrInvalidRequest), len(fake.Requests()))
	fake.ClearFaults()
	// Output:
	// after two throttled answers: <nil>
	// a validation failure is not retried: true 4
}

// Test a joint-operation login without KooGallery: the fake identity
// provider issues single-use codes and expiring tokens.
func ExampleOAuthServer() {
	clk := koogallerytest.NewClock(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	idp := koogallerytest.NewOAuthServer(koogallerytest.WithClock(clk.Now), koogallerytest.WithTokenLifetime(time.Hour))
	defer idp.Close()
	client, err := idp.NewClient() // kit.NewOAuthClient(idp.URL, ...) trusting the fake's certificate
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	code := idp.Login(kit.OAuthUser{UserName: "alice", Tenant: "t-1"}, "https://seller.example.com/callback")
	tok, err := client.Exchange(ctx, code, "https://seller.example.com/callback")
	if err != nil {
		log.Fatal(err)
	}
	user, err := client.UserInfo(ctx, tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserName, user.Tenant)
	_, err = client.Exchange(ctx, code, "https://seller.example.com/callback")
	fmt.Println("code reused:", err != nil)
	clk.Advance(2 * time.Hour)
	_, err = client.UserInfo(ctx, tok.AccessToken)
	fmt.Println("token expired:", err != nil)
	// Output:
	// alice t-1
	// code reused: true
	// token expired: true
}
