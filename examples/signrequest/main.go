// Command signrequest signs an API Gateway request with AK/SK
// (SDK-HMAC-SHA256) and prints it, or sends it with -send.
//
//	go run ./examples/signrequest -url 'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKPERIODYEARNEW'
//
// Credentials come from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (and
// HUAWEICLOUD_SDK_SECURITY_TOKEN); without them it signs with example keys,
// which is enough to see the scheme at work. With -ecs they are the
// temporary credentials of the agency bound to the ECS instance or CCE node
// it runs on, from the metadata service. The Authorization value is printed
// only with -show-authorization; a security token never.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/isvkit/koogallery/auth"
)

func main() {
	method := flag.String("method", http.MethodGet, "HTTP method")
	target := flag.String("url", "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKPERIODYEARNEW", "request URL")
	data := flag.String("data", "", "request body (sent as application/json)")
	send := flag.Bool("send", false, "send the request and print the response")
	showAuth := flag.Bool("show-authorization", false, "print the Authorization value")
	debug := flag.Bool("debug", false, "print the canonical request and string to sign")
	ecs := flag.Bool("ecs", false, "sign with the temporary credentials of this ECS instance's agency")
	flag.Parse()

	var creds auth.CredentialsProvider
	switch ak, sk := os.Getenv(auth.EnvAccessKey), os.Getenv(auth.EnvSecretKey); {
	case *ecs:
		creds = &auth.MetadataCredentials{}
	case ak != "" && sk != "":
		creds = auth.EnvCredentials()
	default:
		creds = auth.StaticCredentials("HWAKEXAMPLE000000001", "HWSKEXAMPLEsecretKey00000000000000000001", "")
		fmt.Fprintln(os.Stderr, "HUAWEICLOUD_SDK_AK/SK not set: signing with example keys")
	}
	var opts []auth.SignerOption
	if *debug {
		opts = append(opts, auth.WithDebug(func(d auth.Debug) {
			fmt.Printf("--- canonical request\n%s\n--- string to sign\n%s\n---\n", d.CanonicalRequest, d.StringToSign)
		}))
	}
	signer, err := auth.NewSignerFrom(creds, opts...)
	if err != nil {
		log.Fatal(err)
	}

	var body io.Reader
	if *data != "" {
		body = strings.NewReader(*data)
	}
	req, err := http.NewRequest(*method, *target, body)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := signer.Sign(req); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("%s %s\nHost: %s\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := req.Header.Get(k)
		switch {
		case k == auth.HeaderAuthorization && !*showAuth:
			sig := strings.Index(v, "Signature=")
			v = v[:sig] + "Signature=<hidden, use -show-authorization>"
		case k == auth.HeaderSecurityToken:
			v = "<redacted>"
		}
		fmt.Printf("%s: %s\n", k, v)
	}
	if !*send {
		return
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("\n%s\n%s\n", resp.Status, out)
}
