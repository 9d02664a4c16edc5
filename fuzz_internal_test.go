package koogallery

import (
	"errors"
	"net/http"
	"testing"
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
