// Command quickstart queries a KooGallery order.
//
//	go run ./examples/quickstart
//
// Without credentials it starts the fake marketplace of package
// koogallerytest and queries the documented mock order MOCKPERIODYEARNEW, so
// it runs anywhere. With HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK set it
// queries the real KooGallery (the mock order IDs work there too).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

func main() {
	orderID := flag.String("order", "MOCKPERIODYEARNEW", "order ID to query")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var kg *koogallery.Client
	var err error
	if os.Getenv(koogallery.EnvAccessKey) != "" && os.Getenv(koogallery.EnvSecretKey) != "" {
		fmt.Println("Querying the real KooGallery with the credentials in the environment.")
		kg, err = koogallery.NewClient()
	} else {
		fake := koogallerytest.NewServer()
		defer fake.Close()
		fmt.Printf("No %s/%s set: using the fake KooGallery at %s.\n", koogallery.EnvAccessKey, koogallery.EnvSecretKey, fake.URL)
		kg, err = fake.NewClient()
	}
	if err != nil {
		log.Fatal(err)
	}

	o, err := order.NewClient(kg).QueryOrder(ctx, *orderID)
	if err != nil {
		log.Fatal(err)
	}
	printOrder(o)
}

func printOrder(o *order.Order) {
	fmt.Printf("\nOrder %s (%s), created %s\n", o.OrderID, o.OrderType, o.CreateTime.Format(time.RFC3339))
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
