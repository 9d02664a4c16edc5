package auth

import (
	"errors"
	"net/http"
)

// Transport is an http.RoundTripper that signs every request with Signer
// and hands it to Base. It never modifies the caller's request: it signs a
// copy with its own header map. Because signing happens per round trip,
// each retry or redirect carries a fresh X-Sdk-Date and signature.
// Transport is safe for concurrent use.
type Transport struct {
	// Signer signs each request. It is required.
	Signer *Signer
	// Base sends the signed request; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip signs a copy of r and sends it through Base.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.Signer == nil {
		closeBody(r)
		return nil, errors.New("auth: transport has no signer")
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	if err := t.Signer.Sign(r2); err != nil {
		closeBody(r)
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}

// closeBody honours the RoundTripper contract of closing the body on error.
func closeBody(r *http.Request) {
	if r != nil && r.Body != nil {
		r.Body.Close()
	}
}
