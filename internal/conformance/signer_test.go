package conformance

import (
	"bytes"
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

var cases = flag.Int("cases", 12000, "number of generated requests to compare")

const (
	ak   = "HWAKCONFORMANCE00001"
	sk   = "HWSKconformanceSecretKey000000000000001"
	host = "mkt.myhuaweicloud.com"
)

// alphabet is heavy in characters that escape differently in paths,
// queries and the signature, plus multi-byte UTF-8.
var alphabet = []string{"a", "B", "z", "0", "9", "-", "_", ".", "~", " ", "+", "*", "%", "/", "?", "#", "&", "=", ";", "!",
	"'", "(", ")", "é", "中", "😀", ":", "@", ",", "$", "[", "]", "\"", "<", ">", "\\", "^", "`", "{", "}", "|", "\t", "\x01"}

func genString(rng *rand.Rand, maxLen int) string {
	var b strings.Builder
	for range rng.IntN(maxLen + 1) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// generated is one request in both worlds.
type generated struct {
	ours     *http.Request
	official *request.DefaultHttpRequest
}

func generate(t testing.TB, rng *rand.Rand, date string) generated {
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}
	method := methods[rng.IntN(len(methods))]

	// Path: decoded segments (the official signer treats the path as decoded).
	segs := make([]string, rng.IntN(5))
	for i := range segs {
		segs[i] = strings.ReplaceAll(genString(rng, 8), "/", "")
	}
	path := "/" + strings.Join(segs, "/")
	if rng.IntN(5) == 0 {
		path += "/"
	}

	// Query: decoded pairs; repeated names go to the official signer as a slice.
	q := url.Values{}
	for range rng.IntN(6) {
		name := genString(rng, 5)
		for range 1 + rng.IntN(3) {
			q.Add(name, genString(rng, 10))
		}
	}
	var body []byte
	if rng.IntN(2) == 0 {
		body = []byte(genString(rng, 400))
	}

	u := &url.URL{Scheme: "https", Host: host, Path: path}
	if rng.IntN(2) == 0 {
		u.RawQuery = q.Encode() // '+' for spaces: decodes to the same values
	} else {
		u.RawQuery = auth.EncodeQuery(q)
	}
	ours, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	require.NoError(t, err)
	ours.Header.Set("X-Unsigned-Noise", genString(rng, 5)) // not signed by us, not given to them

	b := request.NewHttpRequestBuilder().WithMethod(method).WithEndpoint("https://" + host).WithPath(path)
	for name, vs := range q {
		if len(vs) == 1 {
			b.AddQueryParam(name, reflect.ValueOf(vs[0]))
		} else {
			b.AddQueryParam(name, reflect.ValueOf(vs))
		}
	}
	if len(body) > 0 {
		b.WithBody("body", string(body))
	}
	// Exactly the headers we sign, with the values we send.
	b.AddHeaderParam("Host", host)
	b.AddHeaderParam("X-Sdk-Date", date)
	switch rng.IntN(6) {
	case 0:
		ours.Header.Set("X-Sdk-Content-Sha256", auth.UnsignedPayload)
		b.AddHeaderParam("X-Sdk-Content-Sha256", auth.UnsignedPayload)
	case 1:
		ours.Header.Set("X-Security-Token", "tok-"+strings.Repeat("x", rng.IntN(40))+"=")
		b.AddHeaderParam("X-Security-Token", ours.Header.Get("X-Security-Token"))
	}
	return generated{ours: ours, official: b.Build()}
}

// TestAgreesWithOfficialSigner compares the Authorization value of ours and
// the official signer for generated requests. Equal signatures mean equal
// canonical requests (SHA-256 of the canonical request is signed).
func TestAgreesWithOfficialSigner(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	when := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	date := when.Format(auth.DateLayout)
	var tokenCases, unsignedCases, queryCases int
	for i := 0; i < *cases; i++ {
		g := generate(t, rng, date)
		opts := []auth.SignerOption{auth.WithClock(func() time.Time { return when })}
		s, err := auth.NewSigner(ak, sk, opts...)
		if i%3 == 0 {
			// Credentials asked of a provider at each signature sign alike.
			s, err = auth.NewSignerFrom(rotating{}, opts...)
		}
		require.NoError(t, err)
		require.NoError(t, s.Sign(g.ours), "case %d", i)

		theirs, err := signer.Signer{}.Sign(g.official, ak, sk)
		require.NoError(t, err)
		if !assert.Equal(t, theirs["Authorization"], g.ours.Header.Get("Authorization"),
			"case %d: %s %s", i, g.ours.Method, g.ours.URL.String()) {
			t.FailNow()
		}
		assert.Equal(t, theirs["X-Sdk-Date"], g.ours.Header.Get("X-Sdk-Date"))
		if g.ours.Header.Get("X-Security-Token") != "" {
			tokenCases++
		}
		if g.ours.Header.Get("X-Sdk-Content-Sha256") != "" {
			unsignedCases++
		}
		if g.ours.URL.RawQuery != "" {
			queryCases++
		}
	}
	t.Logf("%d requests agree (%d with a query, %d with x-security-token, %d with UNSIGNED-PAYLOAD)", *cases, queryCases, tokenCases, unsignedCases)
	require.GreaterOrEqual(t, *cases, 10000, "the issue asks for at least 10,000 cases")
}

// TestOfficialUnitVectors checks that the official signer in this module is
// the one the spec's vectors came from.
func TestOfficialUnitVectors(t *testing.T) {
	req := request.NewHttpRequestBuilder().WithMethod("GET").WithEndpoint("https://example.huaweicloud.com").WithPath("/path").
		AddQueryParam("limit", reflect.ValueOf(1)).AddHeaderParam("X-Sdk-Date", "20060102T150405Z").Build()
	got, err := signer.Signer{}.Sign(req, "AccessKey", "SecretKey")
	require.NoError(t, err)
	assert.Equal(t, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624", got["Authorization"])
}

// rotating is a provider that is not recognised as static: the Signer asks
// it at every signature.
type rotating struct{}

func (rotating) Credentials(context.Context) (auth.Credentials, error) {
	return auth.Credentials{AccessKey: ak, SecretKey: sk}, nil
}
