package koogallery

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The endpoint a client sends to, and how a request's URL is named in
// errors and logs. Both Client (at construction) and its transport (on
// every request) use these; they call nothing else of the package.

// parseBaseURL checks and parses WithEndpoint's URL.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("koogallery: endpoint must be an absolute URL without query, fragment or user info")
	}
	if err := checkScheme(u); err != nil {
		return nil, fmt.Errorf("koogallery: endpoint: %w", err)
	}
	return u, nil
}

// checkScheme allows https, and plain http only to a loopback host: a
// signature sent in clear can be replayed for the gateway's 15 minutes.
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("plain http is only allowed to loopback hosts; KooGallery and the API gateway require https")
	}
	return errors.New("the scheme must be https")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiPath is the path of u without the endpoint's own path prefix (a
// proxy's mount point, koogallerytest.BasePath), so that errors, logs and
// the attempt hook name the API whatever the endpoint.
func apiPath(base, u *url.URL) string {
	if p := base.Path; p != "" && u.Host == base.Host {
		if rest, ok := strings.CutPrefix(u.Path, p); ok && strings.HasPrefix(rest, "/") {
			return rest
		}
	}
	return u.Path
}
