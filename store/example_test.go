package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/isvkit/koogallery/store"
)

// A claim, its record, and the bound that refuses rather than forgets.
func ExampleNewMemory() {
	ctx := context.Background()
	s := store.NewMemory(2)

	_, claimed, _ := s.Claim(ctx, "newInstance/CS1/CS1-000001", 5*time.Minute)
	fmt.Println("first call claims:", claimed)
	_ = s.Complete(ctx, "newInstance/CS1/CS1-000001", &store.Record{InstanceID: "i-1"}, 30*24*time.Hour)

	rec, claimed, _ := s.Claim(ctx, "newInstance/CS1/CS1-000001", 5*time.Minute)
	fmt.Println("a re-send claims:", claimed, "and reads", rec.InstanceID)

	_, _, _ = s.Claim(ctx, "newInstance/CS2/CS2-000001", 5*time.Minute)
	_, _, err := s.Claim(ctx, "newInstance/CS3/CS3-000001", 5*time.Minute)
	fmt.Println("a third order line:", errors.Is(err, store.ErrFull))
	// Output:
	// first call claims: true
	// a re-send claims: false and reads i-1
	// a third order line: true
}

func ExampleNewMemoryReplayCache() {
	ctx := context.Background()
	c := store.NewMemoryReplayCache(store.DefaultMemoryReplayEntries)
	first, _ := c.Add(ctx, "1764232200000:3f2a9c", 65*time.Second)
	replay, _ := c.Add(ctx, "1764232200000:3f2a9c", 65*time.Second)
	fmt.Println(first, replay)
	// Output: true false
}
