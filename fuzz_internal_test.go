package koogallery

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeResponse feeds arbitrary statuses and bodies to the response
// decoder: it must never panic, and every failure must be an *APIError.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(`{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"X"}}`))
	f.Add(401, []byte(`{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: x-security-token:abc|","request_id":"r"}`))
	f.Add(502, []byte("<html><body>Bad Gateway</body></html>"))
	f.Add(200, []byte(`{"resultCode":"MKT.0000","orderInfo":{"orderId":`))
	f.Add(406, []byte(`{"resultCode":"MKT.0250","extra_info":{"a":1}}`))
	f.Add(200, []byte{})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		var v struct {
			OrderInfo *struct {
				OrderID string `json:"orderId"`
			} `json:"orderInfo"`
		}
		err := decodeResponse(resp, body, "GET", "/p", &v)
		if err == nil {
			return
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("failure is not an *APIError: %T %v", err, err)
		}
		_ = ae.Error()
		_ = errors.Is(err, ErrServer)
	})
}

// FuzzRetryAfter: any Retry-After value gives a wait that is never
// negative, and digits never wrap around into a short wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"3", "18446744074", "99999999999999999999999", "-5", "soon", "Fri, 31 Dec 9999 23:59:59 GMT", "", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(http.Header{"Retry-After": {v}}, now)
		if d < 0 {
			t.Fatalf("%q: negative wait %v", v, d)
		}
		if s := strings.TrimSpace(v); digits(s) {
			n, err := strconv.ParseInt(s, 10, 64)
			if (err != nil || n > int64(maxDuration/time.Second)) && d != maxDuration {
				t.Fatalf("%q: %v, want the saturated maximum", v, d)
			}
			if err == nil && n <= int64(maxDuration/time.Second) && d != time.Duration(n)*time.Second {
				t.Fatalf("%q: %v", v, d)
			}
		}
	})
}

// FuzzRedactMessage: after redaction no x-security-token value survives,
// in any case, and text without the key is unchanged.
func FuzzRedactMessage(f *testing.F) {
	for _, s := range []string{"x-security-token:abc|", "X-SECURITY-TOKEN:abc", "a|x-Security-Token:T|b|X-security-token:U\n", "none", "x-security-token:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		out := redactMessage(msg)
		if indexFold(msg, "x-security-token:") < 0 {
			if out != msg {
				t.Fatalf("changed %q to %q", msg, out)
			}
			return
		}
		for rest := out; ; {
			i := indexFold(rest, "x-security-token:")
			if i < 0 {
				break
			}
			rest = rest[i+len("x-security-token:"):]
			if !strings.HasPrefix(rest, "<redacted>") {
				t.Fatalf("%q: a token survived in %q", msg, out)
			}
		}
	})
}

// FuzzNewRequestPath: NewRequest never panics; a path it accepts has no
// segment that is, or decodes to, "." or "..", and reaches the wire with
// the same segments under the endpoint's prefix.
func FuzzNewRequestPath(f *testing.F) {
	for _, s := range []string{"/api/x", "/a/../b", "/%2e%2e/x", "/a//b", `/a\b`, "/ev 1?x=#%25é/file", "x", ""} {
		f.Add(s)
	}
	kg, err := NewClient(WithCredentials("ak", "sk"), WithEndpoint("https://mkt.example.com/base"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		req, err := kg.NewRequest(context.Background(), http.MethodGet, p, nil, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("%q: %v is not ErrInvalidRequest", p, err)
			}
			return
		}
		for _, seg := range strings.Split(p, "/")[1:] {
			if u, _ := url.PathUnescape(seg); seg == "." || seg == ".." || u == "." || u == ".." || strings.ContainsAny(seg, "\\\x00") {
				t.Fatalf("accepted %q", p)
			}
		}
		wire, err := url.ParseRequestURI(req.URL.EscapedPath())
		if err != nil {
			t.Fatalf("%q: the escaped path %q does not parse: %v", p, req.URL.EscapedPath(), err)
		}
		if wire.Path != "/base"+p {
			t.Fatalf("%q: the server reads %q", p, wire.Path)
		}
	})
}
