package koogallery_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
)

// Build a client for the real KooGallery: credentials from the
// environment (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK), the Chinese site,
// retries and logging tuned.
func ExampleNewClient() {
	kg, err := koogallery.NewClient(
		koogallery.WithSite(koogallery.SiteChina),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 3, MinBackoff: 500 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 20 * time.Second}),
		koogallery.WithLogger(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))),
	)
	if err != nil {
		fmt.Println(err) // no credentials in the environment
		return
	}
	_ = kg
}

// Call an open API this SDK does not wrap yet, through the same signed,
// retried and decoded path the service packages use.
func ExampleClient_Do() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	params := struct {
		OrderID string `url:"orderId"`
	}{"MOCKONETIMENEW"}
	req, err := kg.NewRequest(ctx, http.MethodGet, "/api/mkp-openapi-public/global/v1/order/query", params, nil)
	if err != nil {
		log.Fatal(err)
	}
	var out struct {
		OrderInfo struct {
			OrderID   string `json:"orderId"`
			OrderType string `json:"orderType"`
		} `json:"orderInfo"`
	}
	if err := kg.Do(ctx, req, &out); err != nil {
		var apiErr *koogallery.APIError
		if errors.As(err, &apiErr) {
			log.Fatalf("KooGallery said %s (request %s)", apiErr.Code, apiErr.RequestID)
		}
		log.Fatal(err)
	}
	fmt.Println(out.OrderInfo.OrderID, out.OrderInfo.OrderType)
	// Output: MOCKONETIMENEW NEW
}

// Classify failures with errors.Is; unknown result codes are still
// *APIError values.
func ExampleAPIError() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, _ := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}))
	fake.Inject(koogallerytest.Throttled())

	req, _ := kg.NewRequest(context.Background(), http.MethodGet, "/api/mkp-openapi-public/global/v1/order/query",
		struct {
			OrderID string `url:"orderId"`
		}{"MOCKONDEMAND"}, nil)
	err := kg.Do(context.Background(), req, nil)
	var apiErr *koogallery.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, errors.Is(err, koogallery.ErrThrottled))
	}
	// Output: 406 MKT.0250 true
}
