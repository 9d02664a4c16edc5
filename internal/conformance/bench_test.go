package conformance

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/isvkit/koogallery/auth"
)

const orderPath = "/api/mkp-openapi-public/global/v1/order/query"

// body1K is a 1 KiB JSON document shaped like a usage push.
var body1K = func() []byte {
	rec := `{"instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","record_time":"20240315T081000Z","begin_time":"20240315T070000Z","end_time":"20240315T080000Z","usage_value":"99","metering_sn":"sn-0001"}`
	var b strings.Builder
	b.WriteString(`{"usage_records":[`)
	for b.Len() < 1024-len(rec)-3 {
		if b.Len() > len(`{"usage_records":[`) {
			b.WriteByte(',')
		}
		b.WriteString(rec)
	}
	b.WriteString("]}")
	s := b.String()
	return []byte(s + strings.Repeat(" ", 1024-len(s)))
}()

// BenchmarkSign signs the KooGallery order-query GET and a 1 KiB JSON POST
// with ours and with the official signer, side by side in one run.
func BenchmarkSign(b *testing.B) {
	if len(body1K) != 1024 {
		b.Fatalf("body is %d bytes", len(body1K))
	}
	s, err := auth.NewSigner(ak, sk)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("GET/ours", func(b *testing.B) {
		r, _ := http.NewRequest(http.MethodGet, "https://"+host+orderPath+"?orderId=MOCKPERIODYEARNEW&orderLineId=MOCKPERIODYEARNEW-000001", nil)
		r.Header.Set("Content-Type", "application/json")
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Sign(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GET/official", func(b *testing.B) {
		req := request.NewHttpRequestBuilder().WithMethod("GET").WithEndpoint("https://"+host).WithPath(orderPath).
			AddQueryParam("orderId", reflect.ValueOf("MOCKPERIODYEARNEW")).
			AddQueryParam("orderLineId", reflect.ValueOf("MOCKPERIODYEARNEW-000001")).
			AddHeaderParam("Host", host).Build()
		b.ReportAllocs()
		for b.Loop() {
			delete(req.GetHeaderParams(), "X-Sdk-Date") // as on every fresh request: date from time.Now
			if _, err := (signer.Signer{}).Sign(req, ak, sk); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The floor: only the hashes and the HMAC a signature cannot avoid
	// (payload hash, canonical-request hash, HMAC of the string to sign).
	floor := func(body []byte, crLen int) func(b *testing.B) {
		return func(b *testing.B) {
			cr := bytes.Repeat([]byte("x"), crLen)
			sts := bytes.Repeat([]byte("y"), 97)
			mac := hmac.New(sha256.New, []byte(sk))
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				ph := sha256.Sum256(body)
				crh := sha256.Sum256(cr)
				mac.Reset()
				mac.Write(sts)
				out = mac.Sum(out[:0])
				_, _ = ph, crh
			}
		}
	}
	b.Run("GET/hash-floor", floor(nil, 280))
	b.Run("POST1KiB/hash-floor", floor(body1K, 250))
	b.Run("POST1KiB/ours", func(b *testing.B) {
		r, _ := http.NewRequest(http.MethodPost, "https://"+host+"/api/mkp-openapi-public/global/v1/isv/usage-data", bytes.NewReader(body1K))
		r.Header.Set("Content-Type", "application/json")
		b.SetBytes(int64(len(body1K)))
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Sign(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("POST1KiB/official", func(b *testing.B) {
		req := request.NewHttpRequestBuilder().WithMethod("POST").WithEndpoint("https://"+host).
			WithPath("/api/mkp-openapi-public/global/v1/isv/usage-data").
			AddHeaderParam("Host", host).WithBody("body", string(body1K)).Build()
		b.SetBytes(int64(len(body1K)))
		b.ReportAllocs()
		for b.Loop() {
			delete(req.GetHeaderParams(), "X-Sdk-Date")
			if _, err := (signer.Signer{}).Sign(req, ak, sk); err != nil {
				b.Fatal(err)
			}
		}
	})
}
