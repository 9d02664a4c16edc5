package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

// The vectors of ../shared/spec/signing.md §3 (all cross-checked there
// against the official Python v3 signer or Huawei's published example).
const (
	vecAK = "HWAKEXAMPLE000000001"
	vecSK = "HWSKEXAMPLEsecretKey00000000000000000001"
)

func fixedClock(s string) func() time.Time {
	t, err := time.Parse(auth.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

// signWithDebug signs r and returns the debug record.
func signWithDebug(t *testing.T, ak, sk, date string, r *http.Request, opts ...auth.SignerOption) auth.Debug {
	t.Helper()
	var d auth.Debug
	opts = append([]auth.SignerOption{auth.WithClock(fixedClock(date)), auth.WithDebug(func(x auth.Debug) { d = x })}, opts...)
	s, err := auth.NewSigner(ak, sk, opts...)
	require.NoError(t, err)
	require.NoError(t, s.Sign(r))
	return d
}

func TestVectorA1OrderQuery(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2207261447AUY4H&orderLineId=CS2207261447AUY4H-000001", nil)
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	d := signWithDebug(t, vecAK, vecSK, "20240315T083000Z", r)

	assert.Equal(t, "GET\n"+
		"/api/mkp-openapi-public/global/v1/order/query/\n"+
		"orderId=CS2207261447AUY4H&orderLineId=CS2207261447AUY4H-000001\n"+
		"content-type:application/json;charset=UTF-8\n"+
		"host:mkt.myhuaweicloud.com\n"+
		"x-sdk-date:20240315T083000Z\n"+
		"\n"+
		"content-type;host;x-sdk-date\n"+
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", d.CanonicalRequest)
	assert.Equal(t, "SDK-HMAC-SHA256\n20240315T083000Z\na1b809da63e337d55c17eefd10f10e5a6614eb096cc0eb99796a602d16ea978f", d.StringToSign)
	assert.Equal(t, "SDK-HMAC-SHA256 Access=HWAKEXAMPLE000000001, SignedHeaders=content-type;host;x-sdk-date, Signature=1ee1887c9415fa71025226fe28f1d581c7a26eb71aeac98de17d37ca854d3bfe",
		r.Header.Get("Authorization"))
	assert.Equal(t, "20240315T083000Z", r.Header.Get("X-Sdk-Date"))
}

func TestVectorB1UsagePush(t *testing.T) {
	t.Parallel()
	body := `{"usage_records":[{"instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","record_time":"20240315T081000Z","begin_time":"20240315T070000Z","end_time":"20240315T080000Z","usage_value":"99","metering_sn":"sn-0001","remark":"héllo"}]}`
	require.Len(t, []byte(body), 230)
	r, err := http.NewRequest(http.MethodPost, "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/isv/usage-data", strings.NewReader(body))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	d := signWithDebug(t, vecAK, vecSK, "20240315T083000Z", r)

	assert.True(t, strings.HasSuffix(d.CanonicalRequest, "\n3a0411eb075f187f6a6fe607f2c264ba932fcc7ca421de9f7bb3fb87e2172058"))
	assert.True(t, strings.HasPrefix(d.CanonicalRequest, "POST\n/api/mkp-openapi-public/global/v1/isv/usage-data/\n\ncontent-type:"))
	assert.True(t, strings.HasSuffix(d.StringToSign, "\ncf5f77d7158f000dd4af55f7ff4786c279b19d817b2de45174eb15261d2e077e"))
	assert.Equal(t, "SDK-HMAC-SHA256 Access=HWAKEXAMPLE000000001, SignedHeaders=content-type;host;x-sdk-date, Signature=7515f6339195148c326e698e672b51e08e5c6abb98859571dff99e92b8ec8da1",
		r.Header.Get("Authorization"))

	// The body is still there to send, and again for a retry.
	for range 2 {
		rc, err := r.GetBody()
		require.NoError(t, err)
		var got bytes.Buffer
		_, err = got.ReadFrom(rc)
		require.NoError(t, err)
		assert.Equal(t, body, got.String())
	}
}

func TestVectorD0HuaweiGuide(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest(http.MethodGet, "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0", nil)
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json")
	d := signWithDebug(t, vecAK, vecSK, "20191115T033655Z", r)
	sum := sha256.Sum256([]byte(d.CanonicalRequest))
	assert.Equal(t, "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a", hex.EncodeToString(sum[:]))
}

func TestVectorRubyGemLicenseActivate(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest(http.MethodPost, "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate", nil)
	require.NoError(t, err)
	r.Header.Set("x-stage", "RELEASE")
	r.Header.Set("Content-Type", "application/json")
	signWithDebug(t, "anything", "123", "20240317T144237Z", r, auth.WithSignedHeaders("X-Stage"))
	assert.Equal(t, "SDK-HMAC-SHA256 Access=anything, SignedHeaders=content-type;host;x-sdk-date;x-stage, Signature=77595ad624b6e4e49990b8c4e84bf1c287457fca61069c4e60b9b6765b52053d",
		r.Header.Get("Authorization"))
}

func TestDifferentTimesDifferOnlyInDateAndSignature(t *testing.T) {
	t.Parallel()
	newReq := func() *http.Request {
		r, err := http.NewRequest(http.MethodPost, "https://mkt.myhuaweicloud.com/a/b?x=1&y=two", strings.NewReader(`{"k":"v"}`))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Other", "unsigned")
		return r
	}
	r1, r2 := newReq(), newReq()
	d1 := signWithDebug(t, vecAK, vecSK, "20240315T083000Z", r1)
	d2 := signWithDebug(t, vecAK, vecSK, "20240315T083001Z", r2)

	assert.Equal(t, strings.Replace(d1.CanonicalRequest, "20240315T083000Z", "20240315T083001Z", 1), d2.CanonicalRequest)
	assert.Equal(t, "20240315T083000Z", r1.Header.Get("X-Sdk-Date"))
	assert.Equal(t, "20240315T083001Z", r2.Header.Get("X-Sdk-Date"))
	a1, a2 := r1.Header.Get("Authorization"), r2.Header.Get("Authorization")
	assert.NotEqual(t, a1, a2)
	p1, _, _ := strings.Cut(a1, "Signature=")
	p2, _, _ := strings.Cut(a2, "Signature=")
	assert.Equal(t, p1, p2, "only the signature part differs")
	h1, h2 := r1.Header.Clone(), r2.Header.Clone()
	for _, h := range []http.Header{h1, h2} {
		h.Del("X-Sdk-Date")
		h.Del("Authorization")
	}
	assert.Equal(t, h1, h2)
}
