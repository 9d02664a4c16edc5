package order

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/koogallerytest"
)

func fakeEnv(endpoint, sk string) func(string) string {
	return cmdutil.Env(map[string]string{
		cmdutil.EnvEndpoint:  endpoint,
		"HUAWEICLOUD_SDK_AK": koogallerytest.DefaultAccessKey,
		"HUAWEICLOUD_SDK_SK": sk,
	})
}

func TestOrderRunPrintsTheOrder(t *testing.T) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	ios, out, errOut := cmdutil.TestIOStreams("")
	opts := &OrderOptions{IO: ios, Getenv: fakeEnv(fake.URL, koogallerytest.DefaultSecretKey), Ctx: context.Background(),
		HTTPClient: &http.Client{}, OrderID: "MOCKPERIODYEARNEW"}
	require.NoError(t, orderRun(opts))
	assert.Contains(t, out.String(), "Order MOCKPERIODYEARNEW  type NEW")
	assert.Contains(t, out.String(), "line MOCKPERIODYEARNEW-000001  PERIOD 1 year")
	assert.Contains(t, out.String(), "sku 0a4d1578-5295-46a7-92d4-7c803dccc51d")
	assert.Empty(t, errOut.String())
	assert.NotContains(t, out.String(), koogallerytest.DefaultSecretKey)
	require.Len(t, fake.Requests(), 1)
	assert.NoError(t, fake.Requests()[0].AuthError)

	ios, out, _ = cmdutil.TestIOStreams("")
	opts = &OrderOptions{IO: ios, Getenv: fakeEnv(fake.URL, koogallerytest.DefaultSecretKey), OrderID: "MOCKONDEMAND", Line: "MOCKONDEMAND-000001", JSON: true}
	require.NoError(t, orderRun(opts))
	var o struct {
		OrderID string `json:"orderId"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &o))
	assert.Equal(t, "MOCKONDEMAND", o.OrderID)
}

func TestOrderRunFailures(t *testing.T) {
	fake := koogallerytest.NewServer()
	defer fake.Close()
	ios, out, _ := cmdutil.TestIOStreams("")

	// KooGallery's answer is a failure: exit 1, with its code.
	err := orderRun(&OrderOptions{IO: ios, Getenv: fakeEnv(fake.URL, koogallerytest.DefaultSecretKey), OrderID: "NOSUCHORDER"})
	code, _ := cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitFailed, code)
	assert.Contains(t, err.Error(), "MKT.0100")

	// A wrong SK: the gateway refuses it, and the SK appears nowhere.
	const wrong = "wrong-secret-key-0123"
	err = orderRun(&OrderOptions{IO: ios, Getenv: fakeEnv(fake.URL, wrong), OrderID: "MOCKONDEMAND"})
	code, _ = cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitFailed, code)
	assert.Contains(t, err.Error(), "kgctl call --dry-run")
	assert.NotContains(t, err.Error()+out.String(), wrong)

	// No credentials: a usage error, nothing sent.
	n := len(fake.Requests())
	err = orderRun(&OrderOptions{IO: ios, Getenv: cmdutil.Env(nil), OrderID: "MOCKONDEMAND"})
	code, _ = cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitUsage, code)
	assert.EqualError(t, err, "no access key: set HUAWEICLOUD_SDK_AK or pass --ak")
	assert.Len(t, fake.Requests(), n)
	assert.Empty(t, out.String())
}

func TestNewCmdOrderWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *OrderOptions
	cmd := NewCmdOrder(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil)}, func(o *OrderOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"O-1", "--line", "O-1-000001", "--json", "--site", "eu", "--sk-file", "sk.txt"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "O-1", got.OrderID)
	assert.Equal(t, "O-1-000001", got.Line)
	assert.True(t, got.JSON)
	assert.Equal(t, "eu", got.API.Site)
	assert.Equal(t, "sk.txt", got.API.SK.File)

	cmd = NewCmdOrder(&cmdutil.Factory{IOStreams: ios}, func(*OrderOptions) error { return errors.New("not reached") })
	cmd.SetArgs([]string{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	code, _ := cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitUsage, code)
	assert.EqualError(t, err, "order takes one ORDER_ID")
}
