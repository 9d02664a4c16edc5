package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/isvkit/koogallery/saas/kit"
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

	"github.com/isvkit/koogallery/koogallerytest"
)

// oauthLoginPath is where kgctl fake plays KooGallery's login page.
const oauthLoginPath = "/kgctl/oauth/login"

func newFakeCmd() *cobra.Command {
	var (
		addr   string
		caFile string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "fake [--addr 127.0.0.1:8800]",
		Short: "Run the fake KooGallery marketplace (open APIs and OAuth identity provider) locally",
		Long: `fake runs the fake marketplace of package koogallerytest for local development, until Ctrl-C:

  - the open APIs on --addr, checking AK/SK exactly as the API gateway does (APIGW.0301 on a bad
    signature, the AK locked for five minutes after five failures): query order with the nine
    documented mock orders, usage push (checking the seller-key body signature), licence codes,
    event file upload;
  - the joint-operation OAuth identity provider (token, userinfo, logout) over HTTPS with a test
    certificate, written to --ca-file; GET http://ADDR` + oauthLoginPath + `?redirect_uri=URL&userName=NAME
    plays KooGallery's login page: it redirects to URL with a single-use code.

It prints the environment that points the SDK and kgctl at it, and logs each request to stderr.`,
		Example: `  kgctl fake
  kgctl fake --addr 127.0.0.1:9000 --ca-file ./fake-idp.pem
  # in another shell, with the printed environment:
  kgctl order MOCKPERIODYEARNEW`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return runErr(fmt.Errorf("listen on %s: %w", addr, err))
			}
			market := koogallerytest.NewServer()
			defer market.Close()
			idp := koogallerytest.NewOAuthServer()
			defer idp.Close()
			if caFile == "" {
				caFile = filepath.Join(os.TempDir(), "kgctl-fake-idp.pem")
			}
			if err := writeIdPCert(ctx, idp, caFile); err != nil {
				ln.Close()
				return runErr(err)
			}
			backend, _ := url.Parse(market.URL)
			backend.Path = "" // the path, BasePath included, passes as the client signed it
			proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(backend)
				r.Out.Host = r.In.Host // the signature covers the Host the client sent
			}}
			logw := cmd.ErrOrStderr()
			mux := http.NewServeMux()
			mux.HandleFunc(oauthLoginPath, func(w http.ResponseWriter, r *http.Request) { fakeLogin(w, r, idp) })
			mux.Handle("/", proxy)
			var h http.Handler = mux
			if !quiet {
				h = logRequests(mux, logw)
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			root := "http://" + ln.Addr().String()
			endpoint := root + koogallerytest.BasePath // the fake serves the open API under its BasePath
			out := cmd.OutOrStdout()
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
				strings.Join(koogallerytest.MockOrderIDs, " "), root, oauthLoginPath)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return runErr(err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			fmt.Fprintln(logw, "kgctl fake: stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8800", "address of the open API")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "where to write the identity provider's certificate (default in the temporary directory)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not log requests")
	return cmd
}

// writeIdPCert writes the certificate the fake identity provider presents,
// read over a verified TLS connection with the fake's own client
// configuration.
func writeIdPCert(ctx context.Context, idp *koogallerytest.OAuthServer, path string) error {
	tr, ok := idp.HTTPClient().Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil {
		return errors.New("fake identity provider: no TLS configuration")
	}
	u, _ := url.Parse(idp.URL)
	d := tls.Dialer{Config: tr.TLSClientConfig.Clone()}
	d.Config.ServerName = u.Hostname()
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return fmt.Errorf("fake identity provider: %w", err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return errors.New("fake identity provider: no certificate")
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[len(certs)-1].Raw})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write --ca-file: %w", err)
	}
	return nil
}

// fakeLogin plays KooGallery's login page: it issues a code for the user
// and sends the browser back to redirect_uri.
func fakeLogin(w http.ResponseWriter, r *http.Request, idp *koogallerytest.OAuthServer) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		http.Error(w, "redirect_uri must be an absolute http(s) URL", http.StatusBadRequest)
		return
	}
	user := kit.OAuthUser{UserName: q.Get("userName"), Name: q.Get("name"), Role: q.Get("role"), Tenant: q.Get("tenant")}
	if user.UserName == "" {
		user.UserName = "alice"
	}
	if user.Role == "" {
		user.Role = "admin"
	}
	code := idp.Login(user, redirect)
	back := u.Query()
	back.Set("code", code)
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(h http.Handler, w interface{ Write([]byte) (int, error) }) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		// The path only: a query may carry codes or tokens.
		fmt.Fprintf(w, "%s %s %s %d %v\n", start.Format("15:04:05"), r.Method, r.URL.Path, sw.status, time.Since(start).Round(time.Millisecond))
	})
}
