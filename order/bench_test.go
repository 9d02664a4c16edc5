package order_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// BenchmarkQueryOrder compares a QueryOrder round trip with a hand-written
// signed net/http call doing the same work (sign, send, read, check the code,
// decode the order), against the same httptest server, in one run.
func BenchmarkQueryOrder(b *testing.B) {
	body := []byte(`{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":` + koogallerytest.CapturedMockOrder + `}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()

	b.Run("sdk", func(b *testing.B) {
		kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		orders := order.NewClient(kg)
		b.ReportAllocs()
		for b.Loop() {
			o, err := orders.QueryOrder(ctx, "MOCKPERIODYEARNEW")
			if err != nil || o.OrderID != "MOCKPERIODYEARNEW" {
				b.Fatal(err)
			}
		}
	})
	handWritten := func(b *testing.B, tr *http.Transport, sdkHeaders bool) {
		signer, _ := auth.NewSigner("ak", "sk")
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+order.QueryPath+"?orderId=MOCKPERIODYEARNEW", nil)
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
			if sdkHeaders {
				req.Header.Set("Accept", "application/json")
				req.Header.Set("User-Agent", sdkUserAgent)
			}
			if err := signer.Sign(req); err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			var out struct {
				ResultCode string       `json:"resultCode"`
				OrderInfo  *order.Order `json:"orderInfo"`
			}
			if err := json.Unmarshal(data, &out); err != nil || out.ResultCode != "MKT.0000" || out.OrderInfo.OrderID != "MOCKPERIODYEARNEW" {
				b.Fatal(err)
			}
		}
	}
	b.Run("hand-written", func(b *testing.B) { handWritten(b, http.DefaultTransport.(*http.Transport).Clone(), false) })
	// The same call with what the SDK sends and bounds besides: its
	// User-Agent and Accept headers, and a response-header timeout per
	// attempt. The fair floor for the SDK's own work.
	b.Run("hand-written-same-wire", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 30 * time.Second
		handWritten(b, tr, true)
	})
}

var sdkUserAgent = "koogallery-go/" + koogallery.Version + " (" + runtime.Version() + ")"

// canned answers every request with the same body, without a network, so
// BenchmarkQueryOrderNoNetwork measures the client's own CPU cost.
type canned []byte

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c)), Request: r}, nil
}

// BenchmarkQueryOrderNoNetwork is BenchmarkQueryOrder over an in-memory
// transport: the difference between the two is the SDK's CPU overhead per
// call (signing, retry bookkeeping, bounded read, envelope check).
func BenchmarkQueryOrderNoNetwork(b *testing.B) {
	body := canned(`{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":` + koogallerytest.CapturedMockOrder + `}`)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("https://mkt.example.com"),
			koogallery.WithHTTPClient(&http.Client{Transport: body}))
		if err != nil {
			b.Fatal(err)
		}
		orders := order.NewClient(kg)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := orders.QueryOrder(ctx, "MOCKPERIODYEARNEW"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		signer, _ := auth.NewSigner("ak", "sk")
		client := &http.Client{Transport: body}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://mkt.example.com"+order.QueryPath+"?orderId=MOCKPERIODYEARNEW", nil)
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
			if err := signer.Sign(req); err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				ResultCode string       `json:"resultCode"`
				OrderInfo  *order.Order `json:"orderInfo"`
			}
			if err := json.Unmarshal(data, &out); err != nil || out.ResultCode != "MKT.0000" {
				b.Fatal(err)
			}
		}
	})
}
