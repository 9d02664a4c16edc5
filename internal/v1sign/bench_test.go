package v1sign

import (
	"net/url"
	"testing"
)

// typicalNewInstance is a V1 newInstance query as KooGallery sends it:
// percent-encoded, with encrypted mobilePhone and email.
func typicalNewInstance(b *testing.B) string {
	b.Helper()
	v := url.Values{
		"activity":     {"newInstance"},
		"businessId":   {"61e834ba-7b97-4418-b8f7-e5345137278c"},
		"customerId":   {"68cbc86abc2018ab880d92f36422fa0e"},
		"customerName": {"huaweicloud_buyer"},
		"email":        {"A1b2C3d4E5f6G7h8q+h4nuZNlRTzxpqAOqs2A0w=="},
		"expireTime":   {"20271231235959"},
		"mobilePhone":  {"A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w=="},
		"orderId":      {"CS2611270001ABCDE"},
		"periodNumber": {"1"},
		"periodType":   {"year"},
		"productId":    {"OFFI000000000000000001"},
		"skuCode":      {"c80c3a3b-29d6-4b0b-b0c2-7ff4b6e0b8fe"},
		"testFlag":     {"0"},
		"timeStamp":    {specV1TS},
	}
	token, err := SignQuery(specKey, v)
	if err != nil {
		b.Fatal(err)
	}
	v.Set(ParamAuthToken, token)
	return v.Encode()
}

func BenchmarkQueryVerify(b *testing.B) {
	raw := typicalNewInstance(b)
	b.ReportAllocs()
	for b.Loop() {
		q, err := ParseQuery(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Verify(specKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBodySign(b *testing.B) {
	body := []byte(specResponseBody)
	b.ReportAllocs()
	for b.Loop() {
		_ = BodySign(specKey, body)
	}
}

func BenchmarkVerifyKit(b *testing.B) {
	body := []byte(specKitBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyKit(specKey, body, specKitToken); err != nil {
			b.Fatal(err)
		}
	}
}
