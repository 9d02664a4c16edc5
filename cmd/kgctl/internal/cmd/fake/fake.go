// Package fake holds kgctl fake: the fake KooGallery marketplace (open APIs
// and OAuth identity provider) for local development.
package fake

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/koogallerytest"
)

// OAuthLoginPath is where kgctl fake plays KooGallery's login page.
const OAuthLoginPath = "/kgctl/oauth/login"

// FakeOptions are kgctl fake's inputs.
type FakeOptions struct {
	IO      *cmdutil.IOStreams // the environment to stdout, the request log to stderr
	Ctx     context.Context    // the fake runs until it is done
	Signals []os.Signal        // signals that stop it too

	Addr   string
	CAFile string // "": in the temporary directory
	Quiet  bool
}

// NewCmdFake returns kgctl fake; runF replaces the run function in tests
// (nil: fakeRun).
func NewCmdFake(f *cmdutil.Factory, runF func(*FakeOptions) error) *cobra.Command {
	opts := &FakeOptions{IO: f.IOStreams, Signals: []os.Signal{os.Interrupt, syscall.SIGTERM}}
	cmd := &cobra.Command{
		Use:   "fake [--addr 127.0.0.1:8800]",
		Short: "Run the fake KooGallery marketplace (open APIs and OAuth identity provider) locally",
		Long: `fake runs the fake marketplace of package koogallerytest for local development, until Ctrl-C:

  - the open APIs on --addr, checking AK/SK exactly as the API gateway does (APIGW.0301 on a bad
    signature, the AK locked for five minutes after five failures): query order with the nine
    documented mock orders, usage push (checking the seller-key body signature), licence codes,
    event file upload;
  - the joint-operation OAuth identity provider (token, userinfo, logout) over HTTPS with a test
    certificate, written to --ca-file; GET http://ADDR` + OAuthLoginPath + `?redirect_uri=URL&userName=NAME
    plays KooGallery's login page: it redirects to URL with a single-use code.

It prints the environment that points the SDK and kgctl at it, and logs each request to stderr.`,
		Example: `  kgctl fake
  kgctl fake --addr 127.0.0.1:9000 --ca-file ./fake-idp.pem
  # in another shell, with the printed environment:
  kgctl order MOCKPERIODYEARNEW`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return fakeRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8800", "address of the open API")
	cmd.Flags().StringVar(&opts.CAFile, "ca-file", "", "where to write the identity provider's certificate (default in the temporary directory)")
	cmd.Flags().BoolVar(&opts.Quiet, "quiet", false, "do not log requests")
	return cmd
}

func fakeRun(opts *FakeOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if len(opts.Signals) > 0 {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, opts.Signals...)
		defer stop()
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return cmdutil.RunErr(fmt.Errorf("listen on %s: %w", opts.Addr, err))
	}
	market := koogallerytest.NewServer()
	defer market.Close()
	idp := koogallerytest.NewOAuthServer()
	defer idp.Close()
	caFile := opts.CAFile
	if caFile == "" {
		caFile = filepath.Join(os.TempDir(), "kgctl-fake-idp.pem")
	}
	if err := writeIdPCert(ctx, idp, caFile); err != nil {
		ln.Close()
		return cmdutil.RunErr(err)
	}
	var h http.Handler = newMux(market, idp)
	if !opts.Quiet {
		h = logRequests(h, opts.IO.ErrOut)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	printEnv(opts.IO.Out, "http://"+ln.Addr().String(), idp, caFile)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return cmdutil.RunErr(err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	fmt.Fprintln(opts.IO.ErrOut, "kgctl fake: stopped")
	return nil
}

// newMux serves the login page, and passes everything else to the market.
func newMux(market *koogallerytest.Server, idp *koogallerytest.OAuthServer) *http.ServeMux {
	backend, _ := url.Parse(market.URL)
	backend.Path = "" // the path, BasePath included, passes as the client signed it
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backend)
		r.Out.Host = r.In.Host // the signature covers the Host the client sent
	}}
	mux := http.NewServeMux()
	mux.HandleFunc(OAuthLoginPath, func(w http.ResponseWriter, r *http.Request) { fakeLogin(w, r, idp) })
	mux.Handle("/", proxy)
	return mux
}

// printEnv prints the environment that points the SDK and kgctl at the
// fake whose open API and login page are at root.
func printEnv(out io.Writer, root string, idp *koogallerytest.OAuthServer, caFile string) {
	endpoint := root + koogallerytest.BasePath // the fake serves the open API under its BasePath
	fmt.Fprintf(out, `# kgctl fake: the KooGallery open API on %s, the OAuth identity provider on %s
# Point the SDK and kgctl at it (koogallery.WithEndpoint(os.Getenv("KOOGALLERY_ENDPOINT"))):
export KOOGALLERY_ENDPOINT=%s
export HUAWEICLOUD_SDK_AK=%s
export HUAWEICLOUD_SDK_SK=%s
export KOOGALLERY_SELLER_KEY=%s
export KOOGALLERY_OAUTH_DOMAIN=%s
export KOOGALLERY_OAUTH_CLIENT_ID=%s
export KOOGALLERY_OAUTH_CLIENT_SECRET=%s
export KOOGALLERY_OAUTH_CA_FILE=%s
# Mock orders: %s
# Log a joint-operation user in: %s%s?redirect_uri=<your callback>&userName=alice
# Ctrl-C stops it.
`, endpoint, idp.URL, endpoint, koogallerytest.DefaultAccessKey, koogallerytest.DefaultSecretKey, koogallerytest.DefaultSellerKey,
		idp.URL, koogallerytest.DefaultOAuthClientID, koogallerytest.DefaultOAuthClientSecret, caFile,
		strings.Join(koogallerytest.MockOrderIDs, " "), root, OAuthLoginPath)
}
