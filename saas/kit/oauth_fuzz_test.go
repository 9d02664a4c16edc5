package kit_test

import (
	"strings"
	"testing"

	"github.com/isvkit/koogallery/saas/kit"
)

// FuzzOAuthError classifies arbitrary answers of the identity provider:
// never a panic; a failure for every non-2xx status; a bounded description
// without control characters; and never the secret, however it is echoed.
func FuzzOAuthError(f *testing.F) {
	const secret = "Zq9-SECRET-xY"
	for _, s := range []string{
		`{"error":"invalid_grant","error_description":"Invalid refresh token"}`,
		`{"error":"invalid_grant","error_description":"code Zq9-SECRET-xY was used"}`,
		`{"error":"x","error_description":"Zq9-SECRET-\u0078Y"}`,
		`{"access_token":"t"}`, `<html></html>`, ``, `{"error":null}`, `{"error":{"a":1}}`,
	} {
		f.Add(400, []byte(s))
		f.Add(200, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		oe := kit.ParseOAuthError(status, body, secret)
		if oe == nil {
			if status < 200 || status > 299 {
				t.Fatalf("no error for HTTP %d", status)
			}
			return
		}
		msg := oe.Error()
		if strings.Contains(msg, secret) {
			t.Fatalf("the secret leaked: %q", msg)
		}
		if len(oe.Description) > 256+len("…") || strings.ContainsAny(oe.Description, "\r\n\x00") {
			t.Fatalf("description not cleaned: %q", oe.Description)
		}
	})
}
