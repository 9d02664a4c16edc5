// Package testcert makes the TLS certificate of the SDK's test servers.
//
// httptest's built-in certificate expires on 2084-01-29, so a suite using it
// fails once the clock passes that date. The certificate made here is valid
// from an hour before the process first asks for it until ten years after,
// whatever the date.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

var (
	once sync.Once
	cert tls.Certificate
	err  error
)

// Certificate returns a self-signed certificate for 127.0.0.1, ::1,
// localhost, example.com and *.example.com (the names httptest's certificate covers), made
// once per process.
func Certificate() (tls.Certificate, error) {
	once.Do(func() { cert, err = generate(time.Now()) })
	return cert, err
}

func generate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"koogallery-go test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost", "example.com", "*.example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// NewTLSServer is httptest.NewTLSServer with Certificate in place of
// httptest's own; the server's Client trusts it. It panics if the
// certificate cannot be made, as httptest does.
func NewTLSServer(h http.Handler) *httptest.Server {
	c, err := Certificate()
	if err != nil {
		panic("testcert: " + err.Error())
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
	srv.StartTLS()
	return srv
}
