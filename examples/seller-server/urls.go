package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// The store URLs carry passwords, so no error about them quotes them, or a
// part of them: a URL parser's error quotes the URL, or the piece a
// misplaced character cut from it (a password with an unencoded "/", "#" or
// "?" ends the host there, and becomes a "port" the error quotes). Errors
// name the variable and the problem, and say how to fix it.

// encodeHint ends every error about a malformed store URL.
const encodeHint = `percent-encode the user and password (url.UserPassword, or by hand: "/" %2F, "#" %23, "?" %3F, "@" %40, "%" %25, ":" %3A)`

// checkStoreURL parses raw, the value of the variable name, as a URL with
// one of schemes (the first is the one to name in errors), a host, and
// nothing after the host that a password cut in two would leave there (an
// "@", a fragment).
func checkStoreURL(name, raw string, schemes ...string) (*url.URL, error) {
	want := schemes[0] + "://"
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid %s URL: %s; %s", name, want, parseProblem(err), encodeHint)
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: the scheme is not %s (want %s://[user:password@]host:port/…)", name, strings.Join(schemes, " or "), schemes[0])
	case u.Opaque != "":
		return nil, fmt.Errorf("%s: no // after the scheme (want %s[user:password@]host:port/…)", name, want)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%s: the URL has no host (a password with an unencoded \"/\", \"#\" or \"?\" ends the host before it); %s", name, encodeHint)
	case strings.Contains(u.EscapedPath(), "@") || strings.Contains(u.RawQuery, "@") || u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, fmt.Errorf("%s: the URL has an \"@\" or a \"#\" after its host: the password holds an unencoded \"/\", \"#\" or \"?\"; %s", name, encodeHint)
	}
	// Go takes the last "@" of the host part as the end of the password,
	// pgx the first: an unencoded "@" means a different host to each.
	if strings.Count(authority(raw), "@") > 1 {
		return nil, fmt.Errorf("%s: the user or password holds an unencoded \"@\"; %s", name, encodeHint)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s: the port is not a number from 1 to 65535", name)
		}
	}
	return u, nil
}

// parseProblem describes what url.Parse found wrong, without its error's
// text, which quotes the URL or a piece of it.
func parseProblem(err error) string {
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

// redisOptions parses KOOGALLERY_REDIS_URL's value.
func redisOptions(raw string) (*redis.Options, error) {
	const name = "KOOGALLERY_REDIS_URL"
	u, err := checkStoreURL(name, raw, "redis", "rediss")
	if err != nil {
		return nil, err
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if _, err := strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("%s: the database (the URL's path) is not a number (a password with an unencoded \"/\" is cut there); %s", name, encodeHint)
		}
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis's errors quote what they refuse: say only which part.
		return nil, fmt.Errorf("%s: not a valid redis:// URL (redis://[user:password@]host:6379/0, options in the query): %s", name, scrub(err.Error(), u))
	}
	return opts, nil
}

// pgConfig parses KOOGALLERY_DATABASE_URL's value.
func pgConfig(raw string) (*pgxpool.Config, error) {
	const name = "KOOGALLERY_DATABASE_URL"
	u, err := checkStoreURL(name, raw, "postgres", "postgresql")
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		msg := err.Error()
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			// "cannot parse `<the URL, redacted at best>`: <problem>"
			if _, after, ok := strings.Cut(msg, "`: "); ok {
				msg = after
			} else {
				msg = "unparsable"
			}
		}
		return nil, fmt.Errorf("%s: not a valid postgres:// URL: %s", name, scrub(msg, u))
	}
	return cfg, nil
}

// scrub masks u's passwords (the user's, and those a query may carry) in
// msg, decoded and as written, in case an error quotes one.
func scrub(msg string, u *url.URL) string {
	var secrets []string
	if p, ok := u.User.Password(); ok {
		secrets = append(secrets, p, url.PathEscape(p), url.QueryEscape(p))
	}
	if raw := u.User.String(); raw != "" {
		if _, p, ok := strings.Cut(raw, ":"); ok {
			secrets = append(secrets, p)
		}
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			for _, v := range vs {
				secrets = append(secrets, v, url.QueryEscape(v))
			}
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// scrubbed returns err with the passwords of raw, a URL checkStoreURL
// accepted, masked in its text; it still wraps err, for errors.Is.
func scrubbed(err error, raw string) error {
	msg := "(error text withheld: the URL does not parse)"
	if u, perr := url.Parse(raw); perr == nil {
		msg = scrub(err.Error(), u)
	}
	return &scrubbedError{msg: msg, err: err}
}

// scrubbedError is an error whose text has its passwords masked.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// authority returns the part of raw between "//" and the path, query or
// fragment, as url.Parse delimits it.
func authority(raw string) string {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
