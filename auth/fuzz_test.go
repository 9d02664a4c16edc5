package auth_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/isvkit/koogallery/auth"
)

// FuzzSignVerify signs arbitrary paths, queries, bodies and content types.
// Sign must never panic, and whatever it signs must verify on the server
// side of the wire.
func FuzzSignVerify(f *testing.F) {
	f.Add("/api/mkp-openapi-public/global/v1/order/query", "orderId=MOCK&orderLineId=MOCK-000001", "", "application/json")
	f.Add("/a b+c/%/中", "a=b+c&a=b%20c&x=%2B&e=&f", `{"k":"v"}`, "")
	f.Add("", "k=1;2", "body", "text/plain\r\n")
	f.Add("//", "%zz=1&&=", "", "a\x00b")
	s, err := auth.NewSigner("AKFZ", "SKFZ", auth.WithSignedHeaders("X-Stage"))
	if err != nil {
		f.Fatal(err)
	}
	v := auth.NewVerifier(func(ak string) (string, bool) { return "SKFZ", ak == "AKFZ" })
	f.Fuzz(func(t *testing.T, path, rawQuery, body, contentType string) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Scheme: "https", Host: "mkt.example.com", Path: path, RawQuery: rawQuery},
			Header: http.Header{},
			Body:   http.NoBody,
		}
		if body != "" {
			r.Body = readCloser{strings.NewReader(body)}
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if err := s.Sign(r); err != nil {
			if strings.Contains(err.Error(), "SKFZ") {
				t.Fatalf("secret in error: %v", err)
			}
			return
		}
		var wire bytes.Buffer
		if err := r.Write(&wire); err != nil {
			return // not sendable by Go's client either
		}
		got, err := http.ReadRequest(bufio.NewReader(&wire))
		if err != nil {
			return // the request line could not carry this URL
		}
		if got.URL.RawQuery != r.URL.RawQuery || got.URL.Path != r.URL.Path && !(r.URL.Path == "" && got.URL.Path == "/") {
			return // the wire changed the URL (e.g. '#' cut the query): not a signing question
		}
		if err := v.Verify(got); err != nil {
			t.Fatalf("signed request does not verify: %v", err)
		}
	})
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// FuzzVerifyAuthorization feeds hostile Authorization and X-Sdk-Date values
// to the Verifier: it must fail cleanly, never panic, and never accept.
func FuzzVerifyAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature="+strings.Repeat("0", 64), "20261127T083000Z")
	f.Add("SDK-HMAC-SHA256 Access=AK,SignedHeaders=;;;,Signature=", "")
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=zz", "99999999T999999Z")
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date;x-security-token, Signature="+strings.Repeat("a", 64), "20261127T083000Z")
	v := auth.NewVerifier(func(ak string) (string, bool) { return "SK", true },
		auth.WithClock(fixedClock("20261127T083000Z")))
	f.Fuzz(func(t *testing.T, authz, date string) {
		r, err := http.NewRequest(http.MethodGet, "https://mkt.example.com/x?a=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header["Authorization"] = []string{authz}
		r.Header["X-Sdk-Date"] = []string{date}
		if err := v.Verify(r); err == nil {
			t.Fatalf("accepted a forged signature %q", authz)
		}
		if a, err := auth.ParseAuthorization(authz); err == nil && len(a.Signature) != 64 {
			t.Fatalf("parsed a signature of length %d", len(a.Signature))
		}
	})
}
