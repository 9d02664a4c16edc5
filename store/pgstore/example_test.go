package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/isvkit/koogallery/store/pgstore"
)

func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil { // safe from every replica at once
		log.Fatal(err)
	}
	s, err := pgstore.New(pool)
	if err != nil {
		log.Fatal(err) // a nil pool or an invalid option
	}
	_ = s // callback.WithStore(s, saas.DefaultKeep), callback.WithReplayCache(s)
}

// Expired rows deleted on a schedule instead of by the writes themselves.
func ExampleStore_Cleanup() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	s, err := pgstore.New(pool, pgstore.WithCleanup(0, 0))
	if err != nil {
		log.Fatal(err)
	}
	for range time.Tick(time.Minute) {
		if _, err := s.Cleanup(ctx, 10_000); err != nil {
			log.Print(err)
		}
	}
}

// New refuses an invalid option with an error, sending nothing (the pool
// connects lazily: no server is needed here).
func ExampleNew_invalidOption() {
	pool, err := pgxpool.New(context.Background(), "postgres://app@db.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	_, err = pgstore.New(pool, pgstore.WithCleanup(256, 0))
	fmt.Println(err)
	// Output: pgstore: new: WithCleanup(256, 0): the limit is not positive; want a limit ≥ 1 (rows deleted per cleanup), or every < 1 to turn the store's own cleanup off
}
