package fake

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

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
