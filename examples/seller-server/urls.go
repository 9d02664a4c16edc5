package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/isvkit/koogallery/internal/storeurl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// The store URLs carry passwords, so no error about them quotes them, or a
// part of them: a URL parser's error quotes the URL, or the piece a
// misplaced character cut from it (a password with an unencoded "/", "#" or
// "?" ends the host there, and becomes a "port" the error quotes). Errors
// name the variable and the problem, and say how to fix it.

// redisOptions parses KOOGALLERY_REDIS_URL's value.
func redisOptions(raw string) (*redis.Options, error) {
	const name = "KOOGALLERY_REDIS_URL"
	u, err := storeurl.Check(name, raw, "redis", "rediss")
	if err != nil {
		return nil, err
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if _, err := strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("%s: the database (the URL's path) is not a number (a password with an unencoded \"/\" is cut there); %s", name, storeurl.EncodeHint)
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
	u, err := storeurl.Check(name, raw, "postgres", "postgresql")
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
