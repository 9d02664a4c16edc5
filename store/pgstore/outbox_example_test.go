package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
)

// Durable usage metering on PostgreSQL: every replica records and drains
// the one outbox.
func ExampleNewUsageOutbox() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.MigrateUsageOutbox(ctx, pool); err != nil { // safe from every replica at once
		log.Fatal(err)
	}
	kg, err := koogallery.NewClient() // AK/SK from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK
	if err != nil {
		log.Fatal(err)
	}
	client := usage.NewClient(kg, usage.WithSellerKey(os.Getenv("KOOGALLERY_SELLER_KEY")))
	outbox, err := pgstore.NewUsageOutbox(pool)
	if err != nil {
		log.Fatal(err) // a nil pool or a table name PostgreSQL would cut short
	}
	meter, err := usage.NewMeter(client, outbox)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := meter.Run(ctx); err != nil {
			log.Print(err) // usage.ErrStopped: KooGallery refused the credentials
		}
	}()
	// … meter.Record(ctx, records...) wherever usage is measured …
}

// Record usage in the same transaction as the work it measures: if the
// work rolls back, so does the usage.
func ExampleUsageOutbox_AddTx() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	outbox, err := pgstore.NewUsageOutbox(pool)
	if err != nil {
		log.Fatal(err)
	}
	var meter *usage.Meter // usage.NewMeter(client, outbox), as in ExampleNewUsageOutbox
	var records []usage.Record

	entries, err := meter.Prepare(records...) // validated now, not when pushed
	if err != nil {
		log.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE jobs SET state = 'billed' WHERE id = $1", 42); err != nil {
			return err
		}
		return outbox.AddTx(ctx, tx, entries)
	})
	if err != nil {
		log.Fatal(err)
	}
	meter.Wake() // push now rather than at the next poll
}

// List the dead letters, page by page, and requeue those whose cause is
// fixed.
func ExampleUsageOutbox_DeadLetters() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	outbox, err := pgstore.NewUsageOutbox(pool)
	if err != nil {
		log.Fatal(err)
	}
	unfrozen := "7f141bf1-aec8-4859-8323-fb3a8ad50721" // an instance whose records failed while it was frozen
	var fixed []string
	for after := ""; ; {
		page, err := outbox.DeadLetters(ctx, after, 500)
		if err != nil {
			log.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			fmt.Printf("%s %s %s: %s\n", d.Died.Format("2006-01-02 15:04"), d.Record.MeteringSN, d.Code, d.Reason)
			if d.Record.InstanceID == unfrozen {
				fixed = append(fixed, d.Record.MeteringSN)
			}
		}
		after = page[len(page)-1].Record.MeteringSN
	}
	if _, err := outbox.Requeue(ctx, time.Now(), fixed); err != nil {
		log.Fatal(err)
	}
}
