package probe

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
)

const testKey = "probe-test-access-key-0001"

func options(url, fam string) (*ProbeOptions, *cmdutil.SyncBuffer) {
	ios, out, _ := cmdutil.TestIOStreams("")
	return &ProbeOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{cmdutil.EnvAccessKey: testKey}),
		Now: func() time.Time { return time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC) }, Ctx: context.Background(),
		Call: exchange.CallFlags{URL: url, Timeout: 5 * time.Second}, Family: fam, Concurrent: 3}, out
}

func exitCode(err error) int { c, _ := cmdutil.ExitCode(err); return c }

func TestProbeRunPassesAgainstTheSDKsHandler(t *testing.T) {
	srv := httptest.NewServer(order.NewNotificationHandler(testKey, func(context.Context, *order.Notification) error { return nil },
		callback.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	opts, out := options(srv.URL, "order")
	require.NoError(t, probeRun(opts), out.String())
	assert.Contains(t, out.String(), "kgctl probe: order (order notification) at "+srv.URL+"; KooGallery waits 5s\n")
	for _, name := range []string{"orderNotify", "orderNotify again (a re-send)", "orderNotify ×3 concurrent", "forged call refused",
		"stale call refused", "tampered call refused", "unsigned call refused", "replayed call refused"} {
		assert.Contains(t, out.String(), "PASS  "+name+" ")
	}
	assert.Contains(t, out.String(), "\n8 passed, 0 failed, 0 skipped\n")
	assert.NotContains(t, out.String(), testKey)
}

type okLicense struct{}

func (okLicense) RefreshLicenseCode(context.Context, *license.RefreshLicenseCodeRequest) error {
	return nil
}
func (okLicense) UpdateLicenseCodeStatus(context.Context, *license.UpdateLicenseCodeStatusRequest) error {
	return nil
}
func (okLicense) ReleaseLicenseCode(context.Context, *license.ReleaseLicenseCodeRequest) error {
	return nil
}

func TestProbeRunSkipsAndReportsJSON(t *testing.T) {
	srv := httptest.NewServer(license.NewHandler(testKey, okLicense{}, callback.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	opts, out := options(srv.URL, "license")
	opts.Call.JSON, opts.Skip = true, []string{"releaseLicenseCode"}
	require.NoError(t, probeRun(opts))
	var got struct {
		Family string           `json:"family"`
		Passed bool             `json:"passed"`
		Checks []exchange.Check `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &got))
	assert.Equal(t, "license", got.Family)
	assert.True(t, got.Passed)
	var skipped []string
	for _, c := range got.Checks {
		if c.Skipped {
			skipped = append(skipped, c.Name)
		}
	}
	assert.Equal(t, []string{"releaseLicenseCode", "releaseLicenseCode again (already released)"}, skipped)
}

func TestProbeRunFlagsABrokenSeller(t *testing.T) {
	// Answers every call 000000, whatever its signature, with a result code
	// as a number for licences.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"resultCode":"000000","resultMsg":"success"}`)
	}))
	defer srv.Close()
	opts, out := options(srv.URL, "order")
	err := probeRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	for _, name := range []string{"forged", "stale", "tampered", "unsigned", "replayed"} {
		assert.Regexp(t, `(?m)^FAIL  `+name+` call refused +000000 .*want 000001$`, out.String())
	}
	assert.Contains(t, out.String(), "\n3 passed, 5 failed, 0 skipped\n")

	// Nobody listening.
	opts, out = options("http://127.0.0.1:1/isv", "order")
	opts.Call.Timeout = time.Second
	assert.Equal(t, cmdutil.ExitFailed, exitCode(probeRun(opts)))
	assert.Contains(t, out.String(), "FAIL  orderNotify ")
	assert.Contains(t, out.String(), "no answer")
}

func TestProbeRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*ProbeOptions)
		want string
	}{
		{func(o *ProbeOptions) { o.Family = "" }, "--family is required (one of saas, saas-v1, kit, kit-v1, license, order)"},
		{func(o *ProbeOptions) { o.Skip = []string{"orderNotify,nosuch"} }, `order has no activity "nosuch" (one of orderNotify)`},
		{func(o *ProbeOptions) { o.Concurrent = 1 }, "--concurrent must be at least 2"},
		{func(o *ProbeOptions) { o.Call.URL = "ftp://x" }, "--url must be an absolute http(s) URL, the production URL of the seller console"},
		{func(o *ProbeOptions) { o.Getenv = cmdutil.Env(nil) }, "no key: set KOOGALLERY_ACCESS_KEY, or pass --key-file or --key"},
	} {
		opts, out := options("http://127.0.0.1:1/x", "order")
		tc.edit(opts)
		err := probeRun(opts)
		assert.Equal(t, cmdutil.ExitUsage, exitCode(err), tc.want)
		assert.EqualError(t, err, tc.want)
		assert.Empty(t, out.String())
	}
}

func TestNewCmdProbeWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *ProbeOptions
	cmd := NewCmdProbe(&cmdutil.Factory{IOStreams: ios}, func(o *ProbeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--family", "saas-v1", "--url", "https://x", "--skip", "upgrade,instanceStatus", "--skip", "expireInstance", "--json"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "saas-v1", got.Family)
	assert.Equal(t, []string{"upgrade", "instanceStatus", "expireInstance"}, got.Skip)
	assert.Equal(t, 5, got.Concurrent)
	assert.Equal(t, exchange.DefaultTimeout, got.Call.Timeout)
	assert.True(t, got.Call.JSON)
	assert.True(t, strings.HasPrefix(cmd.Flags().Lookup("family").Usage, "the family to probe: saas, "))
}
