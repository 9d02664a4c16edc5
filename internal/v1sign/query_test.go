package v1sign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	specKey        = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	specV1Signed   = "activity=refreshInstance&expireTime=20271231235959&instanceId=inst-0001&orderId=CS2611270001ABCDE&periodNumber=1&periodType=year&productId=OFFI000000000000000001&testFlag=0&timeStamp=20261127083000123"
	specV1Token    = "ISQPmsWS3la/5IRnLdpTh0W9iyazgtByiifep/O/0vI="
	specV1TS       = "20261127083000123"
	specV1RawQuery = "timeStamp=20261127083000123&activity=refreshInstance&orderId=CS2611270001ABCDE&instanceId=inst-0001" +
		"&productId=OFFI000000000000000001&expireTime=20271231235959&periodType=year&periodNumber=1&testFlag=0" +
		"&authToken=ISQPmsWS3la%2F5IRnLdpTh0W9iyazgtByiifep%2FO%2F0vI%3D"
)

// specV1Values are the parameters of §9.3.
func specV1Values() url.Values {
	v := url.Values{}
	for _, pair := range strings.Split(specV1Signed, "&") {
		name, value, _ := strings.Cut(pair, "=")
		v.Set(name, value)
	}
	return v
}

func TestSpecV1Vector(t *testing.T) {
	t.Parallel()
	values := specV1Values()
	assert.Equal(t, specV1Signed, QueryStringToSign(values))

	token, err := SignQuery(specKey, values)
	require.NoError(t, err)
	assert.Equal(t, specV1Token, token)

	q, err := ParseQuery(specV1RawQuery)
	require.NoError(t, err)
	assert.NoError(t, q.Verify(specKey))
	assert.Equal(t, "refreshInstance", q.Get("activity"))
	assert.Equal(t, specV1Token, q.Get(ParamAuthToken))

	values.Set(ParamAuthToken, specV1Token)
	assert.NoError(t, VerifyQueryValues(specKey, values))
	assert.Equal(t, specV1Signed, QueryStringToSign(values), "authToken is never signed")
}

func TestQueryVerifyRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		key  string
		want error
	}{
		{"wrong key", specV1RawQuery, specKey + "x", ErrMismatch},
		{"changed value", strings.Replace(specV1RawQuery, "periodNumber=1", "periodNumber=2", 1), specKey, ErrMismatch},
		{"added parameter", specV1RawQuery + "&extra=1", specKey, ErrMismatch},
		{"added empty parameter", specV1RawQuery + "&extra", specKey, ErrMismatch},
		{"removed parameter", strings.Replace(specV1RawQuery, "&testFlag=0", "", 1), specKey, ErrMismatch},
		{"changed timeStamp", strings.Replace(specV1RawQuery, "083000123", "083000124", 1), specKey, ErrMismatch},
		{"renamed parameter", strings.Replace(specV1RawQuery, "orderId=", "orderID=", 1), specKey, ErrMismatch},
		{"truncated token", strings.Replace(specV1RawQuery, "0vI%3D", "0v", 1), specKey, ErrMismatch},
		{"token too long", specV1RawQuery + "AAAA", specKey, ErrMismatch},
		{"token not base64", strings.Replace(specV1RawQuery, "ISQP", "!SQP", 1), specKey, ErrMismatch},
		{"token of another query", strings.Replace(specV1RawQuery, "ISQPmsWS3la", "ISQPmsWS3lb", 1), specKey, ErrMismatch},
		{"no token", strings.Split(specV1RawQuery, "&authToken")[0], specKey, ErrMissingToken},
		{"empty token", strings.Split(specV1RawQuery, "&authToken")[0] + "&authToken=", specKey, ErrMissingToken},
		{"no timeStamp", strings.Replace(specV1RawQuery, "timeStamp=20261127083000123&", "", 1), specKey, ErrMissingTimeStamp},
		{"empty timeStamp", strings.Replace(specV1RawQuery, "timeStamp=20261127083000123", "timeStamp=", 1), specKey, ErrMissingTimeStamp},
		{"empty query", "", specKey, ErrMissingToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(tc.raw)
			require.NoError(t, err)
			err = q.Verify(tc.key)
			require.ErrorIs(t, err, tc.want)
			assertNoSecrets(t, err, tc.key)
		})
	}
}

// assertNoSecrets checks that an error names neither the key nor a token.
func assertNoSecrets(t *testing.T, err error, key string) {
	t.Helper()
	for _, s := range []string{key, specKey, specV1Token, "ISQPms", strings.TrimSuffix(specV1Token, "=")} {
		assert.NotContains(t, err.Error(), s)
	}
}

func TestParseQueryJavaServletRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string
		signed string
		get    map[string]string
	}{
		{"repeated name keeps the first value", "b=2&a=1&b=3", "a=1&b=2", map[string]string{"b": "2"}},
		{"empty value is signed", "a=&b=1", "a=&b=1", map[string]string{"a": ""}},
		{"name without '=' is an empty value", "a&b=1", "a=&b=1", map[string]string{"a": ""}},
		{"empty pairs skipped", "&&a=1&&", "a=1", nil},
		{"empty names skipped, an encoded '=' is a name", "=x&a=1&%3D=2", "==2&a=1", map[string]string{"=": "2"}},
		{"'=' inside a value", "a=x=y", "a=x=y", map[string]string{"a": "x=y"}},
		{"';' is an ordinary character", "a=1;b=2&c=3", "a=1;b=2&c=3", map[string]string{"a": "1;b=2"}},
		{"plus is a space", "name=ACME+Ltd", "name=ACME Ltd", map[string]string{"name": "ACME Ltd"}},
		{"percent escapes decode", "email=a%40b.com&x=%E4%B8%AD", "email=a@b.com&x=中", map[string]string{"x": "中"}},
		{"encoded names decode before sorting", "b=1&%61=2", "a=2&b=1", map[string]string{"a": "2"}},
		{"java order, not byte order", "%EF%BC%A1=1&%F0%9F%98%80=2", "😀=2&Ａ=1", nil},
		{"upper case sorts first", "b=1&B=2&a=3", "B=2&a=3&b=1", nil},
		{"authToken excluded anywhere", "authToken=x&a=1", "a=1", map[string]string{ParamAuthToken: "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(tc.raw)
			require.NoError(t, err)
			signed := string(appendStringToSign(nil, q.params))
			assert.Equal(t, tc.signed, signed)
			for k, v := range tc.get {
				got, ok := q.Lookup(k)
				assert.True(t, ok, k)
				assert.Equal(t, v, got, k)
			}
			_, ok := q.Lookup("absent")
			assert.False(t, ok)
			assert.Equal(t, "", q.Get("absent"))
		})
	}
}

func TestParseQueryRefusesBadEscapes(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"a=%", "a=%4", "a=%zz", "%=1", "a=1&b=%G0"} {
		_, err := ParseQuery(raw)
		assert.ErrorIs(t, err, ErrMalformed, raw)
	}
}

// signWithStdlib is an independent oracle: HMAC over a given signed string.
func signWithStdlib(key, ts, signed string) string {
	h := hmac.New(sha256.New, []byte(key+ts))
	h.Write([]byte(signed))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// TestBase64ValuesInQuery covers encrypted mobilePhone/email values, whose
// Base64 holds '+', '/' and '=', arriving in each way the spec describes.
func TestBase64ValuesInQuery(t *testing.T) {
	t.Parallel()
	const phone = "A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI="
	const email = "A1b2C3d4E5f6G7h8q+h4nuZNlRTzxpqAOqs2A0w=="
	base := "activity=newInstance&customerName=ACME+Ltd&timeStamp=" + specV1TS
	signedPlus := "activity=newInstance&customerName=ACME Ltd&email=" + email + "&mobilePhone=" + phone + "&timeStamp=" + specV1TS
	signedSpace := strings.ReplaceAll(signedPlus, "+", " ")
	tests := []struct {
		name  string
		query string // raw, without authToken
		token string // what KooGallery signed
		phone string // value a handler reads (then repairs ' ' to '+' before decrypting)
	}{
		{
			name:  "percent-encoded, as newer KooGallery docs show",
			query: base + "&mobilePhone=" + url.QueryEscape(phone) + "&email=" + url.QueryEscape(email),
			token: signWithStdlib(specKey, specV1TS, signedPlus),
			phone: phone,
		},
		{
			name:  "raw '+', signed over the original '+'",
			query: base + "&mobilePhone=" + phone + "&email=" + email,
			token: signWithStdlib(specKey, specV1TS, "activity=newInstance&customerName=ACME+Ltd&email="+email+"&mobilePhone="+phone+"&timeStamp="+specV1TS),
			phone: phone, // the reading that verified keeps '+'

		},
		{
			name:  "raw '+', signed over what a servlet decodes (spaces)",
			query: base + "&mobilePhone=" + phone + "&email=" + email,
			token: signWithStdlib(specKey, specV1TS, signedSpace),
			phone: strings.ReplaceAll(phone, "+", " "),
		},
	}
	for _, tc := range tests {
		for _, tokenEnc := range []string{"escaped", "raw"} {
			t.Run(tc.name+"/token "+tokenEnc, func(t *testing.T) {
				t.Parallel()
				tok := url.QueryEscape(tc.token)
				if tokenEnc == "raw" {
					tok = tc.token // its '+' becomes ' ' and is repaired
				}
				q, err := ParseQuery(tc.query + "&authToken=" + tok)
				require.NoError(t, err)
				assert.NoError(t, q.Verify(specKey))
				assert.Equal(t, tc.phone, q.Get("mobilePhone"))
				assert.ErrorIs(t, q.Verify("other-key"), ErrMismatch)
			})
		}
	}
}

// What a handler reads is what the authToken covered: when the token
// verifies only with '+' kept literal, the values are read that way too.
func TestVerifyDeliversTheReadingThatVerified(t *testing.T) {
	t.Parallel()
	signed := "email=a+b@x.com&orderId=O+1&tenant=C++Team&timeStamp=" + specV1TS
	token := url.QueryEscape(signWithStdlib(specKey, specV1TS, signed))
	literal := "orderId=O+1&tenant=C++Team&email=a+b@x.com&timeStamp=" + specV1TS + "&authToken=" + token
	q, err := ParseQuery(literal)
	require.NoError(t, err)
	assert.Equal(t, ReadingForm, q.Reading())
	assert.Equal(t, "O 1", q.Get("orderId"), "before Verify: the form reading")
	require.NoError(t, q.Verify(specKey))
	assert.Equal(t, ReadingLiteralPlus, q.Reading())
	assert.Equal(t, "O+1", q.Get("orderId"))
	assert.Equal(t, "C++Team", q.Get("tenant"))
	assert.Equal(t, "a+b@x.com", q.Values().Get("email"))
	v, ok := q.Lookup(ParamAuthToken)
	assert.True(t, ok)
	mac, ok := TokenMAC(v)
	assert.True(t, ok, "the authToken still reads as a MAC")
	want, _ := TokenMAC(signWithStdlib(specKey, specV1TS, signed))
	assert.Equal(t, want, mac)

	// Encoded as KooGallery documents: the form reading verifies.
	encoded := "orderId=O%2B1&tenant=C%2B%2BTeam&email=a%2Bb%40x.com&timeStamp=" + specV1TS + "&authToken=" + token
	q, err = ParseQuery(encoded)
	require.NoError(t, err)
	require.NoError(t, q.Verify(specKey))
	assert.Equal(t, ReadingForm, q.Reading())
	assert.Equal(t, "O+1", q.Get("orderId"))

	// A failed Verify leaves the form reading in place.
	q, err = ParseQuery(literal)
	require.NoError(t, err)
	assert.Error(t, q.Verify("other-key"))
	assert.Equal(t, ReadingForm, q.Reading())
	assert.Equal(t, "O 1", q.Get("orderId"))
}

// FormQuery re-encodes the values of the verified reading so that any
// form decoder reads them as they were signed.
func TestFormQuery(t *testing.T) {
	t.Parallel()
	signed := "orderId=O+1&tenant=C++Team&timeStamp=" + specV1TS
	token := signWithStdlib(specKey, specV1TS, signed)
	q, err := ParseQuery("orderId=O+1&tenant=C++Team&timeStamp=" + specV1TS + "&authToken=" + url.QueryEscape(token))
	require.NoError(t, err)
	require.NoError(t, q.Verify(specKey))
	again, err := ParseQuery(q.FormQuery())
	require.NoError(t, err)
	assert.Equal(t, "O+1", again.Get("orderId"))
	assert.Equal(t, "C++Team", again.Get("tenant"))
	require.NoError(t, again.Verify(specKey), "the re-encoded query verifies under the form reading")
	assert.Equal(t, ReadingForm, again.Reading())
}

func TestLiteralPlusFallbackIsNotAWildcard(t *testing.T) {
	t.Parallel()
	// Signed over "x+y"; a query saying "x y" (%20) must not verify, and
	// neither must "x-y".
	token := url.QueryEscape(signWithStdlib(specKey, specV1TS, "a=x+y&timeStamp="+specV1TS))
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"a=x+y", true},
		{"a=x%2By", true},
		{"a=x%20y", false},
		{"a=x-y", false},
		{"a=x++y", false},
	} {
		q, err := ParseQuery(tc.raw + "&timeStamp=" + specV1TS + "&authToken=" + token)
		require.NoError(t, err)
		if tc.ok {
			assert.NoError(t, q.Verify(specKey), tc.raw)
		} else {
			assert.ErrorIs(t, q.Verify(specKey), ErrMismatch, tc.raw)
		}
	}
}

func TestSignRefusesMissingTimeStamp(t *testing.T) {
	t.Parallel()
	_, err := SignQuery(specKey, url.Values{"activity": {"newInstance"}})
	assert.ErrorIs(t, err, ErrMissingTimeStamp)
	_, err = SignQuery(specKey, url.Values{ParamTimeStamp: {}})
	assert.ErrorIs(t, err, ErrMissingTimeStamp)
	err = VerifyQueryValues(specKey, url.Values{ParamTimeStamp: {specV1TS}})
	assert.ErrorIs(t, err, ErrMissingToken)
}

func TestVerifyValuesFirstValueAndNoValues(t *testing.T) {
	t.Parallel()
	v := url.Values{"a": {"1", "2"}, "empty": {}, ParamTimeStamp: {specV1TS}}
	assert.Equal(t, "a=1&timeStamp="+specV1TS, QueryStringToSign(v))
	token, err := SignQuery(specKey, v)
	require.NoError(t, err)
	assert.Equal(t, signWithStdlib(specKey, specV1TS, "a=1&timeStamp="+specV1TS), token)
	v.Set(ParamAuthToken, token)
	assert.NoError(t, VerifyQueryValues(specKey, v))
	v["a"] = []string{"2", "1"}
	assert.ErrorIs(t, VerifyQueryValues(specKey, v), ErrMismatch)
}

// TestSignVerifyRoundTripRandom signs random parameters the way
// koogallerytest sends them (url.Values.Encode) and verifies the raw query.
func TestSignVerifyRoundTripRandom(t *testing.T) {
	t.Parallel()
	chars := []rune("aZ09+/= &%?;#é中😀Ａ\t")
	gen := func(max int) string {
		r := make([]rune, randInt(t, max+1))
		for i := range r {
			r[i] = chars[randInt(t, len(chars))]
		}
		return string(r)
	}
	for range 300 {
		v := url.Values{ParamTimeStamp: {gen(20)}}
		v[ParamTimeStamp][0] += "1" // never empty
		for range randInt(t, 8) {
			name := gen(6)
			if name == "" || name == ParamAuthToken {
				continue
			}
			v.Add(name, gen(30))
		}
		key := gen(40)
		token, err := SignQuery(key, v)
		require.NoError(t, err)
		v.Set(ParamAuthToken, token)
		raw := v.Encode()
		q, err := ParseQuery(raw)
		require.NoError(t, err, raw)
		require.NoError(t, q.Verify(key), raw)
		for name, vs := range v {
			assert.Equal(t, vs[0], q.Get(name), "%q in %q", name, raw)
		}
		assert.Len(t, q.Values(), len(v))
		assert.ErrorIs(t, q.Verify(key+"x"), ErrMismatch)
	}
}

func FuzzQueryVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw, key string) {
		q, err := ParseQuery(raw)
		if err != nil {
			if q != nil {
				t.Fatal("query returned with an error")
			}
			return
		}
		_ = q.Verify(key)
		// Re-signing what was read and sending it the koogallerytest way
		// must verify.
		v := q.Values()
		v.Del(ParamAuthToken)
		if v.Get(ParamTimeStamp) == "" {
			v.Set(ParamTimeStamp, specV1TS)
		}
		token, err := SignQuery(key, v)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		v.Set(ParamAuthToken, token)
		q2, err := ParseQuery(v.Encode())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if err := q2.Verify(key); err != nil {
			t.Fatalf("re-signed query does not verify: %v", err)
		}
	})
}

// What a verified query delivers is what its authToken covers: whatever
// reading verified, re-signing the values it gives reproduces the token's
// MAC. The seed signs the literal '+' reading, so the fallback is explored.
func FuzzVerifiedValuesAreSigned(f *testing.F) {
	f.Add("orderId=O+1&tenant=C++Team&email=a+b@x.com", "k")
	f.Add("a=x%2By&b=%20+", "key")
	f.Add("a=1&a=2&b=", "k")
	f.Fuzz(func(t *testing.T, rawParams, key string) {
		if key == "" || len(rawParams) > 2048 {
			return
		}
		// Sign the literal-'+' reading of the fuzzed pairs, as a sender that
		// forgot to encode '+' would.
		literal, err := parseParams(rawParams+"&timeStamp="+specV1TS, url.PathUnescape)
		if err != nil {
			return
		}
		mac := sum(key, specV1TS, appendStringToSign(nil, literal))
		raw := rawParams + "&timeStamp=" + specV1TS + "&authToken=" + url.QueryEscape(encodeToken(&mac))
		q, err := ParseQuery(raw)
		if err != nil {
			return
		}
		if err := q.Verify(key); err != nil {
			return // another reading of the same bytes may fail; it must not misdeliver
		}
		v := q.Values()
		v.Del(ParamAuthToken)
		token, err := SignQuery(key, v)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		got, _ := TokenMAC(token)
		if got != mac {
			t.Fatalf("the values delivered (reading %d) are not what was signed: %q", q.Reading(), raw)
		}
		again, err := ParseQuery(q.FormQuery())
		if err != nil {
			t.Fatalf("FormQuery: %v", err)
		}
		if !reflect.DeepEqual(again.Values(), q.Values()) {
			t.Fatalf("FormQuery does not form-decode to the verified reading: %q", raw)
		}
	})
}

func randInt(t *testing.T, n int) int {
	t.Helper()
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	require.NoError(t, err)
	return int(v.Int64())
}
