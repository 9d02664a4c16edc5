package usage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/internal/storeurl"
	"github.com/isvkit/koogallery/store/pgstore"
)

// EnvDatabaseURL names the variable holding the outbox's PostgreSQL
// connection string, the one the seller server reads.
const EnvDatabaseURL = "KOOGALLERY_DATABASE_URL"

// connectTimeout bounds a connection attempt when the connection string
// sets no connect_timeout.
const connectTimeout = 10 * time.Second

// DBFlags say which outbox to operate on. The connection string carries a
// password, so it comes from the environment or a file, never from the
// command line, and no output or error ever quotes it.
type DBFlags struct {
	URLFile string // --database-url-file
	Table   string // --table

	urlFlag string // --database-url: refused
}

// Register adds --database-url-file and --table to cmd, and a hidden
// --database-url that explains why it is refused.
func (f *DBFlags) Register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.URLFile, "database-url-file", "", "read the PostgreSQL connection string from this file (default $"+EnvDatabaseURL+")")
	cmd.Flags().StringVar(&f.Table, "table", pgstore.DefaultUsageTable, "the outbox's table, when the seller server names another (pgstore.WithUsageTable); may be schema-qualified")
	cmd.Flags().StringVar(&f.urlFlag, "database-url", "", "refused: the password would be visible to every user of the machine")
	_ = cmd.Flags().MarkHidden("database-url")
}

// source returns the connection string and where it came from, for
// messages.
func (f *DBFlags) source(getenv func(string) string) (dsn, from string, err error) {
	switch {
	case f.urlFlag != "":
		return "", "", cmdutil.UsageErr("--database-url would show the password to every user of this machine (ps, /proc): set %s or pass --database-url-file", EnvDatabaseURL)
	case f.URLFile != "":
		b, err := os.ReadFile(f.URLFile)
		if err != nil {
			return "", "", cmdutil.RunErr(fmt.Errorf("read --database-url-file: %w", err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", "", cmdutil.UsageErr("--database-url-file %s is empty", f.URLFile)
		}
		return v, "--database-url-file " + f.URLFile, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := strings.TrimSpace(getenv(EnvDatabaseURL)); v != "" {
		return v, EnvDatabaseURL, nil
	}
	return "", "", cmdutil.UsageErr("no database: set %s (postgres://user:password@host:5432/db, as for the seller server) or pass --database-url-file", EnvDatabaseURL)
}

// outbox is an open connection to the usage outbox.
type outbox struct {
	*pgstore.UsageOutbox
	pool    *pgxpool.Pool
	secrets secrets
	table   string // as given, for messages
}

// open connects to the outbox's database and checks that the table is
// there. The caller closes it.
func (f *DBFlags) open(ctx context.Context, getenv func(string) string) (*outbox, error) {
	dsn, from, err := f.source(getenv)
	if err != nil {
		return nil, err
	}
	cfg, sec, err := parseDSN(from, dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	table := f.Table
	if table == "" {
		table = pgstore.DefaultUsageTable
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, cmdutil.RunErr(sec.wrap("connect to PostgreSQL", err))
	}
	o, err := pgstore.NewUsageOutbox(pool, pgstore.WithUsageTable(table))
	if err != nil {
		pool.Close()
		return nil, cmdutil.UsageErr("--table %q: %w", table, sec.wrap("", err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, cmdutil.RunErr(sec.wrap(fmt.Sprintf("connect to PostgreSQL (%s, from %s)", where(cfg), from), err))
	}
	return &outbox{UsageOutbox: o, pool: pool, secrets: sec, table: table}, nil
}

func (o *outbox) Close() { o.pool.Close() }

// fail turns an error of the outbox into kgctl's: a missing table is a
// usage error that says what to check, anything else a run error; neither
// quotes the password.
func (o *outbox) fail(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return cmdutil.UsageErr("%s: no table %q in this database: wrong database or --table, or the seller server has not created it yet (pgstore.MigrateUsageOutbox)", op, o.table)
	}
	return cmdutil.RunErr(o.secrets.wrap(op, err))
}

// where describes cfg's server without its password.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d, database %q, user %q", c.Host, c.Port, c.Database, c.User)
}

// parseDSN parses the connection string from names (a variable, a file),
// and returns the secrets its errors must not show: the passwords, as
// written and decoded. Errors about it never quote it, nor a part of it:
// a URL parser's error quotes the URL, or the piece a misplaced character
// cut from it (a password with an unencoded "/" ends the host there, and
// becomes a "port" the error quotes).
func parseDSN(from, raw string) (*pgxpool.Config, secrets, error) {
	sec := secrets{raw}
	lower := strings.ToLower(raw)
	isURL := strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
	if isURL {
		u, err := checkURL(from, raw)
		if err != nil {
			return nil, nil, err
		}
		sec = sec.add(urlSecrets(u)...)
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		if !isURL {
			return nil, nil, cmdutil.UsageErr("%s: not a valid connection string (want postgres://user:password@host:5432/db, or keyword/value pairs: host=… port=… dbname=… user=… password='…'); the text of the parser's error is withheld, since it may quote the password", from)
		}
		msg := "unparsable"
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			// "cannot parse `<the URL, redacted at best>`: <problem>"
			if _, after, ok := strings.Cut(err.Error(), "`: "); ok {
				msg = after
			}
		}
		return nil, nil, cmdutil.UsageErr("%s: not a valid postgres:// URL: %s", from, sec.text(msg))
	}
	sec = sec.add(cfg.ConnConfig.Password)
	return cfg, sec, nil
}

// checkURL parses raw, a postgres:// URL, refusing what a password cut in
// two by an unencoded character would leave (storeurl.Check).
func checkURL(from, raw string) (*url.URL, error) {
	u, err := storeurl.Check(from, raw, "postgres", "postgresql")
	if err != nil {
		return nil, cmdutil.UsageErr("%v", err)
	}
	return u, nil
}

// urlSecrets returns the passwords of u (the user's, and a password
// parameter of the query), decoded and as written.
func urlSecrets(u *url.URL) []string {
	var s []string
	if p, ok := u.User.Password(); ok {
		s = append(s, p, url.PathEscape(p), url.QueryEscape(p))
	}
	if _, p, ok := strings.Cut(storeurl.Authority(u.String()), ":"); ok {
		if i := strings.LastIndex(p, "@"); i >= 0 {
			s = append(s, p[:i])
		}
	}
	if _, p, ok := strings.Cut(u.User.String(), ":"); ok {
		s = append(s, p)
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			for _, v := range vs {
				s = append(s, v, url.QueryEscape(v), url.PathEscape(v))
			}
		}
	}
	return s
}

// secrets are the strings no message may show.
type secrets []string

func (s secrets) add(more ...string) secrets {
	for _, m := range more {
		if m != "" {
			s = append(s, m)
		}
	}
	return s
}

// text masks every secret in msg, the longest first (a secret may hold
// another).
func (s secrets) text(msg string) string {
	sorted := append(secrets(nil), s...)
	for i := 1; i < len(sorted); i++ { // insertion sort by length, descending
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, v := range sorted {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, "xxxxx")
		}
	}
	return msg
}

// wrap returns err, prefixed with op unless op is empty, with the secrets
// masked in its text; it still wraps err, for errors.Is and errors.As.
func (s secrets) wrap(op string, err error) error {
	msg := err.Error()
	if op != "" {
		msg = op + ": " + msg
	}
	return &scrubbedError{msg: s.text(msg), err: err}
}

// scrubbedError is an error whose text has the passwords masked.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
