package usage_test

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log"
	"log/slog"
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

// Record usage durably, then drain the outbox into KooGallery. In
// production the outbox is shared and durable (pgstore.NewUsageOutbox on
// PostgreSQL), Run drains it on every replica, and Record returns once the
// records are committed.
func ExampleMeter() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	client := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))
	meter, err := usage.NewMeter(client, usage.NewMemoryOutbox())
	if err != nil {
		log.Fatal(err)
	}

	end := time.Now().UTC().Truncate(time.Hour)
	err = meter.Record(context.Background(), usage.Record{
		InstanceID: "7f141bf1-aec8-4859-8323-fb3a8ad50721",
		MeteringSN: "meter-2024-0001", // unique: KooGallery's idempotency key
		RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end,
		UsageValue: usage.MustDecimal("12.5"),
	})
	if err != nil {
		log.Fatal(err) // invalid records are refused here, not hours later
	}

	// Drain: Run in the background for the life of the process; Flush on
	// shutdown (here, at once).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := meter.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	c := meter.Counters()
	fmt.Println("recorded", c.Recorded, "pushed", c.Pushed, "in", c.Calls, "call")
	fmt.Println(fake.UsageRecords()[0].MeteringSN)
	// Output:
	// recorded 1 pushed 1 in 1 call
	// meter-2024-0001
}

// Run drains the outbox for the life of the process and stops on an
// authentication failure; on shutdown, Flush sends what is left.
func ExampleMeter_Run() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	client := usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey))
	meter, err := usage.NewMeter(client, usage.NewMemoryOutbox(),
		usage.WithEvents(func(e usage.Event) {
			if e.Kind == usage.EventDeadlineAtRisk {
				log.Printf("%d usage records may miss their billing deadline %v", e.Records, e.Deadline)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- meter.Run(ctx) }()

	begin := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	for i := range 3 {
		err := meter.Record(context.Background(), usage.Record{
			InstanceID: "instance-1", MeteringSN: fmt.Sprintf("instance-1/%s/%d", begin.Format("2006010215"), i),
			RecordTime: begin.Add(time.Hour), BeginTime: begin, EndTime: begin.Add(time.Hour), UsageValue: usage.MustDecimal("2"),
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	// Shutting down: stop Run, then send what is left, within a deadline.
	stop()
	if err := <-done; errors.Is(err, usage.ErrStopped) {
		log.Fatal("KooGallery refused the credentials: ", err)
	}
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := meter.Flush(flushCtx); err != nil {
		log.Print(err) // the rest stays in the outbox for the next process
	}
	st, err := meter.Stats(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending", st.Pending, "sent", st.Sent, "billed", len(fake.UsageRecords()))
	// Output: pending 0 sent 3 billed 3
}

// List the records KooGallery refused or reported abnormal, with why, and
// send them again once the cause is fixed.
func ExampleMeter_Requeue() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	fake.FailUsageRecord("sn-2", "instance is frozen")
	outbox := usage.NewMemoryOutbox()
	meter, err := usage.NewMeter(usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey)), outbox,
		usage.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	begin := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	var records []usage.Record
	for _, sn := range []string{"sn-1", "sn-2", "sn-3"} {
		records = append(records, usage.Record{InstanceID: "instance-1", MeteringSN: sn,
			RecordTime: begin.Add(time.Hour), BeginTime: begin, EndTime: begin.Add(time.Hour), UsageValue: usage.MustDecimal("1")})
	}
	ctx := context.Background()
	if err := meter.Record(ctx, records...); err != nil {
		log.Fatal(err)
	}
	if err := meter.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	dead, err := outbox.DeadLetters(ctx, "", 100) // page on with the last MeteringSN
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range dead {
		fmt.Printf("%s: %s %s\n", d.Record.MeteringSN, d.Reason, d.Raw)
	}

	fake.AcceptUsageRecords("sn-2") // fixed on KooGallery's side
	n, err := meter.Requeue(ctx, "sn-2")
	if err != nil {
		log.Fatal(err)
	}
	if err := meter.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("requeued", n, "billed", len(fake.UsageRecords()))
	// Output:
	// sn-2: abnormal: instance is frozen {"metering_sn":"sn-2","instance_id":"instance-1","error_msg":"instance is frozen"}
	// requeued 1 billed 3
}

// Export the meter's counters and outbox to a metrics system; here expvar,
// served at /debug/vars.
func ExampleMeter_Counters() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	meter, err := usage.NewMeter(usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey)), usage.NewMemoryOutbox())
	if err != nil {
		log.Fatal(err)
	}
	expvar.Publish("koogallery_usage", expvar.Func(func() any {
		st, _ := meter.Stats(context.Background())
		return map[string]any{"counters": meter.Counters(), "pending": st.Pending, "dead": st.Dead, "oldest_pending": st.OldestPending}
	}))
	c := meter.Counters()
	fmt.Println(c.Recorded, c.Pushed, c.DeadLettered, c.AuthStops)
	// Output: 0 0 0 0
}
