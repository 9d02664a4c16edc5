package verify

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/koogallerytest"
)

const testKey = "verify-test-access-key-0001"

// signedAt is when the captured calls were made; the options' clock reads
// it too, so the default --at is the time of the call on any date.
var signedAt = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

// capture signs body as KooGallery would at signedAt and renders it in
// HTTP/1.1 wire form.
func capture(t *testing.T, body string) string {
	t.Helper()
	s := koogallerytest.NewSender(testKey, koogallerytest.WithClock(func() time.Time { return signedAt }))
	c, err := s.Sign("https://seller.example.com/isv/produce", body)
	require.NoError(t, err)
	var b strings.Builder
	u := c.URL[strings.Index(c.URL, "/isv/"):]
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: seller.example.com\r\n", u)
	keys := make([]string, 0, len(c.Header))
	for k := range c.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, c.Header.Get(k))
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(c.Body), c.Body)
	return b.String()
}

func options(in, key string) (*VerifyOptions, *cmdutil.SyncBuffer) {
	ios, out, _ := cmdutil.TestIOStreams(in)
	return &VerifyOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{cmdutil.EnvAccessKey: key}), Now: func() time.Time { return signedAt.Add(2 * time.Second) },
		Skew: 5 * time.Second, V1Window: 24 * time.Hour}, out
}

func exitCode(err error) int { c, _ := cmdutil.ExitCode(err); return c }

const body = `{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}`

func TestVerifyRunVerifies(t *testing.T) {
	opts, out := options(capture(t, body), testKey)
	require.NoError(t, verifyRun(opts), out.String())
	assert.Contains(t, out.String(), "kgctl verify: POST /isv/produce as saas (SaaS V2 basic interface), judged at 2026-11-27T08:30:02Z\n")
	assert.Contains(t, out.String(), "verifies over the body as received")
	assert.Contains(t, out.String(), "NewInstance(orderId=CS1, orderLineId=CS1-000001)")
	assert.True(t, strings.HasSuffix(out.String(), "\nThe request verifies.\n"))
	assert.NotContains(t, out.String(), testKey)

	// JSON, judged at an explicit --at ten minutes later: the window fails.
	opts, out = options(capture(t, body), testKey)
	opts.JSON, opts.At = true, signedAt.Add(10*time.Minute).Format(time.RFC3339)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(verifyRun(opts)))
	var got struct {
		Family   string           `json:"family"`
		Verifies bool             `json:"verifies"`
		Checks   []exchange.Check `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &got))
	assert.Equal(t, "saas", got.Family)
	assert.False(t, got.Verifies)
	failed := map[string]string{}
	for _, c := range got.Checks {
		if !c.Pass {
			failed[c.Name] = c.Reason
		}
	}
	assert.Contains(t, failed["freshness window"], "10m0s before the time judged at")
}

func TestVerifyRunWithAnotherKey(t *testing.T) {
	const other = "another-key-0002"
	opts, out := options(capture(t, body), other)
	err := verifyRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Contains(t, out.String(), "FAIL  signature")
	assert.Contains(t, out.String(), "matches no form")
	assert.Contains(t, out.String(), "signature mismatch") // the handler's log
	assert.NotContains(t, out.String(), other)
	assert.True(t, strings.HasSuffix(out.String(), "\nThe request does not verify.\n"))
}

func TestVerifyRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		in, at, family string
		key            string
		want           string
	}{
		{in: "", key: testKey, want: "no captured request on standard input (or --file)"},
		{in: "GET", key: testKey, want: "the first line must be METHOD URL [HTTP/1.1], not 1 field(s)"},
		{in: "POST /isv/produce HTTP/1.1\r\nHost: x\r\n\r\n{}", key: testKey, want: "cannot tell the family: no signature, x-sign or authToken; pass --family"},
		{in: "POST /x HTTP/1.1\r\n\r\n{}", family: "nosuch", key: testKey, want: `unknown family "nosuch" (one of saas, saas-v1, kit, kit-v1, license, order)`},
		{in: capture(t, body), key: "", want: "no key: set KOOGALLERY_ACCESS_KEY, or pass --key-file or --key"},
		{in: capture(t, body), key: testKey, at: "yesterday", want: `--at "yesterday": want RFC 3339 (2026-11-27T08:30:00Z) or Unix milliseconds`},
	} {
		opts, out := options(tc.in, tc.key)
		opts.At, opts.Family = tc.at, tc.family
		err := verifyRun(opts)
		assert.Equal(t, cmdutil.ExitUsage, exitCode(err), tc.want)
		assert.EqualError(t, err, tc.want)
		assert.Empty(t, out.String())
	}
	opts, _ := options("", testKey)
	opts.File = t.TempDir() + "/missing"
	assert.Equal(t, cmdutil.ExitRun, exitCode(verifyRun(opts)))
}

func TestParseAt(t *testing.T) {
	at, err := parseAt("1795768200123")
	require.NoError(t, err)
	assert.Equal(t, int64(1795768200123), at.UnixMilli())
	at, err = parseAt("2026-11-27T08:30:00Z")
	require.NoError(t, err)
	assert.True(t, at.Equal(signedAt))
	_, err = parseAt("-1x")
	assert.Error(t, err)
}

func TestNewCmdVerifyWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *VerifyOptions
	cmd := NewCmdVerify(&cmdutil.Factory{IOStreams: ios}, func(o *VerifyOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--family", "kit", "--key-file", "kit.key", "--at", "2026-11-27T08:30:00Z", "--file", "r.txt", "--json"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "kit", got.Family)
	assert.Equal(t, "kit.key", got.Key.File)
	assert.Equal(t, "2026-11-27T08:30:00Z", got.At)
	assert.Equal(t, "r.txt", got.File)
	assert.Equal(t, 5*time.Second, got.Skew)
	assert.Equal(t, 24*time.Hour, got.V1Window)
	assert.True(t, got.JSON)
}

// A captured URL that does not parse is refused without quoting it, or any
// 4 bytes of a password in it: url.Parse's error quotes the URL, or the
// piece of the password it took for a port.
func TestCaptureURLErrorsNeverQuoteThePassword(t *testing.T) {
	const secret = "Qz7Vk9mWp4"
	var refused int
	for _, c := range []string{"/", "#", "%", "@", "?", " ", "\x7f"} {
		for _, pw := range []string{c + secret, "Qz7Vk" + c + "9mWp4", secret + c} {
			for _, u := range []string{
				"https://user:" + pw + "@seller.example.com/isv/produce",
				"https://user:" + pw + "@seller.example.com:x443/isv/produce",
				"https://:" + pw + "@seller.example.com:443/isv/produce",
			} {
				for _, in := range []string{
					"POST " + u + " HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}",
					`{"method":"POST","url":` + strconv.Quote(u) + `,"body":{}}`,
					u + "\r\n\r\n",
				} {
					_, err := readCapture(strings.NewReader(in))
					if err == nil {
						continue
					}
					refused++
					for i := range len(pw) {
						for j := i + 4; j <= len(pw); j++ {
							if strings.Contains(err.Error(), pw[i:j]) {
								t.Errorf("%q: the error quotes %q of the password: %v", in, pw[i:j], err)
							}
						}
					}
				}
			}
		}
	}
	assert.Greater(t, refused, 50, "the malformed URLs were not refused")
}
