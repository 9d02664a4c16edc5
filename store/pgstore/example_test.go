package pgstore_test

import (
	"context"
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
	s := pgstore.New(pool)
	_ = s // saas.WithStore(s, saas.DefaultKeep), saas.WithReplayCache(s)
}

// Expired rows deleted on a schedule instead of by the writes themselves.
func ExampleStore_Cleanup() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("KOOGALLERY_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	s := pgstore.New(pool, pgstore.WithCleanup(0, 0))
	for range time.Tick(time.Minute) {
		if _, err := s.Cleanup(ctx, 10_000); err != nil {
			log.Print(err)
		}
	}
}
