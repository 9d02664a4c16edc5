package testcert

import (
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCertificateIsValidNowForTheTestNames(t *testing.T) {
	c, err := Certificate()
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	require.NoError(t, err)
	now := time.Now()
	assert.True(t, leaf.NotBefore.Before(now) && leaf.NotAfter.After(now.AddDate(1, 0, 0)), "valid from %v to %v", leaf.NotBefore, leaf.NotAfter)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	for _, name := range []string{"127.0.0.1", "localhost", "example.com", "seller.example.com"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now})
		assert.NoError(t, err, name)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "evil.test", Roots: pool, CurrentTime: now})
	assert.Error(t, err, "a name the certificate does not cover")
}

func TestNewTLSServerIsTrustedByItsClient(t *testing.T) {
	srv := NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "ok", string(body))
	_, err = http.Get(srv.URL) // the default client does not trust it
	assert.Error(t, err)
}
