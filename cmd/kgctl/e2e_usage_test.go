package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// TestUsageOperatesTheOutbox runs kgctl usage against an outbox on a real
// PostgreSQL, reached with a URL whose password (the server trusts its
// clients, so any password connects) must never show: status fails the
// alert check, dead lists the refusal, requeue refuses a script without
// --yes and requeues with it.
func TestUsageOperatesTheOutbox(t *testing.T) {
	t.Parallel()
	const password = "s3cr/@%#t"
	u, err := url.Parse(pgtest.URL(t))
	require.NoError(t, err)
	u.User = url.UserPassword(u.User.Username(), password)
	dsn := u.String()
	secrets := []string{password, url.QueryEscape(password), url.PathEscape(password)}

	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	table := pgstore.WithUsageTable("kgctl_e2e_outbox")
	require.NoError(t, pgstore.MigrateUsageOutbox(ctx, pool, table))
	outbox, err := pgstore.NewUsageOutbox(pool, table)
	require.NoError(t, err)
	now := time.Now().UTC()
	var entries []usage.Entry
	for _, e := range []struct {
		sn       string
		deadline time.Duration
	}{{"e2e-dead", time.Hour}, {"e2e-late", -10 * time.Minute}, {"e2e-ok", 3 * time.Hour}} {
		r := usage.Record{InstanceID: "inst-1", MeteringSN: e.sn, RecordTime: now, BeginTime: now.Add(-time.Hour), EndTime: now, UsageValue: usage.MustDecimal("2")}
		payload, err := r.MarshalJSON()
		require.NoError(t, err)
		entries = append(entries, usage.Entry{Record: r, Payload: payload, Deadline: now.Add(e.deadline), Recorded: now.Add(-time.Hour)})
	}
	require.NoError(t, outbox.Add(ctx, entries))
	claim, err := outbox.Claim(ctx, now, 10, time.Minute)
	require.NoError(t, err)
	dead := usage.DeadLetter{Reason: "begin_time is older than 21 days", Code: "MKT.9004", Raw: json.RawMessage(`{"error_code":"MKT.9004"}`)}
	dead.Record.MeteringSN = "e2e-dead"
	require.NoError(t, outbox.Settle(ctx, claim.Token, usage.Settlement{Now: now, Retry: []string{"e2e-late", "e2e-ok"}, RetryAt: now, RetryError: "HTTP 503", Dead: []usage.DeadLetter{dead}}))

	env := []string{"KOOGALLERY_DATABASE_URL=" + dsn}
	tableFlag := []string{"--table", "kgctl_e2e_outbox"}

	r := kgctl(t, env, "", secrets, append([]string{"usage", "status", "--json"}, tableFlag...)...)
	require.Equal(t, 1, r.code, r)
	var st struct {
		Pending, Dead, PastDeadline, AtRisk int
		OK                                  bool
	}
	decodeJSON(t, r.stdout, &st)
	assert.Equal(t, 2, st.Pending)
	assert.Equal(t, 1, st.Dead)
	assert.Equal(t, 1, st.PastDeadline)
	assert.Equal(t, 0, st.AtRisk)
	assert.False(t, st.OK)
	assert.Empty(t, r.stderr)

	r = kgctl(t, env, "", secrets, append([]string{"usage", "status"}, tableFlag...)...)
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL: 1 pending record past the billing deadline")

	r = kgctl(t, env, "", secrets, append([]string{"usage", "dead"}, tableFlag...)...)
	require.Equal(t, 0, r.code, r)
	assert.Regexp(t, `e2e-dead\s+inst-1\s+\S+ \S+ UTC\s+MKT\.9004\s+begin_time is older than 21 days\s+\{"error_code":"MKT\.9004"\}`, r.stdout)

	// A script (stdin is no terminal) must say --yes.
	r = kgctl(t, env, "y\n", secrets, append([]string{"usage", "requeue", "e2e-dead"}, tableFlag...)...)
	require.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "kgctl: requeue changes the outbox: pass --yes to confirm")

	// The connection string from a file.
	file := filepath.Join(t.TempDir(), "dsn")
	require.NoError(t, os.WriteFile(file, []byte(dsn+"\n"), 0o600))
	r = kgctl(t, nil, "", secrets, append([]string{"usage", "requeue", "--yes", "--database-url-file", file, "e2e-dead"}, tableFlag...)...)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "Requeued 1 dead letter (pending, due at once).\n", r.stdout)

	r = kgctl(t, env, "", secrets, "usage", "dead") // the default table is not there
	require.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, `no table "koogallery_usage_outbox" in this database`)

	// A password with unencoded "/", "@", "%" and "#": refused, unquoted.
	bad := "postgres://kg:" + password + "@127.0.0.1:1/db"
	r = kgctl(t, []string{"KOOGALLERY_DATABASE_URL=" + bad}, "", append(secrets, "s3cr"), "usage", "status")
	require.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "kgctl: KOOGALLERY_DATABASE_URL: ")
	assert.Contains(t, r.stderr, "percent-encode the user and password")

	// --database-url is refused, and its value not echoed.
	r = kgctl(t, nil, "", secrets, "usage", "status", "--database-url", dsn)
	require.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "--database-url would show the password to every user of this machine")
}
