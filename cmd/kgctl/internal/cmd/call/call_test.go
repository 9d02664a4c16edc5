package call

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/koogallerytest"
)

const queryPath = "/api/mkp-openapi-public/global/v1/order/query"

func testEnv(t *testing.T, endpoint, sk string) func(string) string {
	return cmdutil.Env(map[string]string{
		cmdutil.EnvEndpoint:  endpoint,
		cmdutil.EnvStateDir:  t.TempDir(),
		"HUAWEICLOUD_SDK_AK": koogallerytest.DefaultAccessKey,
		"HUAWEICLOUD_SDK_SK": sk,
	})
}

func exitCode(err error) int { c, _ := cmdutil.ExitCode(err); return c }

func TestCallRunSignsAndSends(t *testing.T) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	ios, out, errOut := cmdutil.TestIOStreams("")
	opts := &CallOptions{IO: ios, Getenv: testEnv(t, fake.URL, koogallerytest.DefaultSecretKey), HTTPClient: &http.Client{},
		Timeout: 10 * time.Second, URL: queryPath + "?orderId=MOCKPERIODYEARNEW", Headers: []string{"X-Stage: RELEASE"}}
	require.NoError(t, callRun(opts))
	assert.Contains(t, out.String(), "HTTP/1.1 200 OK\n")
	assert.Contains(t, out.String(), `"resultCode": "MKT.0000"`)
	assert.Empty(t, errOut.String())
	assert.NotContains(t, out.String(), koogallerytest.DefaultSecretKey)
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.NoError(t, reqs[0].AuthError)
	assert.Contains(t, reqs[0].Header.Get("Authorization"), "SignedHeaders=host;x-sdk-date;x-stage")

	// An answer KooGallery reports as a failure.
	ios, out, _ = cmdutil.TestIOStreams("")
	opts.IO, opts.URL = ios, queryPath+"?orderId=NOSUCHORDER"
	err := callRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Contains(t, out.String(), "MKT.0100")
}

func TestCallRunDryRunSendsNothing(t *testing.T) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	const token = "temporary-security-token-value"
	env := map[string]string{cmdutil.EnvEndpoint: fake.URL, "HUAWEICLOUD_SDK_AK": "AK1", "HUAWEICLOUD_SDK_SK": "sk-secret-0001", "HUAWEICLOUD_SDK_SECURITY_TOKEN": token}
	ios, out, errOut := cmdutil.TestIOStreams("")
	require.NoError(t, callRun(&CallOptions{IO: ios, Getenv: cmdutil.Env(env), DryRun: true, Data: `{"q":1}`, URL: queryPath}))
	for _, s := range []string{"Canonical request:\nPOST\n", "String to sign:\nSDK-HMAC-SHA256\n", "Authorization: SDK-HMAC-SHA256 Access=AK1",
		"curl -g -X POST ", `-H "X-Security-Token: $HUAWEICLOUD_SDK_SECURITY_TOKEN"`, `--data-binary '{"q":1}'`} {
		assert.Contains(t, out.String(), s)
	}
	assert.NotContains(t, out.String()+errOut.String(), "sk-secret-0001")
	assert.NotContains(t, out.String()+errOut.String(), token)
	assert.Empty(t, fake.Requests())
}

func TestCallRunUsageErrors(t *testing.T) {
	ios, out, _ := cmdutil.TestIOStreams("")
	env := cmdutil.Env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK1", "HUAWEICLOUD_SDK_SK": "sk-secret-0001"})
	for _, tc := range []struct {
		opts CallOptions
		want string
	}{
		{CallOptions{URL: "http://192.0.2.1/x"}, "refusing to send a signed request over plain http to 192.0.2.1: anyone on the way could replay it for 15 minutes; use https"},
		{CallOptions{URL: "x/y"}, "URL must be absolute (https://host/path) or a path starting with /"},
		{CallOptions{URL: "https://example.com/x", Headers: []string{"Authorization: x"}}, "-H Authorization: kgctl sets this header when signing"},
		{CallOptions{URL: "https://example.com/x", Headers: []string{"nocolon"}}, `-H "nocolon": want 'Name: value'`},
	} {
		o := tc.opts
		o.IO, o.Getenv = ios, env
		err := callRun(&o)
		assert.Equal(t, cmdutil.ExitUsage, exitCode(err), tc.want)
		assert.EqualError(t, err, tc.want)
	}
	o := CallOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK1"}), URL: "https://example.com/x"}
	assert.EqualError(t, callRun(&o), "no SK: set HUAWEICLOUD_SDK_SK, or pass --sk-file or --sk")
	assert.Empty(t, out.String())
}

// A wrong SK four times, then callRun stops before the fifth, which would
// lock the AK; five minutes after the last failure it sends again.
func TestCallRunStopsBeforeTheAKLocks(t *testing.T) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	const wrong = "wrong-secret-key-0001"
	now := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	env := testEnv(t, fake.URL, wrong)
	for i := 1; i <= 4; i++ {
		ios, out, errOut := cmdutil.TestIOStreams("")
		err := callRun(&CallOptions{IO: ios, Getenv: env, Now: func() time.Time { return now }, URL: queryPath + "?orderId=MOCKONDEMAND", Timeout: 10 * time.Second})
		require.Equal(t, cmdutil.ExitFailed, exitCode(err), errOut.String())
		assert.Contains(t, errOut.String(), "The gateway refused the signature")
		assert.Contains(t, errOut.String(), "a wrong secret key")
		assert.Contains(t, errOut.String(), "Signature failure "+string(rune('0'+i))+" in a row")
		assert.NotContains(t, out.String()+errOut.String(), wrong)
	}
	ios, _, _ := cmdutil.TestIOStreams("")
	opts := &CallOptions{IO: ios, Getenv: env, Now: func() time.Time { return now.Add(4 * time.Minute) }, URL: queryPath + "?orderId=MOCKONDEMAND"}
	err := callRun(opts)
	assert.Equal(t, cmdutil.ExitLockout, exitCode(err))
	assert.Contains(t, err.Error(), "one more locks it")
	assert.Len(t, fake.Requests(), 4, "the fifth was not sent")

	// The guard's window is over: the guard lets it through.
	g := newLockGuard(koogallerytest.DefaultAccessKey, env)
	assert.NoError(t, g.before(now.Add(6*time.Minute)))
	var ee *cmdutil.ExitError
	require.True(t, errors.As(g.before(now), &ee))
	assert.Equal(t, cmdutil.ExitLockout, ee.Code)
}

func TestNewCmdCallWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *CallOptions
	cmd := NewCmdCall(&cmdutil.Factory{IOStreams: ios}, func(o *CallOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-X", "post", "-d", "@b.json", "-H", "A: 1", "-H", "B: 2", "--dry-run", "--timeout", "5s", "/p"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "post", got.Method)
	assert.Equal(t, "@b.json", got.Data)
	assert.Equal(t, []string{"A: 1", "B: 2"}, got.Headers)
	assert.True(t, got.DryRun)
	assert.Equal(t, 5*time.Second, got.Timeout)
	assert.Equal(t, "/p", got.URL)
	assert.Equal(t, "china", got.API.Site)
}
