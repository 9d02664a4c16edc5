package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"github.com/isvkit/koogallery/saas/kit"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakecmd "github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/fake"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
)

var fakeEnv = []string{
	"HUAWEICLOUD_SDK_AK=" + koogallerytest.DefaultAccessKey,
	"HUAWEICLOUD_SDK_SK=" + koogallerytest.DefaultSecretKey,
}

const queryPath = "/api/mkp-openapi-public/global/v1/order/query"

// TestFakeServesTheSDKAndKgctl runs kgctl fake as a process, points kgctl
// order at the endpoint it prints, plays the login page, and stops it with
// SIGINT.
func TestFakeServesTheSDKAndKgctl(t *testing.T) {
	t.Parallel()
	ca := t.TempDir() + "/idp.pem"
	fake := start(t, kgctlBin, nil, "fake", "--addr", "127.0.0.1:0", "--ca-file", ca)
	endpoint := fake.waitLine(t, regexp.MustCompile(`^export KOOGALLERY_ENDPOINT=(\S+)$`))[1]
	domain := fake.waitLine(t, regexp.MustCompile(`^export KOOGALLERY_OAUTH_DOMAIN=(\S+)$`))[1]
	env := append([]string{"KOOGALLERY_ENDPOINT=" + endpoint}, fakeEnv...)

	r := kgctl(t, env, "", []string{koogallerytest.DefaultSecretKey}, "order", "MOCKPERIODYEARNEW")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "Order MOCKPERIODYEARNEW  type NEW")
	assert.Contains(t, r.stdout, "line MOCKPERIODYEARNEW-000001  PERIOD 1 year")
	assert.Contains(t, r.stdout, "sku 0a4d1578-5295-46a7-92d4-7c803dccc51d")

	r = kgctl(t, env, "", nil, "order", "MOCKONDEMAND", "--line", "MOCKONDEMAND-000001", "--json")
	require.Equal(t, 0, r.code, r)
	var o struct {
		OrderID    string `json:"orderId"`
		OrderLines []struct {
			OrderLineID string `json:"orderLineId"`
		} `json:"orderLine"`
	}
	decodeJSON(t, r.stdout, &o)
	assert.Equal(t, "MOCKONDEMAND", o.OrderID)
	require.Len(t, o.OrderLines, 1)
	assert.Equal(t, "MOCKONDEMAND-000001", o.OrderLines[0].OrderLineID)

	r = kgctl(t, env, "", nil, "order", "NOSUCHORDER")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "MKT.0100")

	// The login page issues a code the SDK's OAuth client exchanges, over
	// the certificate written to --ca-file.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	root := strings.TrimSuffix(endpoint, koogallerytest.BasePath) // the open API is under the fake's BasePath, the login page is not
	resp, err := noRedirect.Get(root + fakecmd.OAuthLoginPath + "?userName=bob&state=s1&redirect_uri=" + url.QueryEscape("https://seller.example.com/cb"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "s1", back.Query().Get("state"))
	pem, err := os.ReadFile(ca)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	oauth, err := kit.NewOAuthClient(domain, koogallerytest.DefaultOAuthClientID, koogallerytest.DefaultOAuthClientSecret, kit.WithOAuthHTTPClient(hc))
	require.NoError(t, err)
	tok, err := oauth.Exchange(context.Background(), back.Query().Get("code"), "https://seller.example.com/cb")
	require.NoError(t, err)
	user, err := oauth.UserInfo(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "bob", user.UserName)

	require.NoError(t, fake.stop(t, syscall.SIGINT))
	assert.Contains(t, fake.errText(), "GET "+koogallerytest.BasePath+queryPath+" 200")
	assert.Contains(t, fake.errText(), "kgctl fake: stopped")
}

func TestCallSignsAndSends(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	env := append([]string{"KOOGALLERY_ENDPOINT=" + fake.URL}, fakeEnv...)
	secrets := []string{koogallerytest.DefaultSecretKey}

	r := kgctl(t, env, "", secrets, "call", queryPath+"?orderId=MOCKPERIODYEARNEW")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "HTTP/1.1 200 OK")
	assert.Contains(t, r.stdout, `"resultCode": "MKT.0000"`)

	// An answer KooGallery reports as a failure exits 1.
	r = kgctl(t, env, "", secrets, "call", queryPath+"?orderId=NOSUCHORDER")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "MKT.0100")

	// A body is signed and sent as JSON.
	r = kgctl(t, env, "", secrets, "call", "-X", "POST", "-d", `{"a":1}`, "-H", "X-Stage: RELEASE", "/no/such/api")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "APIGW.0101") // signed correctly, so past the signature check
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	assert.NoError(t, last.AuthError)
	assert.Equal(t, `{"a":1}`, string(last.Body))
	assert.Contains(t, last.Header.Get("Authorization"), "SignedHeaders=content-type;host;x-sdk-date;x-stage")

	// Plain http to a host other than loopback is refused before sending.
	r = kgctl(t, fakeEnv, "", secrets, "call", "http://192.0.2.1/x")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "plain http")
}

// TestDryRunPrintsAWorkingCurlCommand parses the printed curl command and
// sends exactly what it says: the fake verifies it.
func TestDryRunPrintsAWorkingCurlCommand(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	token := "temporary-security-token-value"
	env := append([]string{"KOOGALLERY_ENDPOINT=" + fake.URL, "HUAWEICLOUD_SDK_SECURITY_TOKEN=" + token}, fakeEnv...)
	r := kgctl(t, env, "", []string{koogallerytest.DefaultSecretKey, token}, "call", "--dry-run", "-d", `{"q":"a b"}`, queryPath+"?orderId=MOCK+PERIOD")
	require.Equal(t, 0, r.code, r)
	signed := koogallerytest.BasePath + queryPath // the fake's URL carries its BasePath
	for _, s := range []string{"Canonical request:\nPOST\n" + signed + "/\norderId=MOCK%20PERIOD\n", "String to sign:\nSDK-HMAC-SHA256\n",
		"canonicalRequest:POST|" + signed + "/|", "Authorization: SDK-HMAC-SHA256 Access=" + koogallerytest.DefaultAccessKey,
		"x-security-token:<redacted>", `$HUAWEICLOUD_SDK_SECURITY_TOKEN`} {
		assert.Contains(t, r.stdout, s)
	}
	assert.Empty(t, fake.Requests(), "a dry run sends nothing")

	line := r.stdout[strings.Index(r.stdout, "curl -g"):]
	line = line[:strings.Index(line, "\n")]
	args := shellSplit(t, line)
	req := curlRequest(t, args, map[string]string{"$HUAWEICLOUD_SDK_SECURITY_TOKEN": token})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.NoError(t, reqs[0].AuthError, "the curl command verifies")
}

// shellSplit splits the printed command: single-quoted and double-quoted
// words, as the shell would.
func shellSplit(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			require.GreaterOrEqual(t, j, 0)
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			require.GreaterOrEqual(t, j, 0)
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
			inWord = true
		case c == ' ':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

func curlRequest(t *testing.T, args []string, vars map[string]string) *http.Request {
	require.Equal(t, "curl", args[0])
	method, target, body := http.MethodGet, "", ""
	h := http.Header{}
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-g":
		case "-X":
			method = args[i+1]
			i++
		case "-H":
			v := args[i+1]
			for k, val := range vars {
				v = strings.ReplaceAll(v, k, val)
			}
			name, value, _ := strings.Cut(v, ": ")
			h.Add(name, value)
			i++
		case "--data-binary":
			body = args[i+1]
			i++
		default:
			target = args[i]
		}
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	req.Header = h
	return req
}

// TestCallStopsBeforeTheAKLocks: four signature failures in a row, then
// kgctl refuses the fifth, which would lock the AK; --force sends it.
func TestCallStopsBeforeTheAKLocks(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	state := "KGCTL_STATE_DIR=" + t.TempDir()
	env := []string{"KOOGALLERY_ENDPOINT=" + fake.URL, "HUAWEICLOUD_SDK_AK=" + koogallerytest.DefaultAccessKey, "HUAWEICLOUD_SDK_SK=wrong-secret-key", state}
	for i := 1; i <= 4; i++ {
		r := kgctl(t, env, "", []string{"wrong-secret-key"}, "call", queryPath+"?orderId=MOCKONDEMAND")
		require.Equal(t, 1, r.code, r)
		assert.Contains(t, r.stderr, "The gateway refused the signature")
		assert.Contains(t, r.stderr, "a wrong secret key")
		assert.Contains(t, r.stderr, "Signature failure "+string(rune('0'+i))+" in a row")
	}
	r := kgctl(t, env, "", nil, "call", queryPath+"?orderId=MOCKONDEMAND")
	assert.Equal(t, 4, r.code, r)
	assert.Contains(t, r.stderr, "one more locks it")
	assert.Len(t, fake.Requests(), 4, "the fifth was not sent")

	r = kgctl(t, env, "", nil, "call", "--force", queryPath+"?orderId=MOCKONDEMAND")
	assert.Equal(t, 1, r.code, r)
	assert.Len(t, fake.Requests(), 5)
	// The fake locked the AK: even the right key is refused now, and kgctl
	// says so without sending.
	good := append([]string{state, "KOOGALLERY_ENDPOINT=" + fake.URL}, fakeEnv...)
	r = kgctl(t, good, "", nil, "call", queryPath+"?orderId=MOCKONDEMAND")
	assert.Equal(t, 4, r.code, r)
	assert.Contains(t, r.stderr, "locked")

	// A success resets the count.
	other := koogallerytest.NewServer()
	defer other.Close()
	fresh := append([]string{"KGCTL_STATE_DIR=" + t.TempDir(), "KOOGALLERY_ENDPOINT=" + other.URL}, fakeEnv...)
	bad := append([]string{}, fresh...)
	bad = append(bad, "HUAWEICLOUD_SDK_SK=sk-not-right-1234")
	require.Equal(t, 1, kgctl(t, bad, "", nil, "call", queryPath+"?orderId=MOCKONDEMAND").code)
	require.Equal(t, 0, kgctl(t, fresh, "", nil, "call", queryPath+"?orderId=MOCKONDEMAND").code)
	r = kgctl(t, bad, "", nil, "call", queryPath+"?orderId=MOCKONDEMAND")
	assert.Contains(t, r.stderr, "Signature failure 1 in a row", r)
}

// echoGateway verifies like the API gateway and, on a mismatch, echoes its
// canonical request in the '|' form, after change rewrites it (standing in
// for what a proxy or the gateway's own canonicalisation did).
func echoGateway(t *testing.T, now func() time.Time, change func(string) string) *httptest.Server {
	v := auth.NewVerifier(func(ak string) (string, bool) { return koogallerytest.DefaultSecretKey, true }, auth.WithClock(now))
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := v.Verify(r)
		if err == nil {
			w.Write([]byte(`{"resultCode":"MKT.0000"}`))
			return
		}
		var ve *auth.VerifyError
		msg := "Incorrect IAM authentication information: verify aksk signature fail"
		if errors.As(err, &ve) && ve.CanonicalRequest != "" {
			msg += ", canonicalRequest:" + strings.ReplaceAll(change(ve.CanonicalRequest), "\n", "|")
		} else if errors.As(err, &ve) && strings.Contains(ve.Error(), "expired") {
			msg = "Incorrect IAM authentication information: calc ak sk signature fail:signature expired"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		b, _ := json.Marshal(map[string]string{"error_code": "APIGW.0301", "error_msg": msg, "request_id": "r1"})
		w.Write(b)
	}))
}

func TestCallDiagnosesTheGatewaysEcho(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sk     string
		header []string
		query  string
		change func(string) string
		want   []string
	}{
		{name: "wrong key", sk: "sk-not-right-1234", query: "?orderId=A", change: func(s string) string { return s },
			want: []string{"a wrong secret key", "The gateway computed the same canonical request"}},
		{name: "proxy changed a header", sk: koogallerytest.DefaultSecretKey, header: []string{"-H", "X-Stage: RELEASE"}, query: "?orderId=A",
			change: func(s string) string { return strings.Replace(s, "x-stage:RELEASE", "x-stage:TEST", 1) },
			want:   []string{"  - x-stage:RELEASE", "  + x-stage:TEST", "a header changed by a proxy: x-stage"}},
		{name: "encoding difference", sk: koogallerytest.DefaultSecretKey, query: "?orderId=A%20B",
			change: func(s string) string { return strings.Replace(s, "orderId=A%20B", "orderId=A+B", 1) },
			want:   []string{"  - orderId=A%20B", "  + orderId=A+B", "an encoding difference in the query"}},
		{name: "host", sk: koogallerytest.DefaultSecretKey, query: "?orderId=A",
			change: func(s string) string {
				return regexp.MustCompile(`host:[^\n]*`).ReplaceAllString(s, "host:internal.example")
			},
			want: []string{"  + host:internal.example", "the Host header was changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := echoGateway(t, time.Now, tc.change)
			defer gw.Close()
			sk := tc.sk
			if sk == koogallerytest.DefaultSecretKey {
				sk = "not-the-gateways-key" // the signature fails; the echo carries the difference
			}
			env := []string{"HUAWEICLOUD_SDK_AK=AK1", "HUAWEICLOUD_SDK_SK=" + sk}
			args := append([]string{"call"}, tc.header...)
			args = append(args, gw.URL+queryPath+tc.query)
			r := kgctl(t, env, "", []string{sk}, args...)
			require.Equal(t, 1, r.code, r)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}

	// Clock skew: the gateway's clock is 20 minutes ahead.
	gw := echoGateway(t, func() time.Time { return time.Now().Add(20 * time.Minute) }, func(s string) string { return s })
	defer gw.Close()
	r := kgctl(t, fakeEnv, "", []string{koogallerytest.DefaultSecretKey}, "call", gw.URL+queryPath+"?orderId=A")
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "Likely cause: clock skew")
}
