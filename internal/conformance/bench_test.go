package conformance

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

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
	b.Run("GET/lean", lean(nil))
	b.Run("POST1KiB/lean", lean(body1K))
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

// lean is the prototype that shows where the real floor of a signature is:
// the work any signer must do to put a signature on a request, hand-written
// for this one request and nothing else (no validation, no header scan, no
// escaping, the canonical parts known in advance): read the clock, format
// X-Sdk-Date (cached per second, as ours does), write the canonical request,
// hash it and the body, HMAC the string to sign with a pooled keyed HMAC,
// hex-encode, and set the two headers (one string and one []string array
// allocated). The distance between ours and lean is the price of doing it
// for any request, correctly; the distance between lean and hash-floor is
// what no signer can avoid.
func lean(body []byte) func(b *testing.B) {
	return func(b *testing.B) {
		path, query := orderPath+"/", "orderId=MOCKPERIODYEARNEW&orderLineId=MOCKPERIODYEARNEW-000001"
		method := "GET"
		if body != nil {
			path, query, method = "/api/mkp-openapi-public/global/v1/isv/usage-data/", "", "POST"
		}
		r, _ := http.NewRequest(method, "https://"+host+path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		macs := sync.Pool{New: func() any { return hmac.New(sha256.New, []byte(sk)) }}
		bufs := sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
		var dateSec int64
		var dateText string
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now().UTC()
			if now.Unix() != dateSec {
				dateSec, dateText = now.Unix(), now.Format(auth.DateLayout)
			}
			bp := bufs.Get().(*[]byte)
			buf := append((*bp)[:0], method...)
			buf = append(buf, '\n')
			buf = append(buf, path...)
			buf = append(buf, '\n')
			buf = append(buf, query...)
			buf = append(buf, "\ncontent-type:application/json\nhost:"+host+"\nx-sdk-date:"...)
			buf = append(buf, dateText...)
			buf = append(buf, "\n\ncontent-type;host;x-sdk-date\n"...)
			if body == nil {
				buf = append(buf, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"...)
			} else {
				ph := sha256.Sum256(body)
				buf = hex.AppendEncode(buf, ph[:])
			}
			crh := sha256.Sum256(buf)
			sts := len(buf)
			buf = append(buf, "SDK-HMAC-SHA256\n"...)
			buf = append(buf, dateText...)
			buf = append(buf, '\n')
			buf = hex.AppendEncode(buf, crh[:])
			mac := macs.Get().(hash.Hash)
			mac.Reset()
			mac.Write(buf[sts:])
			buf = mac.Sum(buf)
			macs.Put(mac)
			authStart := len(buf)
			buf = append(buf, "SDK-HMAC-SHA256 Access="+ak+", SignedHeaders=content-type;host;x-sdk-date, Signature="...)
			buf = hex.AppendEncode(buf, buf[authStart-sha256.Size:authStart])
			vals := new([2]string)
			vals[0], vals[1] = dateText, string(buf[authStart:])
			r.Header["X-Sdk-Date"], r.Header["Authorization"] = vals[0:1:1], vals[1:2:2]
			*bp = buf
			bufs.Put(bp)
		}
	}
}
