package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// signedAt is when the captured calls were made: a fixed instant, given to
// the senders and to verify --at, so the tests pass on any date.
var signedAt = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

func atFlag(d time.Duration) string { return signedAt.Add(d).Format(time.RFC3339) }

// wire renders a request in HTTP/1.1 wire form, as a proxy would log it.
func wire(method, rawURL string, header map[string]string, body []byte) string {
	u, _ := url.Parse(rawURL)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), "seller.example.com")
	keys := make([]string, 0, len(header))
	for k := range header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, header[k])
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.String()
}

func v2Capture(t *testing.T, kit bool, body string, opts ...koogallerytest.CallOption) string {
	t.Helper()
	s := koogallerytest.NewSender(testAccessKey, koogallerytest.WithClock(func() time.Time { return signedAt }))
	target := "https://seller.example.com/isv/produce"
	var c *koogallerytest.Call
	var err error
	if kit {
		s = koogallerytest.NewSender(testKitKey, koogallerytest.WithClock(func() time.Time { return signedAt }))
		c, err = s.SignKit(target+"/produceAPI/v2/tenantSync", body, opts...)
	} else {
		c, err = s.Sign(target, body, opts...)
	}
	require.NoError(t, err)
	h := map[string]string{}
	for k := range c.Header {
		h[k] = c.Header.Get(k)
	}
	return wire("POST", c.URL, h, c.Body)
}

func verifyRun(t *testing.T, capture string, args ...string) runResult {
	t.Helper()
	return kgctl(t, keyEnv, capture, allKeys, append([]string{"verify"}, args...)...)
}

const newInstanceBody = `{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}`

func TestVerifyV2(t *testing.T) {
	t.Parallel()
	capture := v2Capture(t, false, newInstanceBody)

	r := verifyRun(t, capture, "--at", atFlag(2*time.Second))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "as saas (SaaS V2 basic interface)")
	assert.Contains(t, r.stdout, "PASS  signature ")
	assert.Contains(t, r.stdout, "verifies over the body as received")
	assert.Contains(t, r.stdout, "NewInstance(orderId=CS1, orderLineId=CS1-000001)")
	assert.Contains(t, r.stdout, "The request verifies.")

	// An unsorted body is signed over its canonical form.
	r = verifyRun(t, v2Capture(t, false, `{"testFlag":"1","orderId":"CS1","activity":"orderNotify","orderLineId":"CS1-1","x":null}`), "--at", atFlag(0))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "as order")
	assert.Contains(t, r.stdout, "verifies over the canonical form")

	// Judged ten minutes later: the window fails, and the handler agrees.
	r = verifyRun(t, capture, "--at", atFlag(10*time.Minute))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  freshness window")
	assert.Contains(t, r.stdout, "10m0s before the time judged at")
	assert.Contains(t, r.stdout, "timestamp outside the freshness window")
	assert.Contains(t, r.stdout, "PASS  signature") // the signature itself is fine

	// Another key: no form matches.
	r = kgctl(t, []string{cmdutil.EnvAccessKey + "=another-key"}, capture, nil, "verify", "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  signature")
	assert.Contains(t, r.stdout, "matches no form")
	assert.Contains(t, r.stdout, "signature mismatch") // the handler's log

	// A body changed on the way.
	r = verifyRun(t, strings.Replace(capture, `"b-1"`, `"b-2"`, 1), "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "matches no form")

	// A kit-signed call posted to the basic interface.
	kitAsV2 := v2Capture(t, true, `{"tenantId":"t1","flag":1}`)
	kitAsV2 = strings.Replace(kitAsV2, "/isv/produce/produceAPI/v2/tenantSync", "/isv/produce", 1)
	r = kgctl(t, []string{cmdutil.EnvAccessKey + "=" + testKitKey}, kitAsV2, nil, "verify", "--family", "saas", "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "missing signature, timestamp, nonce")

	// A capture without Content-Length and with a newline after the body
	// still verifies, over the canonical form.
	noCL := strings.Replace(capture, fmt.Sprintf("Content-Length: %d\r\n", len(newInstanceBody)), "", 1) + "\n"
	r = verifyRun(t, noCL, "--at", atFlag(0))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "verifies over the canonical form")

	// A body signed with the kit's formula, sent to the basic interface.
	kitSigned := v2Capture(t, true, newInstanceBody)
	kitSigned = strings.Replace(kitSigned, "/isv/produce/produceAPI/v2/tenantSync", "/isv/produce", 1)
	var xs, xt, xn string
	for _, l := range strings.Split(kitSigned, "\r\n") {
		k, v, _ := strings.Cut(l, ": ")
		switch strings.ToLower(k) {
		case "x-sign":
			xs = v
		case "x-timestamp":
			xt = v
		case "x-nonce":
			xn = v
		}
	}
	asQuery := strings.Replace(kitSigned, "POST /isv/produce HTTP/1.1", "POST /isv/produce?signature="+xs+"&timestamp="+xt+"&nonce="+xn+" HTTP/1.1", 1)
	r = kgctl(t, []string{cmdutil.EnvAccessKey + "=" + testKitKey}, asQuery, nil, "verify", "--family", "saas", "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "matches only the kit's one-stage formula")

	// A leading zero moved into the timestamp is refused.
	zero := regexpReplace(capture, `timestamp=(\d+)`, "timestamp=0$1")
	r = verifyRun(t, zero, "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  timestamp form")
	assert.Contains(t, r.stdout, "leading zero")
}

func TestVerifyKitV2AndWrongScheme(t *testing.T) {
	t.Parallel()
	body := `{"tenantId": "t1", "instanceId": "", "orderId": "", "tenantCode": "acme", "name": "ACME", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 1}`
	capture := v2Capture(t, true, body)
	r := kgctl(t, keyEnv, capture, allKeys, "verify", "--at", atFlag(0))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "as kit (joint-operation kit V2)")
	assert.Contains(t, r.stdout, "verifies over the canonical form")
	assert.Contains(t, r.stdout, "TenantSync(tenantId=t1, flag=add)")

	// The same headers, but x-sign computed with the basic interface's
	// two-stage formula.
	var h struct{ sig, ts, nonce string }
	for _, l := range strings.Split(capture, "\r\n") {
		k, v, _ := strings.Cut(l, ": ")
		switch strings.ToLower(k) {
		case "x-sign":
			h.sig = v
		case "x-timestamp":
			h.ts = v
		case "x-nonce":
			h.nonce = v
		}
	}
	s := koogallerytest.NewSender(testKitKey, koogallerytest.WithClock(func() time.Time { return signedAt }))
	v2, err := s.Sign("https://seller.example.com/x", body, koogallerytest.WithNonce(h.nonce))
	require.NoError(t, err)
	u, _ := url.Parse(v2.URL)
	wrong := strings.Replace(capture, h.sig, u.Query().Get("signature"), 1)
	r = kgctl(t, keyEnv, wrong, allKeys, "verify", "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "matches only the V2 two-stage formula")
}

func TestVerifyV1(t *testing.T) {
	t.Parallel()
	v1 := koogallerytest.NewV1Sender(testV1Key, koogallerytest.WithClock(func() time.Time { return signedAt }))
	c, err := v1.Sign("https://seller.example.com/isv/v1", map[string]string{"activity": "expireInstance", "instanceId": "i-1", "orderId": "O+1 x", "testFlag": "1"})
	require.NoError(t, err)
	capture := wire("GET", c.URL, nil, nil)
	r := verifyRun(t, capture, "--at", atFlag(time.Hour))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "as saas-v1")
	assert.Contains(t, r.stdout, "PASS  freshness window")
	assert.Contains(t, r.stdout, "ExpireInstance(instanceId=i-1)")

	r = verifyRun(t, capture, "--at", atFlag(25*time.Hour))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  freshness window")

	// A signer that hashed the still-encoded values, the FAQ's usual cause.
	u, _ := url.Parse(c.URL)
	q := u.Query()
	var pairs []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if !strings.HasPrefix(kv, "authToken=") {
			pairs = append(pairs, kv)
		}
	}
	sort.Strings(pairs)
	mac := hmac.New(sha256.New, []byte(testV1Key+q.Get("timeStamp")))
	mac.Write([]byte(strings.Join(pairs, "&")))
	q.Set("authToken", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	encoded := wire("GET", "https://seller.example.com/isv/v1?"+q.Encode(), nil, nil)
	r = verifyRun(t, encoded, "--at", atFlag(0))
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "matches only the still-encoded parameters")
	assert.Contains(t, r.stdout, "decode every value before signing")
}

func TestVerifyKitV1AndJSONCapture(t *testing.T) {
	t.Parallel()
	v1 := koogallerytest.NewV1Sender(testKitKey, koogallerytest.WithClock(func() time.Time { return signedAt }))
	c, err := v1.SignKit("https://seller.example.com/isv/produce/produceAPI/singleOrgSync",
		map[string]any{"tenantId": "t1", "orgCode": "o1", "orgName": "R&D", "flag": 1, "testFlag": 1})
	require.NoError(t, err)
	capture, err := json.Marshal(map[string]any{"method": "POST", "url": c.URL,
		"headers": map[string]string{"authToken": c.Header.Get("authToken"), "Content-Type": "application/json"}, "body": string(c.Body)})
	require.NoError(t, err)
	r := kgctl(t, keyEnv, string(capture), allKeys, "verify", "--at", atFlag(0), "--json")
	require.Equal(t, 0, r.code, r)
	var out struct {
		Family   string           `json:"family"`
		Verifies bool             `json:"verifies"`
		Checks   []exchange.Check `json:"checks"`
	}
	decodeJSON(t, r.stdout, &out)
	assert.Equal(t, "kit-v1", out.Family)
	assert.True(t, out.Verifies)
	last := out.Checks[len(out.Checks)-1]
	assert.Equal(t, "SDK handler", last.Name)
	assert.Equal(t, "000000", last.ResultCode)
	assert.Contains(t, last.Reason, "SingleOrgSync(orgCode=o1)")

	// Bad input is a usage error, not a panic.
	for _, in := range []string{"", "GET", "{not json", `{"method":"POST","url":"https://x/y","headers":[1]}`} {
		r := kgctl(t, keyEnv, in, allKeys, "verify")
		assert.Equal(t, 2, r.code, "%q: %s", in, r)
	}
	r = kgctl(t, keyEnv, "POST /isv/produce HTTP/1.1\r\nHost: x\r\n\r\n{}", allKeys, "verify")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "cannot tell the family")
}

func TestEncryptDecrypt(t *testing.T) {
	t.Parallel()
	// The spec's vectors for the key below.
	const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	env := []string{cmdutil.EnvV1Key + "=" + key}
	r := kgctl(t, env, "", []string{key}, "decrypt", "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg=")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "Admin@KooGallery\n", r.stdout)
	assert.Contains(t, r.stderr, "AES-256")
	r = kgctl(t, env, "A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI=\n", []string{key}, "decrypt", "-")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "Admin@KooGallery\n", r.stdout)
	assert.Contains(t, r.stderr, "AES-128")

	for _, typ := range []string{"1", "2"} {
		r := kgctl(t, env, "", []string{key}, "encrypt", "--type", typ, "S3cret pass")
		require.Equal(t, 0, r.code, r)
		enc := strings.TrimSpace(r.stdout)
		assert.Len(t, enc[:16], 16)
		r = kgctl(t, env, "", []string{key}, "decrypt", "--type", typ, enc)
		require.Equal(t, 0, r.code, r)
		assert.Equal(t, "S3cret pass\n", r.stdout)
		other := map[string]string{"1": "2", "2": "1"}[typ]
		r = kgctl(t, env, "", []string{key}, "decrypt", "--type", other, enc)
		assert.Equal(t, 1, r.code, r)
	}

	r = kgctl(t, []string{cmdutil.EnvV1Key + "=the-wrong-key-123"}, "", []string{"the-wrong-key-123"}, "decrypt", "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg=")
	assert.Equal(t, 1, r.code, r)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "does not decrypt")
	r = kgctl(t, env, "", []string{key}, "decrypt", "short")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "not an encrypted field")

	// A plaintext too long for KooGallery is encrypted with a warning.
	r = kgctl(t, env, "", []string{key}, "encrypt", strings.Repeat("x", 100))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stderr, "at most 128")
}

func regexpReplace(s, pattern, repl string) string {
	return regexp.MustCompile(pattern).ReplaceAllString(s, repl)
}

// TestVerifyTheSpecVectorAndACallbackCapture: the README's examples.
func TestVerifyTheSpecVectorAndACallbackCapture(t *testing.T) {
	t.Parallel()
	const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	capture := "POST /isv/produce?signature=8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318&timestamp=1795768200123&nonce=Q7ZP0L3XW9M2K8RT HTTP/1.1\n" +
		"Host: seller.example.com\nContent-Type: application/json;charset=utf8\n\n" +
		`{"orderLineId":"CS2611270001ABCDE-000001","activity":"newInstance","testFlag":"0","orderId":"CS2611270001ABCDE","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","extra":null}` + "\n"
	env := []string{cmdutil.EnvAccessKey + "=" + key}
	r := kgctl(t, env, capture, []string{key}, "verify", "--at", "2026-11-27T08:30:00Z")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "verifies over the canonical form")
	r = kgctl(t, env, capture, []string{key}, "verify")
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  freshness window")

	srv := httptest.NewServer(saas.NewHandler(testAccessKey, &memProvider{}, quiet))
	defer srv.Close()
	r = kgctl(t, keyEnv, "", allKeys, "callback", "saas", "newInstance", "--url", srv.URL, "--json")
	require.Equal(t, 0, r.code, r)
	v := kgctl(t, keyEnv, r.stdout, allKeys, "verify")
	require.Equal(t, 0, v.code, v)
	assert.Contains(t, v.stdout, "The request verifies.")
	v = kgctl(t, []string{cmdutil.EnvAccessKey + "=another-key"}, r.stdout, nil, "verify")
	require.Equal(t, 1, v.code, v)
	assert.Contains(t, v.stdout, "matches no form")
}

// A body carrying \u and \/ escapes, signed the way Huawei's own demo signs
// it (over its Jackson re-serialisation, escapes decoded), verifies: kgctl
// names the form, and the SDK's handler accepts it.
func TestVerifyJacksonForm(t *testing.T) {
	t.Parallel()
	body := `{"orderId":"CS\u4e2d1","activity":"orderNotify","orderLineId":"CS1\/1","testFlag":"1"}`
	jackson, err := canonjson.AppendJackson(nil, []byte(body), canonjson.BasicForm)
	require.NoError(t, err)
	require.Equal(t, `{"activity":"orderNotify","orderId":"CS中1","orderLineId":"CS1/1","testFlag":"1"}`, string(jackson))
	ts := fmt.Sprint(signedAt.UnixMilli())
	sig := callback.NewKey(testAccessKey).SignV2("JACKSON000000001", ts, jackson)
	target := "https://seller.example.com/isv/order?" + url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {"JACKSON000000001"}}.Encode()
	capture := wire("POST", target, map[string]string{"Content-Type": "application/json"}, []byte(body))

	r := verifyRun(t, capture, "--at", atFlag(0))
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "verifies over the Jackson form of Huawei's demo")
	assert.Contains(t, r.stdout, "The request verifies.")
}
