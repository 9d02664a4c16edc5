package fake

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/koogallerytest"
)

// TestFakeRunServesUntilCancelled runs the fake in-process on a free port,
// plays the login page through it, and stops it by cancelling its context.
func TestFakeRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, out, errOut := cmdutil.TestIOStreams("")
	ca := t.TempDir() + "/idp.pem"
	done := make(chan error, 1)
	go func() { done <- fakeRun(&FakeOptions{IO: ios, Ctx: ctx, Addr: "127.0.0.1:0", CAFile: ca}) }()

	re := regexp.MustCompile(`(?m)^export KOOGALLERY_ENDPOINT=(http://\S+)` + regexp.QuoteMeta(koogallerytest.BasePath) + `$`)
	var root string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			root = m[1]
		}
		return m != nil
	}, 30*time.Second, 10*time.Millisecond)
	assert.Contains(t, out.String(), "export KOOGALLERY_OAUTH_CA_FILE="+ca+"\n")
	assert.Contains(t, out.String(), "# Mock orders: MOCKPERIODYEARNEW ")
	pem, err := os.ReadFile(ca)
	require.NoError(t, err)
	assert.Contains(t, string(pem), "-----BEGIN CERTIFICATE-----")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(root + OAuthLoginPath + "?state=s1&redirect_uri=" + url.QueryEscape("https://seller.example.com/cb?code=secret-query"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "s1", back.Query().Get("state"))
	assert.NotEmpty(t, back.Query().Get("code"))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("fakeRun did not stop")
	}
	assert.Contains(t, errOut.String(), "GET "+OAuthLoginPath+" 302 ")
	assert.NotContains(t, errOut.String(), "secret-query", "the log holds paths only")
	assert.Contains(t, errOut.String(), "kgctl fake: stopped\n")
}

func TestFakeRunCannotListen(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ios, out, _ := cmdutil.TestIOStreams("")
	err = fakeRun(&FakeOptions{IO: ios, Ctx: context.Background(), Addr: ln.Addr().String(), Quiet: true})
	code, _ := cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitRun, code)
	assert.Contains(t, err.Error(), "listen on "+ln.Addr().String())
	assert.Empty(t, out.String())
}

func TestFakeLoginRefusesARelativeRedirect(t *testing.T) {
	idp := koogallerytest.NewOAuthServer()
	defer idp.Close()
	w := httptest.NewRecorder()
	fakeLogin(w, httptest.NewRequest(http.MethodGet, OAuthLoginPath+"?redirect_uri=/cb", nil), idp)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "redirect_uri must be an absolute http(s) URL")
}

func TestNewCmdFakeWiresFlags(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	var got *FakeOptions
	cmd := NewCmdFake(&cmdutil.Factory{IOStreams: ios}, func(o *FakeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--quiet", "--ca-file", "x.pem"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "127.0.0.1:8800", got.Addr)
	assert.Equal(t, "x.pem", got.CAFile)
	assert.True(t, got.Quiet)
	assert.Len(t, got.Signals, 2)
}
