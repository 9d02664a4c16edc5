package koogallery_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
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

// Sign any API Gateway request with the client's credentials, retries and
// bounds, and map its answer like Do does.
func ExampleClient_HTTPClient() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	resp, err := kg.HTTPClient().Get(fake.URL + "/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKONDEMAND")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if err := koogallery.CheckResponse(resp); err != nil {
		log.Fatal(err) // an *APIError, classified with errors.Is
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output: 200 application/json;charset=UTF-8
}

// Build a request: the query struct is encoded in canonical form, so the
// bytes on the wire are the bytes signed.
func ExampleClient_NewRequest() {
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"))
	if err != nil {
		log.Fatal(err)
	}
	params := struct {
		OrderID     string `url:"orderId"`
		OrderLineID string `url:"orderLineId,omitempty"`
	}{OrderID: "CS 1+2"}
	req, err := kg.NewRequest(context.Background(), http.MethodGet, "/api/mkp-openapi-public/global/v1/order/query", params, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL)

	// A POST whose body carries its own idempotency key may be retried
	// after any failure; mark it.
	req, err = kg.NewRequest(context.Background(), http.MethodPost, "/api/mkp-openapi-public/global/v1/isv/usage-data", nil,
		map[string]any{"usage_records": []any{}}, koogallery.Idempotent())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL.Path, req.Header.Get("Content-Type"))

	_, err = kg.NewRequest(context.Background(), http.MethodGet, "/api/x/../admin", nil, nil)
	fmt.Println(errors.Is(err, koogallery.ErrInvalidRequest))
	// Output:
	// GET https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS%201%2B2
	// POST /api/mkp-openapi-public/global/v1/isv/usage-data application/json;charset=UTF-8
	// true
}

// Keep the request ID of a call that succeeded, for a support ticket.
func ExampleCaptureResponse() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	kg, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	var resp koogallery.Response
	ctx := koogallery.CaptureResponse(context.Background(), &resp)
	if _, err := order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, len(resp.RequestID), resp.Attempts)
	// Output: 200 32 1
}

// Count attempts by status and result code, as a Prometheus counter or an
// OpenTelemetry metric would, without the SDK importing either.
func ExampleWithAttemptHook() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	var mu sync.Mutex
	counts := map[string]int{}
	kg, err := fake.NewClient(
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}),
		koogallery.WithAttemptHook(func(ctx context.Context, a koogallery.Attempt) {
			mu.Lock()
			defer mu.Unlock()
			counts[fmt.Sprintf("%s %s %d %s", a.Method, a.Path, a.StatusCode, a.Code)]++
		}))
	if err != nil {
		log.Fatal(err)
	}
	fake.Inject(koogallerytest.Throttled())
	if _, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKONDEMAND"); err != nil {
		log.Fatal(err)
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Println(k, counts[k])
	}
	// Output:
	// GET /api/mkp-openapi-public/global/v1/order/query 200  1
	// GET /api/mkp-openapi-public/global/v1/order/query 406 MKT.0250 1
}

// instrumented is the shape of otelhttp.NewTransport: a RoundTripper that
// wraps another and records each request. Under WithHTTPClient it sits
// below the signer and the retries, so it sees every signed attempt.
type instrumented struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (t *instrumented) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.seen = append(t.seen, r.Method+" "+r.URL.Path+" error")
	} else {
		t.seen = append(t.seen, fmt.Sprintf("%s %s %d signed=%t", r.Method, r.URL.Path, resp.StatusCode, r.Header.Get("Authorization") != ""))
	}
	return resp, err
}

// Instrument the transport the way otelhttp does: with go.opentelemetry.io
// it reads WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(base)}).
func ExampleWithHTTPClient() {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	tr := &instrumented{base: fake.HTTPClient().Transport}
	kg, err := koogallery.NewClient(
		koogallery.WithEndpoint(fake.URL),
		koogallery.WithCredentials(koogallerytest.DefaultAccessKey, koogallerytest.DefaultSecretKey),
		koogallery.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
		koogallery.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKONDEMAND"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(tr.seen, "\n"))
	// Output: GET /koogallerytest/api/mkp-openapi-public/global/v1/order/query 200 signed=true
}

// Temporary credentials of the agency bound to an ECS instance or CCE node,
// renewed before they expire, without a restart.
func ExampleWithCredentialsProvider() {
	creds, err := auth.NewCredentialsCache(&auth.MetadataCredentials{})
	if err != nil {
		log.Fatal(err)
	}
	kg, err := koogallery.NewClient(koogallery.WithCredentialsProvider(creds))
	if err != nil {
		log.Fatal(err)
	}
	_ = order.NewClient(kg) // every attempt is signed with the credentials current at that moment
}
