package koogallery

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// fallbackTransport sends requests for the primary host to the fallback
// host when the primary cannot be reached (DNS or connection failure, so
// the request was never sent), re-signing for the new host because the
// signer sits below. After a failure it prefers the fallback for a minute.
type fallbackTransport struct {
	next              http.RoundTripper
	primary, fallback string
	logger            *slog.Logger
	preferUntil       atomic.Int64 // unix nanoseconds
}

const fallbackStickiness = time.Minute

func (t *fallbackTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.primary || (req.Host != "" && req.Host != t.primary) {
		return t.next.RoundTrip(req)
	}
	hosts := [2]string{t.primary, t.fallback}
	if time.Now().UnixNano() < t.preferUntil.Load() {
		hosts = [2]string{t.fallback, t.primary}
	}
	var lastErr error
	for i, host := range hosts {
		r := req
		if host != req.URL.Host || i > 0 {
			if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
				break // cannot replay the body on the other host
			}
			r = req.Clone(req.Context())
			r.URL.Host, r.Host = host, ""
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err == nil || !unreachable(err) {
			return resp, err
		}
		lastErr = err
		if host == t.primary {
			t.preferUntil.Store(time.Now().Add(fallbackStickiness).UnixNano())
			t.logger.Warn("koogallery: primary host unreachable, trying the fallback", "primary", t.primary, "fallback", t.fallback)
		}
	}
	return nil, lastErr
}

// unreachable reports errors that mean the request never left: DNS failures
// and refused or failed connections.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
