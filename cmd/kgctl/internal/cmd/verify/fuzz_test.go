package verify

import (
	"bytes"
	"testing"
	"time"
)

// FuzzVerifyCapture: any input is read, diagnosed and run through the SDK
// handler without a panic, and a result is always reported.
func FuzzVerifyCapture(f *testing.F) {
	for _, s := range []string{
		"POST /isv/produce?signature=8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318&timestamp=1795768200123&nonce=Q7ZP0L3XW9M2K8RT HTTP/1.1\nHost: x\n\n{\"activity\":\"newInstance\"}",
		"GET /isv/v1?activity=newInstance&timeStamp=20261127083000123&authToken=ISQPmsWS3la/5IRnLdpTh0W9iyazgtByiifep/O/0vI= HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST https://x/isv/produce/produceAPI/v2/tenantSync\nx-sign: 3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b\nx-timestamp: 1795768200123\nx-nonce: Q7ZP0L3XW9M2K8RT\n\n{\"tenantId\": \"t\", \"flag\": 1}",
		"POST /isv/produce/produceAPI/tenantSync\nauthToken: pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog=\n\n{\"timeStamp\":\"20261127163000123\",\"tenantId\":\"t\"}",
		`{"method":"POST","url":"https://x/isv/order?signature=A&timestamp=1&nonce=n","headers":{"a":"b"},"body":"{}"}`,
		`{"exchanges":[{"request":{"method":"GET","url":"https://x/?authToken=a&timeStamp=b"}}]}`,
		"B@D /\x00 HTTP/1.1\n\n",
	} {
		f.Add([]byte(s))
	}
	at := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := readCapture(bytes.NewReader(in))
		if err != nil {
			return
		}
		fam, err := detectFamily(c)
		if err != nil {
			return
		}
		v := &verifier{c: c, fam: fam, key: "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17", at: at, skew: 5 * time.Second, v1window: 24 * time.Hour}
		v.run()
		if len(v.checks) == 0 {
			t.Fatal("no check reported")
		}
		if last := v.checks[len(v.checks)-1]; last.Name != "SDK handler" {
			t.Fatalf("the handler's answer is missing: %+v", last)
		}
	})
}
