package auth_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

// serverSide returns what a server receives for the signed client request r:
// r is written to the wire and parsed back as Go's server does.
func serverSide(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	out := r.Clone(r.Context())
	if r.GetBody != nil {
		body, err := r.GetBody()
		require.NoError(t, err)
		out.Body = body
	}
	var wire bytes.Buffer
	require.NoError(t, out.Write(&wire))
	got, err := http.ReadRequest(bufio.NewReader(&wire))
	require.NoError(t, err)
	return got
}

func lookupOne(ak, sk string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == ak {
			return sk, true
		}
		return "", false
	}
}

func TestVerifierAcceptsVectorA1(t *testing.T) {
	t.Parallel()
	r, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2207261447AUY4H&orderLineId=CS2207261447AUY4H-000001", nil)
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("X-Sdk-Date", "20240315T083000Z")
	r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=HWAKEXAMPLE000000001, SignedHeaders=content-type;host;x-sdk-date, Signature=1ee1887c9415fa71025226fe28f1d581c7a26eb71aeac98de17d37ca854d3bfe")
	v := auth.NewVerifier(lookupOne(vecAK, vecSK), auth.WithClock(fixedClock("20240315T083500Z")))
	require.NoError(t, v.Verify(serverSide(t, r)))
}

func TestVerifierFailures(t *testing.T) {
	t.Parallel()
	const date = "20261127T083000Z"
	s, err := auth.NewSigner("AK1", "SECRET-SK-1", auth.WithClock(fixedClock(date)))
	require.NoError(t, err)
	signed := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "https://mkt.example.com/p/q?b=2&a=1", strings.NewReader(`{"x":1}`))
		r.Header.Set("Content-Type", "application/json")
		require.NoError(t, s.Sign(r))
		return serverSide(t, r)
	}
	v := auth.NewVerifier(lookupOne("AK1", "SECRET-SK-1"), auth.WithClock(fixedClock(date)), auth.WithMaxBodyBytes(64))
	require.NoError(t, v.Verify(signed()))

	type mutate func(r *http.Request)
	cases := []struct {
		name string
		want error
		m    mutate
	}{
		{"no authorization", auth.ErrMalformed, func(r *http.Request) { r.Header.Del("Authorization") }},
		{"two authorizations", auth.ErrMalformed, func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }},
		{"other algorithm", auth.ErrMalformed, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
		}},
		{"unsorted signed headers", auth.ErrMalformed, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host;x-sdk-date", "host;content-type;x-sdk-date", 1))
		}},
		{"date not signed", auth.ErrMalformed, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host;x-sdk-date", "content-type;host", 1))
		}},
		{"short signature", auth.ErrMalformed, func(r *http.Request) {
			r.Header.Set("Authorization", r.Header.Get("Authorization")[:len(r.Header.Get("Authorization"))-1])
		}},
		{"unknown key", auth.ErrUnknownAccessKey, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Access=AK1", "Access=AK2", 1))
		}},
		{"bad date", auth.ErrMalformed, func(r *http.Request) { r.Header.Set("X-Sdk-Date", "2026-11-27T08:30:00Z") }},
		{"missing date", auth.ErrMalformed, func(r *http.Request) { r.Header.Del("X-Sdk-Date") }},
		{"signed header missing", auth.ErrMalformed, func(r *http.Request) { r.Header.Del("Content-Type") }},
		{"changed date", auth.ErrMismatch, func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20261127T083001Z") }},
		{"changed body", auth.ErrMismatch, func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"x":2}`)) }},
		{"changed path", auth.ErrMismatch, func(r *http.Request) { r.URL.Path = "/p/r" }},
		{"changed query", auth.ErrMismatch, func(r *http.Request) { r.URL.RawQuery = "a=1&b=3" }},
		{"added query", auth.ErrMismatch, func(r *http.Request) { r.URL.RawQuery += "&c=" }},
		{"changed host", auth.ErrMismatch, func(r *http.Request) { r.Host = "mkt.example.com:443" }},
		{"changed method", auth.ErrMismatch, func(r *http.Request) { r.Method = http.MethodPut }},
		{"changed content type", auth.ErrMismatch, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }},
		{"body too large", auth.ErrMalformed, func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", 65))) }},
		{"bad query", auth.ErrMalformed, func(r *http.Request) { r.URL.RawQuery = "a=%zz" }},
	}
	for _, c := range cases {
		r := signed()
		c.m(r)
		err := v.Verify(r)
		require.Error(t, err, c.name)
		assert.ErrorIs(t, err, c.want, c.name)
		var ve *auth.VerifyError
		require.ErrorAs(t, err, &ve, c.name)
		assert.NotContains(t, err.Error(), "SECRET-SK-1", c.name)
		if c.want == auth.ErrMismatch {
			assert.Contains(t, ve.CanonicalRequest, "\nhost:", c.name)
			assert.Contains(t, err.Error(), "canonicalRequest:"+r.Method+"|", c.name)
			assert.Equal(t, "AK1", ve.AccessKey)
		}
	}

	// Expired, both directions, at the edge of the 15-minute window.
	base, _ := time.Parse(auth.DateLayout, date)
	for _, off := range []time.Duration{15*time.Minute + time.Second, -15*time.Minute - time.Second} {
		v := auth.NewVerifier(lookupOne("AK1", "SECRET-SK-1"), auth.WithClock(func() time.Time { return base.Add(off) }))
		assert.ErrorIs(t, v.Verify(signed()), auth.ErrExpired, off)
	}
	for _, off := range []time.Duration{15 * time.Minute, -15 * time.Minute} {
		v := auth.NewVerifier(lookupOne("AK1", "SECRET-SK-1"), auth.WithClock(func() time.Time { return base.Add(off) }))
		assert.NoError(t, v.Verify(signed()), off)
	}
	v5 := auth.NewVerifier(lookupOne("AK1", "SECRET-SK-1"), auth.WithMaxSkew(time.Minute), auth.WithClock(func() time.Time { return base.Add(2 * time.Minute) }))
	assert.ErrorIs(t, v5.Verify(signed()), auth.ErrExpired)
}

func TestVerifierLeavesBodyReadable(t *testing.T) {
	t.Parallel()
	s, _ := auth.NewSigner("ak", "sk")
	v := auth.NewVerifier(lookupOne("ak", "sk"))
	r, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader("payload"))
	require.NoError(t, s.Sign(r))
	sr := serverSide(t, r)
	require.NoError(t, v.Verify(sr))
	b, _ := io.ReadAll(sr.Body)
	assert.Equal(t, "payload", string(b))
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	sig := strings.Repeat("ab", 32)
	a, err := auth.ParseAuthorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=" + sig)
	require.NoError(t, err)
	assert.Equal(t, auth.Authorization{AccessKey: "AK", SignedHeaders: []string{"host", "x-sdk-date"}, Signature: sig}, a)
	_, err = auth.ParseAuthorization("SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date,Signature=" + sig)
	assert.NoError(t, err, "spaces after commas are optional")

	for _, bad := range []string{
		"",
		"SDK-HMAC-SHA256",
		"SDK-HMAC-SHA256 Access=AK",
		"SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date;x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=Host;x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=authorization;x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=" + strings.ToUpper(sig),
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=" + sig + "00",
		"SDK-HMAC-SHA256 Signature=" + sig + ", Access=AK, SignedHeaders=x-sdk-date",
		"SDK-HMAC-SHA256 Credential=AK/20240101/r/s/sdk_request, SignedHeaders=x-sdk-date, Signature=" + sig,
	} {
		_, err := auth.ParseAuthorization(bad)
		assert.Error(t, err, bad)
	}
}

// genString draws a string from an alphabet full of characters that escape
// differently in paths, queries and the signature.
func genString(rng *rand.Rand, maxLen int) string {
	alphabet := []string{"a", "Z", "0", "-", "_", ".", "~", " ", "+", "*", "%", "/", "?", "#", "&", "=", ";", "!", "'", "(", ")",
		"é", "中", "😀", ":", "@", ",", "$", "[", "]", "\"", "<", ">", "\\", "^", "`", "{", "}", "|", "\t"}
	n := rng.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// genRequest builds a random client request, with the query written in one
// of the encodings a caller may produce.
func genRequest(t testing.TB, rng *rand.Rand, base string) *http.Request {
	segs := make([]string, rng.IntN(4))
	for i := range segs {
		segs[i] = strings.ReplaceAll(genString(rng, 6), "/", "")
	}
	path := "/" + strings.Join(segs, "/")
	if rng.IntN(4) == 0 {
		path += "/"
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = path
	q := url.Values{}
	for range rng.IntN(5) {
		name := strings.ReplaceAll(genString(rng, 4), ";", "")
		if name == "" {
			name = "k"
		}
		for range 1 + rng.IntN(2) {
			q.Add(name, strings.ReplaceAll(genString(rng, 8), ";", "%"))
		}
	}
	switch rng.IntN(3) {
	case 0:
		u.RawQuery = q.Encode() // '+' for spaces
	case 1:
		u.RawQuery = auth.EncodeQuery(q) // canonical, %20
	default:
		u.RawQuery = strings.ReplaceAll(q.Encode(), "%2F", "%2f") // lower-case hex
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
	method := methods[rng.IntN(len(methods))]
	var body io.Reader
	if method != http.MethodGet && rng.IntN(3) > 0 {
		body = strings.NewReader(genString(rng, 300))
	}
	r, err := http.NewRequest(method, u.String(), body)
	require.NoError(t, err)
	if rng.IntN(2) == 0 {
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if rng.IntN(4) == 0 {
		r.Header.Set("X-Sdk-Date", "19990101T000000Z") // stale, must be replaced
	}
	return r
}

// TestRoundTripGenerated signs thousands of generated requests through
// Transport against an httptest server that decodes them as Go's server does
// and verifies them with the Verifier.
func TestRoundTripGenerated(t *testing.T) {
	t.Parallel()
	n := 3000
	if testing.Short() {
		n = 300
	}
	v := auth.NewVerifier(lookupOne("AKRT", "SKRT"))
	var failures int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		a, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if want := refAuthorization(t, r, "AKRT", "SKRT", a.SignedHeaders); want != r.Header.Get("Authorization") {
			http.Error(w, "reference implementation disagrees: "+want, http.StatusUnauthorized)
			return
		}
		// Echo what the server decoded, for the client to compare.
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s\n%s\n%d", r.URL.Path, r.URL.Query().Encode(), len(b))
	}))
	defer srv.Close()
	s, err := auth.NewSigner("AKRT", "SKRT", auth.WithSignedHeaders("X-Stage"))
	require.NoError(t, err)
	client := &http.Client{Transport: &auth.Transport{Signer: s}}

	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range n {
		r := genRequest(t, rng, srv.URL)
		if i%5 == 0 {
			r.Header.Set("X-Stage", "RELEASE")
		}
		wantPath, wantQuery := r.URL.Path, r.URL.Query().Encode()
		wantLen := r.ContentLength
		resp, err := client.Do(r)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !assert.Equal(t, http.StatusOK, resp.StatusCode, "request %d %s %s: %s", i, r.Method, r.URL.String(), b) {
			if failures++; failures > 5 {
				t.FailNow()
			}
			continue
		}
		if wantPath == "" {
			wantPath = "/"
		}
		assert.Equal(t, fmt.Sprintf("%s\n%s\n%d", wantPath, wantQuery, wantLen), string(b))
	}
}

// TestVerifierContentSHA256CannotBeSmuggled shows that X-Sdk-Content-Sha256
// only replaces the payload hash when it is signed, and that a hash it
// claims must be the body's, so a body cannot be swapped under a valid
// signature.
func TestVerifierContentSHA256CannotBeSmuggled(t *testing.T) {
	t.Parallel()
	s, _ := auth.NewSigner("ak", "sk")
	v := auth.NewVerifier(lookupOne("ak", "sk"))
	r, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{"amount":1}`))
	require.NoError(t, s.Sign(r))
	sum := sha256.Sum256([]byte(`{"amount":1}`))

	// An attacker adds the original hash as an unsigned header and swaps the body.
	forged := serverSide(t, r)
	forged.Header.Set(auth.HeaderContentSHA256, hex.EncodeToString(sum[:]))
	forged.Body = io.NopCloser(strings.NewReader(`{"amount":1000}`))
	assert.ErrorIs(t, v.Verify(forged), auth.ErrMalformed)

	// A signed hash that is not the body's hash is refused too.
	r2, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{"amount":1000}`))
	r2.Header.Set(auth.HeaderContentSHA256, hex.EncodeToString(sum[:]))
	require.NoError(t, s.Sign(r2))
	assert.ErrorIs(t, v.Verify(serverSide(t, r2)), auth.ErrMismatch)

	// A signed hash that is the body's verifies (either case of hex).
	r3, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{"amount":1}`))
	r3.Header.Set(auth.HeaderContentSHA256, strings.ToUpper(hex.EncodeToString(sum[:])))
	require.NoError(t, s.Sign(r3))
	assert.NoError(t, v.Verify(serverSide(t, r3)))

	// UNSIGNED-PAYLOAD, signed, leaves the body out by design.
	r4, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{"amount":1}`))
	r4.Header.Set(auth.HeaderContentSHA256, auth.UnsignedPayload)
	require.NoError(t, s.Sign(r4))
	assert.NoError(t, v.Verify(serverSide(t, r4)))
}
