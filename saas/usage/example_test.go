package usage_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// Report an hour of pay-per-use usage. The fake marketplace stands in for
// KooGallery; in production build kg with koogallery.NewClient(
// koogallery.WithCredentials(ak, sk)) and pass the seller key from
// 卖家中心 › 应用工具 › 密钥管理.
func ExampleClient_Push() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	client := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))

	end := time.Now().UTC().Truncate(time.Hour)
	value, err := usage.DecimalFromFloat(12.5) // or usage.ParseDecimal("12.5") from a meter's text
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Push(context.Background(), []usage.Record{{
		InstanceID: "7f141bf1-aec8-4859-8323-fb3a8ad50721",
		MeteringSN: "meter-2024-0001", // unique: KooGallery's idempotency key
		RecordTime: end,
		BeginTime:  end.Add(-time.Hour),
		EndTime:    end,
		UsageValue: value,
	}})
	switch {
	case errors.Is(err, koogallery.ErrAuthentication):
		log.Fatal("check the AK/SK pair and the seller key: ", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(res.Code, len(res.Abnormal), "abnormal")
	fmt.Println(fake.UsageRecords()[0].UsageValue)
	// Output:
	// MKT.0000 0 abnormal
	// 12.5
}

// Push any number of records: they go out in calls of at most 1,000.
func ExampleClient_PushInBatches() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	client := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))

	begin := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	records := make([]usage.Record, 2500)
	for i := range records {
		records[i] = usage.Record{
			InstanceID: "instance-1", MeteringSN: fmt.Sprintf("sn-%04d", i),
			RecordTime: begin.Add(time.Hour), BeginTime: begin, EndTime: begin.Add(time.Hour),
			UsageValue: usage.MustDecimal("0.25"),
		}
	}
	results, err := client.PushInBatches(context.Background(), records)
	for _, r := range results {
		fmt.Printf("records %d-%d: %v\n", r.Offset, r.Offset+r.Count-1, r.Err)
	}
	if err != nil {
		log.Fatal(err) // the failed batches' errors, joined
	}
	// Output:
	// records 0-999: <nil>
	// records 1000-1999: <nil>
	// records 2000-2499: <nil>
}

// The old usage API carries product_id instead of metering_sn and needs no
// seller key.
func ExampleClient_PushLegacy() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	end := time.Now().UTC().Truncate(time.Hour)
	res, err := usage.NewClient(kg).PushLegacy(context.Background(), []usage.Record{{
		InstanceID: "instance-1", ProductID: "OFFI846204237451911168",
		RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end, UsageValue: usage.MustDecimal("3"),
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Code)
	// Output: MKT.0000
}

// Usage values keep their decimal text exactly.
func ExampleParseDecimal() {
	for _, s := range []string{"99", "007.50", "0.12345", "0"} {
		d, err := usage.ParseDecimal(s)
		fmt.Println(d, err)
	}
	// Output:
	// 99 <nil>
	// 7.5 <nil>
	//  usage: value "0.12345" has more than 4 decimals
	//  usage: value "0" is not greater than zero
}
