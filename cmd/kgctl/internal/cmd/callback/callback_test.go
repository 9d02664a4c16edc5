package callback

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

const testKey = "callback-test-access-key-0001"

var now = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

// provider is a correct V2 provider.
type provider struct{}

func (provider) NewInstance(_ context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	return &saas.NewInstanceResponse{InstanceID: "i-" + r.OrderID}, nil
}
func (provider) QueryInstance(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return &saas.QueryInstanceResponse{}, nil
}
func (provider) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error { return nil }
func (provider) UpdateInstanceStatus(context.Context, *saas.UpdateInstanceStatusRequest) error {
	return nil
}
func (provider) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error { return nil }
func (provider) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error { return nil }

func options(t *testing.T, url string, args ...string) (*CallbackOptions, *cmdutil.SyncBuffer) {
	ios, out, _ := cmdutil.TestIOStreams("")
	return &CallbackOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{cmdutil.EnvAccessKey: testKey}), Now: func() time.Time { return now },
		Ctx: context.Background(), Family: args[0], Activity: args[1], Call: exchangeFlags(url)}, out
}

func exitCode(err error) int { c, _ := cmdutil.ExitCode(err); return c }

func TestCallbackRunSendsAndChecks(t *testing.T) {
	quiet := callback.WithLogger(slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(saas.NewHandler(testKey, provider{}, quiet))
	defer srv.Close()

	opts, out := options(t, srv.URL, "saas", "newInstance")
	require.NoError(t, callbackRun(opts))
	assert.Contains(t, out.String(), `"testFlag":"1"`)
	assert.Contains(t, out.String(), "< HTTP 200 OK")
	assert.Regexp(t, `PASS  answer  000000`, out.String())
	assert.NotContains(t, out.String(), testKey)

	// A stale call is refused, as it must be.
	opts, out = options(t, srv.URL, "saas", "queryInstance")
	opts.Stale = true
	require.NoError(t, callbackRun(opts))
	assert.Contains(t, out.String(), "PASS  stale call refused  000001")

	// --json, with a --field applied to the body.
	opts, out = options(t, srv.URL, "saas", "updateInstanceStatus")
	opts.Call.JSON, opts.Fields = true, []string{"status=UNFREEZE"}
	require.NoError(t, callbackRun(opts))
	var got struct {
		Exchanges []ExchangeJSON `json:"exchanges"`
		Passed    bool           `json:"passed"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &got))
	assert.True(t, got.Passed)
	require.Len(t, got.Exchanges, 1)
	assert.Contains(t, got.Exchanges[0].Request.Body, `"status":"UNFREEZE"`)
	assert.NotContains(t, out.String(), testKey)
}

func TestCallbackRunFlagsASellerThatAcceptsEverything(t *testing.T) {
	yes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"resultCode":"000000","resultMsg":"success"}`)
	}))
	defer yes.Close()
	opts, out := options(t, yes.URL, "order", "orderNotify")
	opts.WrongKey = true
	err := callbackRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Contains(t, out.String(), "FAIL  forged call refused")
	assert.Contains(t, out.String(), "want 000001")
	assert.Contains(t, out.String(), "fix: verify the signature with your key")

	opts, out = options(t, yes.URL, "saas", "newInstance")
	assert.Equal(t, cmdutil.ExitFailed, exitCode(callbackRun(opts)))
	assert.Contains(t, out.String(), "without an instanceId")
}

func TestCallbackRunReplayIsRefusedByTheSDK(t *testing.T) {
	srv := httptest.NewServer(order.NewNotificationHandler(testKey, func(context.Context, *order.Notification) error { return nil },
		callback.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	opts, out := options(t, srv.URL, "order", "orderNotify")
	opts.Replay = true
	require.NoError(t, callbackRun(opts))
	assert.Contains(t, out.String(), "PASS  replayed call refused  000001")
}

func TestCallbackRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*CallbackOptions)
		want string
	}{
		{func(o *CallbackOptions) { o.Family = "nosuch" }, `unknown family "nosuch" (one of saas, saas-v1, kit, kit-v1, license, order)`},
		{func(o *CallbackOptions) { o.Activity = "nosuch" }, `saas has no activity "nosuch" (one of newInstance, queryInstance, refreshInstance, updateInstanceStatus, upgradeInstance, releaseInstance)`},
		{func(o *CallbackOptions) { o.Stale, o.Replay = true, true }, "--replay, --stale, --tamper, --wrong-key and --unsigned exclude each other"},
		{func(o *CallbackOptions) { o.Call.URL = "" }, "--url is required"},
		{func(o *CallbackOptions) { o.Getenv = cmdutil.Env(nil) }, "no key: set KOOGALLERY_ACCESS_KEY, or pass --key-file or --key"},
		{func(o *CallbackOptions) { o.Fields = []string{"novalue"} }, `--field "novalue": want NAME=VALUE or NAME:=JSON`},
	} {
		opts, out := options(t, "http://127.0.0.1:1/x", "saas", "newInstance")
		tc.edit(opts)
		err := callbackRun(opts)
		assert.Equal(t, cmdutil.ExitUsage, exitCode(err), tc.want)
		assert.EqualError(t, err, tc.want)
		assert.Empty(t, out.String())
	}
}

func TestNewCmdCallbackWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *CallbackOptions
	cmd := NewCmdCallback(&cmdutil.Factory{IOStreams: ios}, func(o *CallbackOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"kit", "tenantSync", "--url", "https://x/isv", "--field", "flag:=0", "--field", "a=b", "--tamper", "--timeout", "2s", "--key-file", "k"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "kit", got.Family)
	assert.Equal(t, "tenantSync", got.Activity)
	assert.Equal(t, []string{"flag:=0", "a=b"}, got.Fields)
	assert.True(t, got.Tamper)
	assert.Equal(t, 2*time.Second, got.Call.Timeout)
	assert.Equal(t, "k", got.Call.Key.File)
	assert.Equal(t, "https://x/isv", got.Call.URL)
}

func exchangeFlags(url string) exchange.CallFlags {
	return exchange.CallFlags{URL: url, Timeout: 5 * time.Second}
}
