// Package storeurl checks the URL of a shared store (Redis, PostgreSQL)
// without ever quoting it: a store URL carries a password, and a URL
// parser's error quotes the URL, or the piece a misplaced character cut
// from it (a password with an unencoded "/", "#" or "?" ends the host there
// and becomes a "port" the error quotes). Its errors name where the URL
// came from and the problem, and say how to fix it. The seller server and
// kgctl share it.
package storeurl

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// EncodeHint ends every error about a malformed store URL.
const EncodeHint = `percent-encode the user and password (url.UserPassword, or by hand: "/" %2F, "#" %23, "?" %3F, "@" %40, "%" %25, ":" %3A)`

// Check parses raw, the URL found in from (a variable or a file), as a
// URL with one of schemes (the first is the one named in errors), a host,
// and nothing after the host that a password cut in two would leave there
// (an "@", a fragment), nor two "@" (Go takes the last as the end of the
// password, pgx the first: a different host to each).
func Check(from, raw string, schemes ...string) (*url.URL, error) {
	want := schemes[0] + "://"
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid %s URL: %s; %s", from, want, ParseProblem(err), EncodeHint)
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: the scheme is not %s (want %s[user:password@]host:port/…)", from, strings.Join(schemes, " or "), want)
	case u.Opaque != "":
		return nil, fmt.Errorf("%s: no // after the scheme (want %s[user:password@]host:port/…)", from, want)
	case u.Host == "" || u.Hostname() == "" && !strings.Contains(u.Host, ","):
		return nil, fmt.Errorf("%s: the URL has no host (a password with an unencoded \"/\", \"#\" or \"?\" ends the host before it); %s", from, EncodeHint)
	case strings.Contains(u.EscapedPath(), "@") || strings.Contains(u.RawQuery, "@") || u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, fmt.Errorf("%s: the URL has an \"@\" or a \"#\" after its host: the password holds an unencoded \"/\", \"#\" or \"?\"; %s", from, EncodeHint)
	case strings.Count(Authority(raw), "@") > 1:
		return nil, fmt.Errorf("%s: the user or password holds an unencoded \"@\"; %s", from, EncodeHint)
	}
	if p := u.Port(); p != "" && !strings.Contains(u.Host, ",") { // pgx's host lists carry their own ports
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s: the port is not a number from 1 to 65535 (a password with an unencoded \"/\" is cut there); %s", from, EncodeHint)
		}
	}
	return u, nil
}

// ParseProblem describes what url.Parse found wrong, without its error's
// text, which quotes the URL or a piece of it.
func ParseProblem(err error) string {
	var esc url.EscapeError
	var host url.InvalidHostError
	msg := err.Error()
	switch {
	case errors.As(err, &esc):
		return `a "%" is not followed by two hexadecimal digits`
	case errors.As(err, &host):
		return "the host holds a character a host name cannot"
	case strings.Contains(msg, "invalid userinfo"):
		return `the user or password holds a character that must be percent-encoded (such as "@")`
	case strings.Contains(msg, "invalid port"):
		return `the port is not a number (a password with an unencoded "/", "#" or "?" is cut there, and the rest taken for the port)`
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment in URL cannot contain colon"):
		return "no scheme"
	case strings.Contains(msg, "control character"):
		return "a control character"
	}
	return "unparsable"
}

// Authority returns the part of raw between "//" and the path, query or
// fragment, as url.Parse delimits it.
func Authority(raw string) string {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
