package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	saasusage "github.com/isvkit/koogallery/saas/usage"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// now is the tests' clock: the seeded deadlines are relative to it, so the
// tests read the same at any date.
var now = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// password is in every test URL: the server trusts its clients, so any
// password connects, and none may ever appear in kgctl's output.
const password = "p/@%#w0rd"

var (
	serverOnce sync.Once
	server     *pgtest.Server
	serverURL  string
	serverErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.Close()
	}
	os.Exit(code)
}

// databaseURL returns the URL of the test database, with password in it
// (percent-encoded).
func databaseURL(t *testing.T) string {
	t.Helper()
	serverOnce.Do(func() {
		if u := os.Getenv(pgtest.EnvURL); u != "" {
			serverURL = u
			return
		}
		server, serverErr = pgtest.NewServer("")
		if serverErr == nil {
			serverURL = server.URL
		}
	})
	require.NoError(t, serverErr)
	u, err := url.Parse(serverURL)
	require.NoError(t, err)
	if _, ok := u.User.Password(); !ok {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	return u.String()
}

// newTable returns a fresh outbox table's name.
func newTable(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "kgctl_usage_" + hex.EncodeToString(b[:])
}

// seed is an outbox to operate on.
type seed struct {
	dsn, table string
	outbox     *pgstore.UsageOutbox
}

func entry(t *testing.T, sn string, deadline, recorded time.Time) saasusage.Entry {
	t.Helper()
	r := saasusage.Record{
		InstanceID: "inst-" + sn, MeteringSN: sn, RecordTime: recorded,
		BeginTime: recorded.Add(-time.Hour).Truncate(time.Hour), EndTime: recorded.Truncate(time.Hour),
		UsageValue: saasusage.MustDecimal("1.5"),
	}
	payload, err := r.MarshalJSON()
	require.NoError(t, err)
	return saasusage.Entry{Record: r, Payload: payload, Deadline: deadline, Recorded: recorded}
}

// rawAnswer is dead-1's answer from KooGallery.
const rawAnswer = `{"error_code": "MKT.9004", "error_msg": "begin_time is older than 21 days: 2031-02-01T00:00:00Z, the record cannot be billed any more"}`

// newSeed makes an outbox table and fills it: three pending records (one
// on time, one at risk, one past its deadline, each attempted once), two
// sent and three dead.
func newSeed(t *testing.T) *seed {
	t.Helper()
	ctx := context.Background()
	s := &seed{dsn: databaseURL(t), table: newTable(t)}
	pool, err := pgxpool.New(ctx, s.dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	opt := pgstore.WithUsageTable(s.table)
	require.NoError(t, pgstore.MigrateUsageOutbox(ctx, pool, opt))
	s.outbox, err = pgstore.NewUsageOutbox(pool, opt)
	require.NoError(t, err)

	entries := []saasusage.Entry{
		entry(t, "dead-1", now.Add(time.Hour), now.Add(-5*time.Hour)),
		entry(t, "dead-2", now.Add(time.Hour), now.Add(-5*time.Hour)),
		entry(t, "dead-3", now.Add(time.Hour), now.Add(-5*time.Hour)),
		entry(t, "pending-late", now.Add(-10*time.Minute), now.Add(-3*time.Hour)),
		entry(t, "pending-ok", now.Add(3*time.Hour), now.Add(-30*time.Minute)),
		entry(t, "pending-risk", now.Add(20*time.Minute), now.Add(-2*time.Hour)),
		entry(t, "sent-1", now.Add(time.Hour), now.Add(-4*time.Hour)),
		entry(t, "sent-2", now.Add(time.Hour), now.Add(-4*time.Hour)),
	}
	require.NoError(t, s.outbox.Add(ctx, entries))
	claim, err := s.outbox.Claim(ctx, now.Add(-time.Minute), 100, time.Minute)
	require.NoError(t, err)
	require.Len(t, claim.Entries, len(entries))
	dead := func(sn, reason, code, raw string) saasusage.DeadLetter {
		d := saasusage.DeadLetter{Reason: reason, Code: code}
		d.Record.MeteringSN = sn
		if raw != "" {
			d.Raw = json.RawMessage(raw)
		}
		return d
	}
	require.NoError(t, s.outbox.Settle(ctx, claim.Token, saasusage.Settlement{
		Now:   now.Add(-30 * time.Second),
		Sent:  []string{"sent-1", "sent-2"},
		Retry: []string{"pending-late", "pending-ok", "pending-risk"}, RetryAt: now.Add(time.Minute),
		RetryError: "KooGallery answered HTTP 503",
		Dead: []saasusage.DeadLetter{
			dead("dead-1", "begin_time is older than 21 days", "MKT.9004", rawAnswer),
			dead("dead-2", "abnormal record\x1b[2J\nsee the answer", "", `{"metering_sn":"dead-2","code":"`+strings.Repeat("x", 200)+`"}`),
			dead("dead-3", "KooGallery refused the call", "MKT.0100", ""),
		},
	}))
	return s
}

// stats reads the seeded outbox's counts.
func (s *seed) stats(t *testing.T) saasusage.OutboxStats {
	t.Helper()
	st, err := s.outbox.Stats(context.Background(), now)
	require.NoError(t, err)
	return st
}

func (s *seed) env() func(string) string {
	return cmdutil.Env(map[string]string{EnvDatabaseURL: s.dsn})
}

func (s *seed) db() DBFlags { return DBFlags{Table: s.table} }

// noSecret fails t if the password, as written or percent-encoded, or a
// piece of it, is in any of outs.
func noSecret(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		for _, p := range []string{password, url.QueryEscape(password), url.PathEscape(password), "w0rd"} {
			require.NotContains(t, o, p, "the password leaked")
		}
	}
}

func exitCode(err error) int {
	code, _ := cmdutil.ExitCode(err)
	return code
}

func statusOpts(s *seed, ios *cmdutil.IOStreams) *StatusOptions {
	return &StatusOptions{IO: ios, Getenv: s.env(), Now: func() time.Time { return now }, DB: s.db(), Within: time.Hour}
}

func TestStatusTableFailsWhenRecordsAreAtRiskOrLate(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	ios, out, errOut := cmdutil.TestIOStreams("")
	err := statusRun(statusOpts(s, ios))
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Empty(t, err.Error(), "the output says why")
	o := out.String()
	t.Log("\n" + o)
	noSecret(t, o, errOut.String())
	assert.Contains(t, o, "Usage outbox "+s.table+" at 2031-03-04 05:06:07 UTC\n")
	for _, line := range []string{
		"  pending         3\n",
		"  oldest pending  3h ago   (recorded 2031-03-04 02:06:07 UTC)\n",
		"  next deadline   10m ago  (2031-03-04 04:56:07 UTC)\n",
		"  past deadline   1\n",
		"  at risk         1        (deadline within 1h)\n",
		"  sent            2        (not yet purged)\n",
		"  dead            3        (kgctl usage dead lists them)\n",
	} {
		assert.Contains(t, o, line)
	}
	assert.Regexp(t, `pending-late\s+inst-pending-late\s+2031-03-04 04:56:07 UTC\s+passed 10m ago\s+1\s+KooGallery answered HTTP 503`, o)
	assert.Regexp(t, `pending-risk\s+inst-pending-risk\s+2031-03-04 05:26:07 UTC\s+20m\s+1\s+`, o)
	assert.NotContains(t, o, "pending-ok")
	assert.Contains(t, o, "FAIL: 1 pending record past the billing deadline, 1 record within 1h of it")
}

func TestStatusJSON(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	ios, out, _ := cmdutil.TestIOStreams("")
	opts := statusOpts(s, ios)
	opts.JSON = true
	err := statusRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(out.String()), &r), out.String())
	noSecret(t, out.String())
	for k, v := range map[string]any{
		"table": s.table, "now": "2031-03-04T05:06:07Z",
		"pending": 3.0, "leased": 0.0, "sent": 2.0, "dead": 3.0,
		"oldestPending": "2031-03-04T02:06:07Z", "oldestPendingAgeSeconds": 3 * 3600.0,
		"nextDeadline": "2031-03-04T04:56:07Z", "withinSeconds": 3600.0,
		"atRisk": 1.0, "pastDeadline": 1.0, "ok": false,
	} {
		assert.Equal(t, v, r[k], k)
	}
	assert.NotContains(t, r, "countsCapped")
	earliest := r["earliest"].([]any)
	require.Len(t, earliest, 2)
	first := earliest[0].(map[string]any)
	assert.Equal(t, "pending-late", first["meteringSn"])
	assert.Equal(t, "inst-pending-late", first["instanceId"])
	assert.Equal(t, "2031-03-04T04:56:07Z", first["deadline"])
	assert.Equal(t, 1.0, first["attempts"])
	assert.Equal(t, "KooGallery answered HTTP 503", first["lastError"])
	assert.Equal(t, "pending-risk", earliest[1].(map[string]any)["meteringSn"])

	// A wider window takes in the record due in three hours.
	ios, out, _ = cmdutil.TestIOStreams("")
	opts = statusOpts(s, ios)
	opts.JSON, opts.Within = true, 4*time.Hour
	require.Error(t, statusRun(opts))
	require.NoError(t, json.Unmarshal([]byte(out.String()), &r))
	assert.Equal(t, 2.0, r["atRisk"])
	assert.Equal(t, 1.0, r["pastDeadline"])
}

func TestStatusOKExits0(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	ctx := context.Background()
	// Only the dead letters and the record due in three hours are left.
	_, err := s.outbox.Purge(ctx, now)
	require.NoError(t, err)
	claim, err := s.outbox.Claim(ctx, now.Add(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.outbox.Settle(ctx, claim.Token, saasusage.Settlement{Now: now, Sent: []string{"pending-late", "pending-risk"},
		Retry: []string{"pending-ok"}, RetryAt: now.Add(time.Minute)}))
	_, err = s.outbox.Purge(ctx, now.Add(time.Second))
	require.NoError(t, err)

	ios, out, _ := cmdutil.TestIOStreams("")
	require.NoError(t, statusRun(statusOpts(s, ios)))
	assert.Contains(t, out.String(), "  pending         1\n")
	assert.Contains(t, out.String(), "OK: no pending record is past its billing deadline or within 1h of it\n")
	assert.NotContains(t, out.String(), "Earliest deadlines")

	// An empty outbox is OK, and has no oldest record.
	empty := newSeed(t)
	pool, err := pgxpool.New(ctx, empty.dsn)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(ctx, "TRUNCATE "+empty.outbox.Table())
	require.NoError(t, err)
	ios, out, _ = cmdutil.TestIOStreams("")
	opts := statusOpts(empty, ios)
	opts.JSON = true
	require.NoError(t, statusRun(opts))
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(out.String()), &r))
	assert.Equal(t, true, r["ok"])
	assert.Equal(t, 0.0, r["pending"])
	assert.NotContains(t, r, "oldestPending")
	assert.Equal(t, []any{}, r["earliest"])

	opts.Within = 0
	assert.Equal(t, cmdutil.ExitUsage, exitCode(statusRun(opts)))
}

func TestDeadListsReasonsCodesAndAnswers(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	ios, out, errOut := cmdutil.TestIOStreams("")
	opts := &DeadOptions{IO: ios, Getenv: s.env(), DB: s.db(), Limit: 50}
	require.NoError(t, deadRun(opts))
	o := out.String()
	t.Log("\n" + o)
	noSecret(t, o, errOut.String())
	lines := strings.Split(strings.TrimSuffix(o, "\n"), "\n")
	require.Len(t, lines, 4, o)
	assert.Regexp(t, `^METERING_SN\s+INSTANCE\s+DIED\s+CODE\s+REASON\s+ANSWER$`, lines[0])
	assert.Regexp(t, `^dead-1\s+inst-dead-1\s+2031-03-04 05:05:37 UTC\s+MKT\.9004\s+begin_time is older than 21 days\s+\{"error_code":"MKT\.9004","error_msg":"begin_time is older than 21 days: 2031-02…$`, lines[1])
	// Control characters are escaped, and a long answer is cut.
	assert.Contains(t, lines[2], `abnormal record\x1b[2J\nsee the answer`)
	assert.NotContains(t, o, "\x1b")
	assert.Contains(t, lines[2], `{"metering_sn":"dead-2","code":"xxxxxxxxxx`)
	assert.True(t, strings.HasSuffix(lines[2], "…"), lines[2])
	assert.Regexp(t, `^dead-3\s+inst-dead-3\s+\S+ \S+ UTC\s+MKT\.0100\s+KooGallery refused the call\s+-$`, lines[3])
	assert.Empty(t, errOut.String())

	// JSON has the answers whole.
	ios, out, _ = cmdutil.TestIOStreams("")
	opts = &DeadOptions{IO: ios, Getenv: s.env(), DB: s.db(), Limit: 2, JSON: true}
	require.NoError(t, deadRun(opts))
	var list struct {
		Table       string `json:"table"`
		More        bool   `json:"more"`
		Next        string `json:"next"`
		DeadLetters []struct {
			MeteringSN string          `json:"meteringSn"`
			Reason     string          `json:"reason"`
			Code       string          `json:"code"`
			Raw        json.RawMessage `json:"raw"`
			Died       time.Time       `json:"died"`
			Record     struct {
				InstanceID string `json:"instance_id"`
			} `json:"record"`
			Attempts int `json:"attempts"`
		} `json:"deadLetters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &list), out.String())
	assert.Equal(t, s.table, list.Table)
	assert.True(t, list.More)
	assert.Equal(t, "dead-2", list.Next)
	require.Len(t, list.DeadLetters, 2)
	d := list.DeadLetters[0]
	assert.Equal(t, "dead-1", d.MeteringSN)
	assert.Equal(t, "MKT.9004", d.Code)
	assert.Equal(t, "begin_time is older than 21 days", d.Reason)
	assert.JSONEq(t, rawAnswer, string(d.Raw))
	assert.Equal(t, now.Add(-30*time.Second), d.Died)
	assert.Equal(t, "inst-dead-1", d.Record.InstanceID)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, "abnormal record\x1b[2J\nsee the answer", list.DeadLetters[1].Reason)
	assert.Contains(t, string(list.DeadLetters[1].Raw), strings.Repeat("x", 200))

	// Pages.
	ios, out, errOut = cmdutil.TestIOStreams("")
	opts = &DeadOptions{IO: ios, Getenv: s.env(), DB: s.db(), Limit: 2}
	require.NoError(t, deadRun(opts))
	assert.Equal(t, "More dead letters follow: kgctl usage dead --after dead-2\n", errOut.String())
	ios, out, _ = cmdutil.TestIOStreams("")
	opts = &DeadOptions{IO: ios, Getenv: s.env(), DB: s.db(), Limit: 2, After: "dead-2"}
	require.NoError(t, deadRun(opts))
	assert.Contains(t, out.String(), "dead-3")
	assert.NotContains(t, out.String(), "dead-1")
	ios, out, errOut = cmdutil.TestIOStreams("")
	opts = &DeadOptions{IO: ios, Getenv: s.env(), DB: s.db(), Limit: 2, After: "dead-3"}
	require.NoError(t, deadRun(opts))
	assert.Empty(t, out.String())
	assert.Equal(t, "No dead letters after dead-3 in "+s.table+".\n", errOut.String())

	opts.Limit = 0
	assert.Equal(t, cmdutil.ExitUsage, exitCode(deadRun(opts)))
}

func changeOpts(s *seed, stdin string, tty, discard bool, sns ...string) (*ChangeOptions, *cmdutil.SyncBuffer, *cmdutil.SyncBuffer) {
	ios, out, errOut := cmdutil.TestIOStreams(stdin)
	ios.SetStdinTTY(tty)
	return &ChangeOptions{IO: ios, Getenv: s.env(), Now: func() time.Time { return now }, DB: s.db(), Discard: discard, MeteringSNs: sns}, out, errOut
}

func TestRequeueAndDiscard(t *testing.T) {
	t.Parallel()
	s := newSeed(t)

	// Not a terminal, no --yes: refused before anything.
	opts, out, errOut := changeOpts(s, "y\n", false, false, "dead-1")
	err := changeRun(opts)
	assert.Equal(t, cmdutil.ExitUsage, exitCode(err))
	assert.EqualError(t, err, "requeue changes the outbox: pass --yes to confirm (standard input is not a terminal to ask on)")
	assert.Empty(t, out.String()+errOut.String())
	assert.Equal(t, 3, s.stats(t).Dead)

	// A terminal: declined.
	opts, out, errOut = changeOpts(s, "n\n", true, false, "dead-1")
	err = changeRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.EqualError(t, err, "not confirmed: nothing was requeued")
	assert.Equal(t, "Requeue 1 dead letter (dead-1) in "+s.table+"? They will be sent to KooGallery again. [y/N] ", errOut.String())
	assert.Empty(t, out.String())
	assert.Equal(t, 3, s.stats(t).Dead)

	// End of input is a no.
	opts, _, _ = changeOpts(s, "", true, true, "dead-1")
	assert.EqualError(t, changeRun(opts), "not confirmed: nothing was discarded")
	assert.Equal(t, 3, s.stats(t).Dead)

	// A terminal: confirmed.
	opts, out, errOut = changeOpts(s, "yes\n", true, false, "dead-1", "dead-1")
	require.NoError(t, changeRun(opts))
	assert.Equal(t, "Requeued 1 dead letter (pending, due at once).\n", out.String())
	st := s.stats(t)
	assert.Equal(t, 2, st.Dead)
	assert.Equal(t, 4, st.Pending)
	requeued, err := s.outbox.Claim(context.Background(), now, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, requeued.Entries, 1, "due at once; the others retry in a minute")
	assert.Equal(t, "dead-1", requeued.Entries[0].Record.MeteringSN)

	// --yes, one named metering_sn not a dead letter: exit 1.
	opts, out, errOut = changeOpts(s, "", false, true, "dead-2", "pending-ok", "nosuch")
	opts.Yes = true
	err = changeRun(opts)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Equal(t, "Discarded 1 dead letter (deleted; never billed).\n2 metering_sns of 3 named are not a dead letter (pending, sent, or unknown): left as they were.\n", out.String())
	assert.Empty(t, errOut.String())
	st = s.stats(t)
	assert.Equal(t, 1, st.Dead)
	assert.Equal(t, 4, st.Pending)

	// --all-dead.
	opts, out, _ = changeOpts(s, "", false, false)
	opts.AllDead, opts.Yes = true, true
	require.NoError(t, changeRun(opts))
	assert.Equal(t, "Requeued 1 dead letter (pending, due at once).\n", out.String())
	assert.Equal(t, 0, s.stats(t).Dead)
	opts, out, _ = changeOpts(s, "", true, true)
	opts.AllDead = true
	require.NoError(t, changeRun(opts))
	assert.Equal(t, "No dead letters in "+s.table+": nothing to discard.\n", out.String())

	// Usage errors.
	for _, o := range []*ChangeOptions{
		func() *ChangeOptions { o, _, _ := changeOpts(s, "", true, false); return o }(),
		func() *ChangeOptions { o, _, _ := changeOpts(s, "", true, false, "x"); o.AllDead = true; return o }(),
		func() *ChangeOptions { o, _, _ := changeOpts(s, "", true, false, " "); return o }(),
	} {
		assert.Equal(t, cmdutil.ExitUsage, exitCode(changeRun(o)))
	}
}

func TestAllDeadAsksWithTheCount(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	opts, out, errOut := changeOpts(s, "y\n", true, true)
	opts.AllDead = true
	require.NoError(t, changeRun(opts))
	assert.Equal(t, "Discard all 3 dead letters (dead-1, dead-2, dead-3) in "+s.table+"? They are deleted, and never billed. [y/N] ", errOut.String())
	assert.Equal(t, "Discarded 3 dead letters (deleted; never billed).\n", out.String())
	assert.Equal(t, 0, s.stats(t).Dead)
	assert.Equal(t, 3, s.stats(t).Pending)
}

// TestConnectionErrorsNeverShowThePassword tries connection strings that
// are malformed, or that name no reachable server, database or table,
// each with the password in it, and checks that no error shows it.
func TestConnectionErrorsNeverShowThePassword(t *testing.T) {
	t.Parallel()
	good := databaseURL(t)
	u, err := url.Parse(good)
	require.NoError(t, err)
	host := u.Host
	enc := url.QueryEscape(password)

	for _, tc := range []struct {
		name, dsn string
		code      int
		want      string
	}{
		{"unencoded", "postgres://kg:" + password + "@" + host + "/db", cmdutil.ExitUsage, "percent-encode the user and password"},
		{"slash", "postgres://kg:pa/w0rd@" + host + "/db", cmdutil.ExitUsage, "the port is not a number"},
		{"hash", "postgres://kg:pa#w0rd@" + host + "/db", cmdutil.ExitUsage, "the port is not a number"},
		{"at", "postgres://kg:p@w0rd@" + host + "/db", cmdutil.ExitUsage, `unencoded "@"`},
		{"percent", "postgres://kg:p%zzw0rd@" + host + "/db", cmdutil.ExitUsage, `a "%" is not followed by two hexadecimal digits`},
		{"bad option", "postgres://kg:" + enc + "@" + host + "/db?sslmode=bogus", cmdutil.ExitUsage, "not a valid postgres:// URL"},
		{"keyword unterminated", "host=127.0.0.1 user=kg password='" + password, cmdutil.ExitUsage, "keyword/value pairs"},
		{"closed port", "postgres://kg:" + enc + "@127.0.0.1:1/db?connect_timeout=5", cmdutil.ExitRun, "connect to PostgreSQL (127.0.0.1:1, database \"db\", user \"kg\", from KOOGALLERY_DATABASE_URL)"},
		{"closed port, keywords", "host=127.0.0.1 port=1 user=kg password='" + password + "' connect_timeout=5", cmdutil.ExitRun, "connect to PostgreSQL"},
		{"password in the query", "postgres://127.0.0.1:1/db?user=kg&password=" + enc + "&connect_timeout=5", cmdutil.ExitRun, "connect to PostgreSQL"},
		{"no such role", "postgres://w0rdrole:" + enc + "@" + host + "/postgres", cmdutil.ExitRun, "connect to PostgreSQL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := cmdutil.TestIOStreams("")
			opts := &StatusOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{EnvDatabaseURL: tc.dsn}), Now: func() time.Time { return now }, Within: time.Hour}
			err := statusRun(opts)
			require.Error(t, err)
			assert.Equal(t, tc.code, exitCode(err), err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.name != "no such role" { // the role's name holds "w0rd", and is no secret
				noSecret(t, err.Error(), fmt.Sprintf("%+v %#v", err, err), out.String(), errOut.String())
			} else {
				assert.NotContains(t, err.Error(), enc)
				assert.NotContains(t, err.Error(), password)
			}
		})
	}
}

func TestConnectionSources(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	dir := t.TempDir()
	file := dir + "/dsn"
	require.NoError(t, os.WriteFile(file, []byte(s.dsn+"\n"), 0o600))

	// --database-url-file, over the environment.
	ios, out, _ := cmdutil.TestIOStreams("")
	opts := &DeadOptions{IO: ios, Getenv: cmdutil.Env(map[string]string{EnvDatabaseURL: "postgres://127.0.0.1:1/x"}), Limit: 1, JSON: true,
		DB: DBFlags{URLFile: file, Table: s.table}}
	require.NoError(t, deadRun(opts))
	assert.Contains(t, out.String(), `"meteringSn": "dead-1"`)

	for _, tc := range []struct {
		name string
		db   DBFlags
		env  map[string]string
		code int
		want string
	}{
		{"none", DBFlags{}, nil, cmdutil.ExitUsage, "no database: set KOOGALLERY_DATABASE_URL (postgres://user:password@host:5432/db, as for the seller server) or pass --database-url-file"},
		{"flag", DBFlags{urlFlag: s.dsn}, nil, cmdutil.ExitUsage, "--database-url would show the password to every user of this machine (ps, /proc): set KOOGALLERY_DATABASE_URL or pass --database-url-file"},
		{"empty file", DBFlags{URLFile: writeFile(t, dir, "empty", "\n")}, nil, cmdutil.ExitUsage, "is empty"},
		{"missing file", DBFlags{URLFile: dir + "/missing"}, nil, cmdutil.ExitRun, "read --database-url-file: open " + dir + "/missing: no such file or directory"},
		{"missing table", DBFlags{Table: "nosuch_table"}, map[string]string{EnvDatabaseURL: s.dsn}, cmdutil.ExitUsage,
			`read the dead letters: no table "nosuch_table" in this database: wrong database or --table, or the seller server has not created it yet (pgstore.MigrateUsageOutbox)`},
		{"long table", DBFlags{Table: strings.Repeat("t", 60)}, map[string]string{EnvDatabaseURL: s.dsn}, cmdutil.ExitUsage, "--table"},
	} {
		ios, out, errOut := cmdutil.TestIOStreams("")
		opts := &DeadOptions{IO: ios, Getenv: cmdutil.Env(tc.env), Limit: 1, DB: tc.db}
		err := deadRun(opts)
		require.Error(t, err, tc.name)
		assert.Equal(t, tc.code, exitCode(err), "%s: %v", tc.name, err)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		noSecret(t, err.Error(), out.String(), errOut.String())
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := dir + "/" + name
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestSecretsMaskEveryForm(t *testing.T) {
	t.Parallel()
	_, sec, err := parseDSN(EnvDatabaseURL, "postgres://kg:"+url.QueryEscape(password)+"@db.internal:5432/x")
	require.NoError(t, err)
	inner := fmt.Errorf("dial: %s / %s / %s / %s", password, url.QueryEscape(password), url.PathEscape(password), "p%2F%40%25%23w0rd")
	wrapped := sec.wrap("connect", inner)
	assert.Equal(t, "connect: dial: xxxxx / xxxxx / xxxxx / xxxxx", wrapped.Error())
	assert.ErrorIs(t, wrapped, inner)
}

func TestSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                 "plain",
		"a\nb\tc\x1b[2J":        `a\nb\tc\x1b[2J`,
		"back\\slash":           `back\\slash`,
		"bad \xff utf8":         `bad \xff utf8`,
		"zero\u200bwidth":       `zero\u200bwidth`,
		"中文 ok":                 "中文 ok",
		strings.Repeat("x", 22): strings.Repeat("x", 19) + "…",
		strings.Repeat("y", 20): strings.Repeat("y", 20),
	} {
		assert.Equal(t, want, safe(in, 20), "%q", in)
	}
	for d, want := range map[time.Duration]string{
		0: "0s", 12 * time.Second: "12s", 4*time.Minute + 30*time.Second: "4m30s", 10 * time.Minute: "10m",
		time.Hour + 59*time.Second: "1h", 2*time.Hour + 5*time.Minute + 9*time.Second: "2h5m", -90 * time.Second: "1m30s",
	} {
		assert.Equal(t, want, fmtDuration(d), "%v", d)
	}
	assert.Equal(t, "abc", shellQuote("abc"))
	assert.Equal(t, `'a b'\''c'`, shellQuote("a b'c"))
}

func TestHelpHasExamplesAndExitCodes(t *testing.T) {
	t.Parallel()
	ios, _, _ := cmdutil.TestIOStreams("")
	cmd := NewCmdUsage(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil), Now: time.Now})
	names := []string{}
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
		assert.Contains(t, c.Example, "kgctl usage "+c.Name(), c.Name())
		assert.Contains(t, c.Long, "KOOGALLERY_DATABASE_URL", c.Name())
		assert.NotNil(t, c.Flags().Lookup("database-url-file"), c.Name())
		assert.NotNil(t, c.Flags().Lookup("table"), c.Name())
		assert.True(t, c.Flags().Lookup("database-url").Hidden, c.Name())
		if c.Name() == "requeue" || c.Name() == "discard" {
			assert.Contains(t, c.Long, "exits 1", c.Name())
		}
	}
	assert.ElementsMatch(t, []string{"status", "dead", "requeue", "discard"}, names)
	status, _, err := cmd.Find([]string{"status"})
	require.NoError(t, err)
	assert.Contains(t, status.Long, "It exits 1 when a pending record is past its billing deadline or at risk")
}

// TestCommandsWireFlags runs each command through cobra with runF, to
// check the flags reach the options.
func TestCommandsWireFlags(t *testing.T) {
	t.Parallel()
	ios, _, _ := cmdutil.TestIOStreams("")
	f := &cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil), Now: time.Now}

	var st *StatusOptions
	c := NewCmdStatus(f, func(o *StatusOptions) error { st = o; return nil })
	c.SetArgs([]string{"--within", "30m", "--json", "--table", "billing.outbox", "--database-url-file", "/run/dsn"})
	require.NoError(t, c.Execute())
	assert.Equal(t, 30*time.Minute, st.Within)
	assert.True(t, st.JSON)
	assert.Equal(t, DBFlags{URLFile: "/run/dsn", Table: "billing.outbox"}, st.DB)

	var d *DeadOptions
	c = NewCmdDead(f, func(o *DeadOptions) error { d = o; return nil })
	c.SetArgs([]string{"--after", "sn-9", "--limit", "7"})
	require.NoError(t, c.Execute())
	assert.Equal(t, "sn-9", d.After)
	assert.Equal(t, 7, d.Limit)
	assert.Equal(t, pgstore.DefaultUsageTable, d.DB.Table)

	var ch *ChangeOptions
	c = NewCmdDiscard(f, func(o *ChangeOptions) error { ch = o; return nil })
	c.SetArgs([]string{"-y", "a", "b"})
	require.NoError(t, c.Execute())
	assert.True(t, ch.Discard)
	assert.True(t, ch.Yes)
	assert.Equal(t, []string{"a", "b"}, ch.MeteringSNs)
	c = NewCmdRequeue(f, func(o *ChangeOptions) error { ch = o; return nil })
	c.SetArgs([]string{"--all-dead"})
	require.NoError(t, c.Execute())
	assert.False(t, ch.Discard)
	assert.True(t, ch.AllDead)
}

func TestQuestionNamesFiveAndCountsTheRest(t *testing.T) {
	t.Parallel()
	opts := &ChangeOptions{Discard: true}
	assert.Equal(t, `Discard 7 dead letters (a, b, c\nx, d, e and 2 more) in tbl? They are deleted, and never billed.`,
		question(opts, "tbl", []string{"a", "b", "c\nx", "d", "e", "f", "g"}))
}
