package auth_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/isvkit/koogallery/auth"
)

// Sign one request by hand. The clock is pinned so the output is stable;
// production code leaves the default (time.Now).
func ExampleSigner_Sign() {
	signer, err := auth.NewSigner("HWAKEXAMPLE000000001", "HWSKEXAMPLEsecretKey00000000000000000001",
		auth.WithClock(func() time.Time { return time.Date(2024, 3, 15, 8, 30, 0, 0, time.UTC) }))
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet,
		"https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2207261447AUY4H&orderLineId=CS2207261447AUY4H-000001", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	if err := signer.Sign(req); err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Header.Get("X-Sdk-Date"))
	fmt.Println(req.Header.Get("Authorization"))
	// Output:
	// 20240315T083000Z
	// SDK-HMAC-SHA256 Access=HWAKEXAMPLE000000001, SignedHeaders=content-type;host;x-sdk-date, Signature=1ee1887c9415fa71025226fe28f1d581c7a26eb71aeac98de17d37ca854d3bfe
}

// Sign every request an http.Client sends, for any API Gateway call. Each
// attempt, retry or redirect is signed afresh.
func ExampleTransport() {
	signer, err := auth.NewSigner("my-ak", "my-sk")
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{
		Transport: &auth.Transport{Signer: signer}, // Base nil: http.DefaultTransport
		Timeout:   10 * time.Second,
	}
	_ = client // client.Get("https://mkt.myhuaweicloud.com/...")
}

// Print the canonical request of each signature in the gateway's '|' form,
// to compare with the "canonicalRequest:" text of an APIGW.0301 error.
func ExampleWithDebug() {
	signer, _ := auth.NewSigner("ak", "sk",
		auth.WithClock(func() time.Time { return time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC) }),
		auth.WithDebug(func(d auth.Debug) { fmt.Println(d) }))
	req, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/x?b=2&a=1", nil)
	_ = signer.Sign(req)
	// Output:
	// canonicalRequest:GET|/x/|a=1&b=2|host:mkt.myhuaweicloud.com|x-sdk-date:20261127T083000Z||host;x-sdk-date|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 stringToSign:SDK-HMAC-SHA256|20261127T083000Z|68f67cabc6955b98aa31398aeb049424d7b8af57a3e29a1682dd75aed82eefcc
}

// Verify requests signed by clients, as the gateway does.
func ExampleVerifier() {
	keys := map[string]string{"client-ak": "client-sk"}
	verifier := auth.NewVerifier(func(ak string) (string, bool) { sk, ok := keys[ak]; return sk, ok })
	mux := http.NewServeMux()
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifier.Verify(r); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	_ = http.ListenAndServe // http.ListenAndServe(":8080", mux)
}

// Write a query exactly as the signature sees it, so the bytes on the wire
// are the bytes signed: names and values sorted, a space as %20, '+' as %2B.
func ExampleEncodeQuery() {
	q := url.Values{"orderLineId": {"CS1-000001"}, "orderId": {"CS 1+x"}}
	fmt.Println(auth.EncodeQuery(q))
	// Output: orderId=CS%201%2Bx&orderLineId=CS1-000001
}

// Sign with credentials that rotate: the provider is asked at every
// signature, so new keys take effect without a restart.
func ExampleNewSignerFrom() {
	var current atomic.Pointer[auth.Credentials]
	current.Store(&auth.Credentials{AccessKey: "AK-2026-11", SecretKey: "SK-2026-11"})
	provider := providerFunc(func(ctx context.Context) (auth.Credentials, error) { return *current.Load(), nil })

	signer, err := auth.NewSignerFrom(provider)
	if err != nil {
		log.Fatal(err)
	}
	for _, ak := range []string{"AK-2026-11", "AK-2026-12"} {
		current.Store(&auth.Credentials{AccessKey: ak, SecretKey: "SK-" + ak[3:]})
		req, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/x", nil)
		if err := signer.Sign(req); err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.SplitN(req.Header.Get("Authorization"), ",", 2)[0])
	}
	// Output:
	// SDK-HMAC-SHA256 Access=AK-2026-11
	// SDK-HMAC-SHA256 Access=AK-2026-12
}

type providerFunc func(context.Context) (auth.Credentials, error)

func (f providerFunc) Credentials(ctx context.Context) (auth.Credentials, error) { return f(ctx) }

// On a Huawei Cloud ECS instance or CCE node with an agency bound, sign
// with the agency's temporary credentials, renewed 40 minutes before they
// expire.
func ExampleMetadataCredentials() {
	creds, err := auth.NewCredentialsCache(&auth.MetadataCredentials{Timeout: 3 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	signer, err := auth.NewSignerFrom(creds)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &auth.Transport{Signer: signer}, Timeout: 30 * time.Second}
	_ = client // every request it sends is signed with the credentials current at that moment
}
