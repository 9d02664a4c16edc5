package proof

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store/pgstore/pgtest"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

func TestDumpCheck(t *testing.T) {
	d := &Dump{
		Events: []string{
			"provision|v2/O/L|I-1|0", "provision|v2/O/L|I-2|1", "provision|v2/O/L|I-3|2", // one line, three creations
			"provision|v1/P|V1-1|0", "upgrade|v2up/U/L|I-1|1", "upgrade|v2up/U/L|I-1|2", "upgrade|v1up/W|V1-1|0",
		},
		Notes: map[string]int{"v2.newInstance/B1": 1, "v1.instanceStatus/C2": 2, noteForged + "FORGED-1": 1,
			noteResumed + "v2/O/L": 2, noteFoundReady + "v1/P": 1,
			"v1.newInstance/" + prefixProbe + "x-1": 2}, // a probe's replay: the probe reports it
	}
	v := d.Check()
	assert.Equal(t, []string{"provision v2/O/L", "upgrade v2up/U/L"}, v.Duplicates)
	assert.Equal(t, []string{"v1.instanceStatus/C2 ×2"}, v.ReRuns)
	assert.Equal(t, []string{noteForged + "FORGED-1"}, v.Forged)
	assert.Equal(t, 4, v.Creations)
	assert.Equal(t, 3, v.Upgrades)
	assert.Equal(t, 2, v.Resumed)
	assert.Equal(t, 1, v.FoundReady)
	assert.Empty(t, (&Dump{Events: []string{"provision|a|1|0", "provision|b|2|0"}, Notes: map[string]int{"x": 1}}).Check().Duplicates)
}

// Every ledger stores, logs atomically with its value and counts, and a
// dump survives its JSON encoding (the memory ledger is read over HTTP).
func TestLedgers(t *testing.T) {
	ctx := context.Background()
	for name, open := range map[string]func(t *testing.T) Ledger{
		Memory: func(*testing.T) Ledger { return newMemLedger() },
		Redis: func(t *testing.T) Ledger {
			return &redisLedger{c: redis.NewClient(redistest.Options(t))}
		},
		Postgres: func(t *testing.T) Ledger {
			pool, err := pgPool(ctx, pgtest.URL(t))
			require.NoError(t, err)
			_, err = pool.Exec(ctx, pgLedgerSchema)
			require.NoError(t, err)
			return &pgLedger{pool: pool}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := open(t)
			defer l.Close()
			_, found, err := l.Get(ctx, "k")
			require.NoError(t, err)
			assert.False(t, found)
			require.NoError(t, l.Put(ctx, "k", "h|I-1", "provision|k|I-1|0"))
			require.NoError(t, l.Put(ctx, "k", "r|I-1", ""))
			v, found, err := l.Get(ctx, "k")
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, "r|I-1", v)
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() { defer wg.Done(); assert.NoError(t, l.Note(ctx, "m")) }()
			}
			wg.Wait()
			require.NoError(t, l.Note(ctx, "once"))
			d, err := l.Dump(ctx)
			require.NoError(t, err)
			raw, err := json.Marshal(d)
			require.NoError(t, err)
			var back Dump
			require.NoError(t, json.Unmarshal(raw, &back))
			assert.Equal(t, []string{"provision|k|I-1|0"}, back.Events)
			assert.Equal(t, map[string]int{"m": 50, "once": 1}, back.Notes)
			assert.Equal(t, []string{"m ×50"}, back.Check().ReRuns)

			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if name != Memory {
				assert.Error(t, l.Put(cctx, "k2", "v", "provision|k2|v|0"), "a cancelled write fails")
			}
		})
	}
}

func TestProxy(t *testing.T) {
	var hits [3]atomic.Int64
	var pins [3]atomic.Int64
	servers := make([]*httptest.Server, 3)
	for i := range servers {
		servers[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			if r.Header.Get(headerPin) != "" {
				pins[i].Add(1) // the proxy must not forward its own header
			}
			w.Header().Set(headerReplica, string(rune('0'+i)))
		}))
		defer servers[i].Close()
	}
	p, err := newProxy(3)
	require.NoError(t, err)
	defer p.close()
	for i, s := range servers {
		p.set(i, strings.TrimPrefix(s.URL, "http://"))
	}
	client := &http.Client{Transport: pinTransport{http.DefaultTransport}}
	get := func(pin int) int {
		rt := &route{pin: pin, replica: -1}
		req, err := http.NewRequestWithContext(context.WithValue(context.Background(), routeKey{}, rt), http.MethodGet, p.url+"/x", nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return rt.replica
	}
	for range 30 {
		get(-1)
	}
	for i := range hits {
		assert.Equal(t, int64(10), hits[i].Load(), "round robin, replica %d", i)
	}
	for range 5 {
		assert.Equal(t, 2, get(2), "pinned")
	}
	p.set(2, "")
	for range 6 {
		assert.NotEqual(t, 2, get(2), "a pin to a replica that is down falls back to the others")
	}
	for i := range pins {
		assert.Zero(t, pins[i].Load())
	}
	p.set(0, "")
	p.set(1, "")
	resp, err := http.Get(p.url + "/x")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "none up")
	p.set(1, "127.0.0.1:1") // nothing listens there
	resp, err = http.Get(p.url + "/x")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "a dead replica")
}

// deliver re-signs every attempt (a new nonce), retries 000005, errors and
// timeouts on another replica, and gives up after the schedule, counting
// the call as unanswered.
func TestDeliver(t *testing.T) {
	var mu sync.Mutex
	var nonces []string
	answers := []string{"000005", "hang", "garbage", "000000"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		nonces = append(nonces, r.URL.Query().Get("nonce"))
		a := answers[min(len(nonces), len(answers))-1]
		mu.Unlock()
		w.Header().Set(headerReplica, "1")
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a hang-up once the body is read
		switch a {
		case "hang":
			<-r.Context().Done()
		case "garbage":
			w.WriteHeader(http.StatusBadGateway)
		default:
			_, _ = io.WriteString(w, `{"resultCode":"`+a+`","resultMsg":"m","instanceId":"i-1"}`)
		}
	}))
	defer srv.Close()
	tl := newTally()
	k := newKG(srv.URL, 3, 10*time.Millisecond, tl)
	defer k.close()
	k.timeout = 200 * time.Millisecond
	build := func() (attempt, error) {
		c, err := k.v2.Sign(srv.URL+pathV2, map[string]string{"activity": "queryInstance", "instanceId": "i-1"})
		return callAttempt(c), err
	}
	a := k.deliver(context.Background(), "saas.v2", "queryInstance", schedNew, -1, build)
	assert.True(t, a.ok())
	assert.Equal(t, "i-1", a.instanceID)
	assert.Equal(t, 1, a.replica)
	require.Len(t, nonces, 4)
	assert.Len(t, map[string]bool{nonces[0]: true, nonces[1]: true, nonces[2]: true, nonces[3]: true}, 4, "re-signed every time")
	assert.Equal(t, map[string]int{"genuine 000005": 1, "genuine timeout": 1, "genuine error": 1, "genuine 000000": 1}, tl.Codes)
	assert.Equal(t, 3, tl.Retries)
	assert.Equal(t, 1, tl.Answered)

	mu.Lock()
	answers, nonces = []string{"000001"}, nil
	mu.Unlock()
	a = k.deliver(context.Background(), "saas.v2", "queryInstance", schedHour, -1, build)
	assert.False(t, a.ok())
	assert.Len(t, nonces, schedHour.attempts, "retried as KooGallery does, then given up")
	assert.Equal(t, 2, tl.Genuine)
	assert.Equal(t, 1, tl.Answered)
	assert.Equal(t, 1, tl.count(&tl.unanswered))
	assert.Equal(t, 2, tl.count(&tl.refusedGenuine), "a genuine call refused is a problem")
}

func TestLeaked(t *testing.T) {
	before := goroutines()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() { <-release; close(done) }()
	extra := leaked(before, 100*time.Millisecond)
	require.Len(t, extra, 1)
	assert.Contains(t, extra[0], "TestLeaked")
	close(release)
	<-done
	assert.Empty(t, leaked(before, time.Second))
}

func TestPostgresPIDs(t *testing.T) {
	srv := pgtest.Start(t)
	pids, err := postgresPIDs(srv.Dir + "/data")
	require.NoError(t, err)
	assert.Greater(t, len(pids), 2, "the postmaster and its background processes")
	_, err = postgresPIDs(t.TempDir())
	assert.Error(t, err)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
}
