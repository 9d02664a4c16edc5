package license_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

// exampleClient returns a licence Client on a fake marketplace that knows
// the test code PL0001, as the seller console's test codes would be.
func exampleClient() (*koogallerytest.Server, *license.Client) {
	fake := koogallerytest.NewServer()
	fake.AddLicenseCode(koogallerytest.LicenseCode{Code: "PL0001", ProductID: "OFFI123", OrderID: "CS123", Amount: 2,
		ExpireTime: time.Date(2027, 7, 26, 12, 16, 46, 0, time.UTC)})
	kg, err := fake.NewClient() // production: koogallery.NewClient(koogallery.WithCredentials(ak, sk))
	if err != nil {
		log.Fatal(err)
	}
	return fake, license.NewClient(kg)
}

// Activate a code once the buyer has received it.
func ExampleClient_Activate() {
	fake, licenses := exampleClient()
	defer fake.Close()
	info, err := licenses.Activate(context.Background(), "PL0001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Status, info.ProductID, info.OrderID, info.Amount, info.ExpireTime.Format("2006-01-02"))

	_, err = licenses.Activate(context.Background(), "PL9999")
	fmt.Println(errors.Is(err, koogallery.ErrNotFound))
	// Output:
	// ALIVE OFFI123 CS123 2 2027-07-26
	// true
}

// Activate several codes at once; each has its own result.
func ExampleClient_ActivateBatch() {
	fake, licenses := exampleClient()
	defer fake.Close()
	res, err := licenses.ActivateBatch(context.Background(), []string{"PL0001", "PL9999"},
		license.WithRealEffectTime(time.Now()))
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range res.Licenses {
		fmt.Println(l.License, l.Status, l.Err())
	}
	// Output:
	// PL0001 ALIVE <nil>
	// PL9999  koogallery: HTTP 200 92020005: license code not exist.
}

// Query a code on the software's first use each day.
func ExampleClient_Heartbeat() {
	fake, licenses := exampleClient()
	defer fake.Close()
	if _, err := licenses.Activate(context.Background(), "PL0001"); err != nil {
		log.Fatal(err)
	}
	info, err := licenses.Heartbeat(context.Background(), "PL0001")
	if err != nil {
		log.Fatal(err)
	}
	if info.Status != license.CodeStatusAlive {
		log.Fatal("stop the software: ", info.Status)
	}
	fmt.Println(info.License, info.Status, "until", info.ExpireTime.Format("2006-01-02"), !info.ActivateTime.IsZero())
	// Output: PL0001 ALIVE until 2027-07-26 true
}

// Query several codes at once.
func ExampleClient_HeartbeatBatch() {
	fake, licenses := exampleClient()
	defer fake.Close()
	res, err := licenses.HeartbeatBatch(context.Background(), []string{"PL0001", "PL9999"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Find("PL0001").Status, errors.Is(res.Find("PL9999").Err(), koogallery.ErrNotFound))
	// Output: ALIVE true
}

// Report the day's use of the software.
func ExampleClient_ReportSoftwareUsage() {
	fake, licenses := exampleClient()
	defer fake.Close()
	if _, err := licenses.Activate(context.Background(), "PL0001"); err != nil {
		log.Fatal(err)
	}
	res, err := licenses.ReportSoftwareUsage(context.Background(), []license.SoftwareUsage{{
		License: "PL0001",
		Entries: []license.UsageEntry{license.ActiveClientID("account1"), license.ActiveClientCount(100)},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Failed), "failed")
	// Output: 0 failed
}
