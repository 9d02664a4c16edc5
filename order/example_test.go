package order_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// Query an order after KooGallery's order notification. The fake
// marketplace stands in for KooGallery here; in production build the client
// with koogallery.NewClient(koogallery.WithCredentials(ak, sk)).
func ExampleClient_QueryOrder() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}

	orders := order.NewClient(kg)
	o, err := orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW", order.WithOrderLineID("MOCKPERIODYEARNEW-000001"))
	switch {
	case errors.Is(err, koogallery.ErrAuthentication):
		log.Fatal("check the AK/SK pair and the clock: ", err)
	case err != nil:
		log.Fatal(err)
	}
	line := o.OrderLines[0]
	fmt.Println(o.OrderID, o.OrderType, o.CreateTime.Format("2006-01-02"))
	fmt.Println(line.ChargingMode, line.PeriodNumber, line.PeriodType, "until", line.ExpireTime.Format("2006-01-02"))
	fmt.Println(line.ProductInfo[0].SKUCode, line.ProductInfo[0].LinearValue)
	domain, _ := order.Param(line.ExtendParams, "emailDomainName")
	fmt.Println(o.BuyerInfo.CustomerName, domain)
	// Output:
	// MOCKPERIODYEARNEW NEW 2024-11-21
	// PERIOD 1 year until 2025-11-21
	// 0a4d1578-5295-46a7-92d4-7c803dccc51d 50
	// mock_user_01 test.xxxx.com
}

// Tell an unknown order from other failures.
func ExampleErrOrderNotFound() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "CS-NO-SUCH-ORDER")
	var apiErr *koogallery.APIError
	if errors.Is(err, order.ErrOrderNotFound) && errors.As(err, &apiErr) {
		fmt.Println("no such order:", apiErr.StatusCode, apiErr.Code)
	}
	// Output: no such order: 500 MKT.0100
}
