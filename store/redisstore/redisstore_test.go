package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/redisstore"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// The servers are shared by every test of the package and stopped by
// TestMain; each test writes under a prefix of its own.
var (
	mu      sync.Mutex
	clients = map[string]redis.UniversalClient{}
	closers []func()
)

// quietLogger drops go-redis's own log lines (reconnects, failovers) so
// that test output stays readable; errors reach the tests as errors.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	code := m.Run()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	os.Exit(code)
}

// topology returns the shared client of a topology, starting its servers on
// first use.
func topology(t testing.TB, name string) redis.UniversalClient {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if c := clients[name]; c != nil {
		return c
	}
	var c redis.UniversalClient
	switch name {
	case "single":
		if u := os.Getenv(redistest.EnvURL); u != "" {
			o, err := redis.ParseURL(u)
			if err != nil { // not err: it quotes the URL, password and all
				t.Fatalf("%s is not a valid redis:// URL", redistest.EnvURL)
			}
			o.ContextTimeoutEnabled = true
			c = redis.NewClient(o)
			break
		}
		s, err := redistest.NewServer(tempDir(t))
		require.NoError(t, err)
		closers = append(closers, s.Close)
		c = redis.NewClient(s.Options())
	case "sentinel":
		s, err := redistest.NewSentinel(tempDir(t))
		require.NoError(t, err)
		closers = append(closers, s.Close)
		c = redis.NewFailoverClient(s.FailoverOptions())
	case "cluster":
		s, err := redistest.NewCluster(tempDir(t))
		require.NoError(t, err)
		closers = append(closers, s.Close)
		c = redis.NewClusterClient(s.ClusterOptions())
	default:
		t.Fatalf("unknown topology %q", name)
	}
	closers = append(closers, func() { c.Close() })
	clients[name] = c
	return c
}

func tempDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "redisstore-test-")
	require.NoError(t, err)
	closers = append(closers, func() { os.RemoveAll(d) })
	return d
}

// newStore returns a Store on the topology's client under a prefix no other
// test uses.
func newStore(t testing.TB, c redis.UniversalClient) *redisstore.Store {
	return mustNew(t, c, redisstore.WithPrefix(uniquePrefix(t)))
}

// mustNew returns redisstore.New's Store, failing t on its error.
func mustNew(t testing.TB, c redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, opts...)
	require.NoError(t, err)
	require.NotNil(t, s)
	return s
}

func uniquePrefix(t testing.TB) string {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "kgtest-" + hex.EncodeToString(b[:]) + ":"
}

// TestConformance runs the store suites on every topology, and through
// Sentinel with every write waiting for the replica.
func TestConformance(t *testing.T) {
	variants := []struct {
		name, topology string
		opts           []redisstore.Option
	}{
		{"single", "single", nil},
		{"sentinel", "sentinel", nil},
		{"cluster", "cluster", nil},
		{"sentinel+WithWait", "sentinel", []redisstore.Option{redisstore.WithWait(1, 5*time.Second)}},
	}
	for _, v := range variants {
		// The suites check the contract with up to 1,000 concurrent callers
		// on every topology at once, under the race detector in CI, on 2
		// cores: a generous bound, so that a slow machine is not a broken
		// contract. TestOperationsEndWhenTheServerStopsAnswering checks the
		// default bound.
		mk := func(t *testing.T) *redisstore.Store {
			return mustNew(t, topology(t, v.topology), append([]redisstore.Option{redisstore.WithPrefix(uniquePrefix(t)), redisstore.WithTimeout(time.Minute)}, v.opts...)...)
		}
		t.Run(v.name+"/Store", func(t *testing.T) {
			t.Parallel()
			storetest.RunStore(t, func(t *testing.T) store.Store { return mk(t) })
		})
		t.Run(v.name+"/ReplayCache", func(t *testing.T) {
			t.Parallel()
			storetest.RunReplayCache(t, func(t *testing.T) store.ReplayCache { return mk(t) })
		})
	}
}

// The keys, values and TTLs are the documented layout.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := topology(t, "single")
	s := mustNew(t, c, redisstore.WithPrefix("layout-test:"))
	t.Cleanup(func() { c.Del(ctx, "layout-test:rec:k", "layout-test:replay:n") })

	_, ok, err := s.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Regexp(t, "^c[0-9a-f]{16}$", c.Get(ctx, "layout-test:rec:k").Val(), "a claim and its token")
	pttl := c.PTTL(ctx, "layout-test:rec:k").Val()
	assert.True(t, pttl > 50*time.Second && pttl <= time.Minute, "claim PTTL %v, want the lease", pttl)

	require.NoError(t, s.Complete(ctx, "k", &store.Record{InstanceID: "i\x00d", Pending: true}, time.Hour))
	assert.Equal(t, "r1i\x00d", c.Get(ctx, "layout-test:rec:k").Val())
	pttl = c.PTTL(ctx, "layout-test:rec:k").Val()
	assert.True(t, pttl > 59*time.Minute && pttl <= time.Hour, "record PTTL %v, want the keep", pttl)

	added, err := s.Add(ctx, "n", 65*time.Second)
	require.NoError(t, err)
	require.True(t, added)
	assert.Regexp(t, "^[0-9a-f]{16}$", c.Get(ctx, "layout-test:replay:n").Val(), "the Add's token")
	pttl = c.PTTL(ctx, "layout-test:replay:n").Val()
	assert.True(t, pttl > 60*time.Second && pttl <= 65*time.Second, "replay PTTL %v, want the ttl", pttl)

	// Records and replay keys of the same name do not collide.
	added, err = s.Add(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, added)
	t.Cleanup(func() { c.Del(ctx, "layout-test:replay:k") })

	// The default prefix.
	d := mustNew(t, c)
	_, ok, err = d.Claim(ctx, "layout-test-default", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	t.Cleanup(func() { c.Del(ctx, redisstore.DefaultPrefix+"rec:layout-test-default") })
	assert.Regexp(t, "^c[0-9a-f]{16}$", c.Get(ctx, redisstore.DefaultPrefix+"rec:layout-test-default").Val())

	// What earlier versions wrote (a claim "c", a replay key "1") keeps its
	// meaning.
	require.NoError(t, c.Set(ctx, "layout-test:rec:old", "c", time.Minute).Err())
	require.NoError(t, c.Set(ctx, "layout-test:replay:old", "1", time.Minute).Err())
	t.Cleanup(func() { c.Del(ctx, "layout-test:rec:old", "layout-test:replay:old") })
	rec, ok, err := s.Claim(ctx, "old", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Nil(t, rec, "an old claim is a claim")
	added, err = s.Add(ctx, "old", time.Minute)
	require.NoError(t, err)
	assert.False(t, added, "an old replay key refuses")
	require.NoError(t, s.Release(ctx, "old"))
	assert.Zero(t, c.Exists(ctx, "layout-test:rec:old").Val(), "an old claim is released")
}

// Durations round up to whole milliseconds: a sub-millisecond lease is a
// 1 ms lease, not a refused or everlasting one.
func TestDurationsRoundUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := topology(t, "single")
	s := newStore(t, c)
	_, ok, err := s.Claim(ctx, "sub-ms", time.Microsecond)
	require.NoError(t, err)
	require.True(t, ok)
	added, err := s.Add(ctx, "sub-ms", 1500*time.Microsecond)
	require.NoError(t, err)
	require.True(t, added)
	time.Sleep(50 * time.Millisecond)
	_, ok, err = s.Claim(ctx, "sub-ms", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "a 1 µs lease still held after 50 ms")
	added, err = s.Add(ctx, "sub-ms", time.Minute)
	require.NoError(t, err)
	assert.True(t, added, "a 1.5 ms ttl still held after 50 ms")

	for _, d := range []time.Duration{0, -time.Second} {
		_, _, err := s.Claim(ctx, "bad", d)
		assert.Error(t, err)
		assert.Error(t, s.Complete(ctx, "bad", &store.Record{}, d))
		_, err = s.Add(ctx, "bad", d)
		assert.Error(t, err)
	}
	assert.Error(t, s.Complete(ctx, "bad", nil, time.Minute))
	_, ok, err = s.Claim(ctx, "bad", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "a refused call wrote the key")
}

// A value the store did not write is an error, never misread as a claim or
// a record.
func TestForeignValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := topology(t, "single")
	prefix := uniquePrefix(t)
	s := mustNew(t, c, redisstore.WithPrefix(prefix))
	for _, v := range []string{"", "x", "r", "r2", "C", "{\"InstanceID\":\"i\"}", "cx", "c0123456789abcdeg", "c0123456789abcdef0"} {
		require.NoError(t, c.Set(ctx, prefix+"rec:foreign", v, time.Minute).Err())
		rec, ok, err := s.Claim(ctx, "foreign", time.Minute)
		assert.Error(t, err, "value %q", v)
		assert.False(t, ok, "value %q", v)
		assert.Nil(t, rec, "value %q", v)
		require.NoError(t, s.Release(ctx, "foreign"))
		assert.Equal(t, v, c.Get(ctx, prefix+"rec:foreign").Val(), "Release deleted a foreign value")
	}
}

// A Redis that cannot be reached is an error, within the client's dial
// timeout, and never a claim or a new replay key.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	s := newStore(t, c)
	_, ok, err := s.Claim(ctx, "before", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	srv.Kill()
	start := time.Now()
	rec, ok, err := s.Claim(ctx, "after", time.Minute)
	assert.Error(t, err)
	assert.False(t, ok)
	assert.Nil(t, rec)
	added, err := s.Add(ctx, "after", time.Minute)
	assert.Error(t, err)
	assert.False(t, added)
	assert.Error(t, s.Complete(ctx, "after", &store.Record{}, time.Minute))
	assert.Error(t, s.Release(ctx, "after"))
	t.Logf("four calls to a dead Redis failed in %v", time.Since(start))
}

// A context that ends while Redis does not answer interrupts the call.
func TestContextEndsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	c := redis.NewClient(srv.Options())
	t.Cleanup(func() { c.Close() })
	s := newStore(t, c)
	_, _, err := s.Claim(ctx, "warm", time.Minute) // load the script, open a connection
	require.NoError(t, err)

	admin := redis.NewClient(srv.Options())
	t.Cleanup(func() { admin.Close() })
	require.NoError(t, admin.Do(ctx, "CLIENT", "PAUSE", "3000", "ALL").Err())

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, ok, err := s.Claim(short, "paused", time.Minute)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ok)
	assert.Less(t, elapsed, 2500*time.Millisecond, "the call waited for the pause to end")
}

// A Sentinel failover moves the master. With WithWait, records written
// before it are found after it, and a claim has at most one winner however
// the failover interleaves with the claimers: a write on the old master,
// which has lost its replica, is never acknowledged. A round without a
// winner leaves the key held by a claim (until its lease runs out: the
// call answered 000005 meanwhile) or free, never holding a record.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sen := redistest.StartSentinel(t)
	c := redis.NewFailoverClient(sen.FailoverOptions())
	t.Cleanup(func() { c.Close() })
	prefix := uniquePrefix(t)
	s := mustNew(t, c, redisstore.WithPrefix(prefix), redisstore.WithWait(1, 500*time.Millisecond))
	// The records before the failover are written with a patient WAIT: a
	// loaded machine (the race detector on two cores) can take longer than
	// 500 ms to acknowledge, and that is not what this test is about.
	setup := mustNew(t, c, redisstore.WithPrefix(prefix), redisstore.WithWait(1, 10*time.Second))
	for _, k := range []string{"a", "b", "c"} {
		_, ok, err := setup.Claim(ctx, k, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, setup.Complete(ctx, k, &store.Record{InstanceID: "i-" + k}, time.Hour))
	}

	sc := redis.NewSentinelClient(&redis.Options{Addr: sen.SentinelAddrs[0]})
	t.Cleanup(func() { sc.Close() })
	require.NoError(t, sc.Failover(ctx, sen.MasterName).Err())
	failoverStart := time.Now()

	// Round after round, 20 claimers race on a key of their own, each
	// retrying until the store gives it an answer, from before the
	// failover until a second after the sentinel reports the new master.
	var failures atomic.Int64
	promoted := time.Time{}
	rounds, orphans, freed := 0, 0, 0
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); rounds++ {
		if promoted.IsZero() {
			if addr, err := sc.GetMasterAddrByName(ctx, sen.MasterName).Result(); err == nil && addr[0]+":"+addr[1] == sen.Replica.Addr {
				promoted = time.Now()
			}
		} else if time.Since(promoted) > time.Second {
			break
		}
		key := fmt.Sprint("round-", rounds)
		var wins atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
					_, ok, err := s.Claim(ctx, key, time.Hour)
					if err == nil {
						if ok {
							wins.Add(1)
						}
						return
					}
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				t.Errorf("%s: no answer within 30 s", key)
			}()
		}
		wg.Wait()
		switch wins.Load() {
		case 1:
		case 0:
			// Every claimer was told "not replicated" or "claimed": a claim
			// whose WAIT gave up reached the promoted replica, or could not
			// be taken back in the failover, or was seen on the old master
			// and lost with it. Nobody provisioned; the key must be held by
			// a claim (until its lease runs out: 000005 meanwhile) or free
			// (the next call wins), never hold a record.
			var rec *store.Record
			var ok bool
			var err error
			for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if rec, ok, err = setup.Claim(ctx, key, time.Hour); err == nil {
					break // answered; else the failover is still under way
				}
			}
			switch {
			case err != nil || rec != nil:
				t.Errorf("%s: no winner, and the key is neither held by a claim nor free: %v %v", key, rec, err)
			case ok:
				freed++
			default:
				orphans++
			}
		default:
			t.Errorf("%s: %d winners of one claim during the failover, want 1", key, wins.Load())
		}
	}
	require.False(t, promoted.IsZero(), "the sentinel did not promote the replica within 40 s")
	t.Logf("%d rounds of 20 claimers; the sentinel switched masters after %v; %d attempts failed during the failover and were retried; "+
		"%d round(s) without a winner left the key held by a claim until its lease runs out, %d left it free",
		rounds, promoted.Sub(failoverStart).Round(time.Millisecond), failures.Load(), orphans, freed)

	addr, err := sc.GetMasterAddrByName(ctx, sen.MasterName).Result()
	require.NoError(t, err)
	assert.Equal(t, sen.Replica.Addr, addr[0]+":"+addr[1], "the sentinel did not promote the replica")
	require.Eventually(t, func() bool {
		rec, _, err := s.Claim(ctx, "a", time.Hour)
		return err == nil && rec != nil && rec.InstanceID == "i-a"
	}, 20*time.Second, 100*time.Millisecond, "records not found on the new master")
	for _, k := range []string{"b", "c"} {
		rec, ok, err := setup.Claim(ctx, k, time.Hour)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, &store.Record{InstanceID: "i-" + k}, rec)
	}
}

// With WithWait and no replica to acknowledge, every write fails with
// ErrNotReplicated and leaves nothing behind that would block a retry.
func TestWaitWithoutReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"single", "cluster"} {
		t.Run(name, func(t *testing.T) {
			c := topology(t, name)
			prefix := uniquePrefix(t)
			s := mustNew(t, c, redisstore.WithPrefix(prefix), redisstore.WithWait(1, 50*time.Millisecond))
			plain := mustNew(t, c, redisstore.WithPrefix(prefix))
			for _, k := range []string{"k1", "k2", "k3", "{k}4"} { // keys on every cluster node
				_, ok, err := s.Claim(ctx, k, time.Hour)
				require.ErrorIs(t, err, redisstore.ErrNotReplicated)
				assert.False(t, ok)
				_, ok, err = plain.Claim(ctx, k, time.Hour)
				require.NoError(t, err)
				assert.True(t, ok, "an unacknowledged claim of %s was left behind", k)

				err = s.Complete(ctx, k, &store.Record{InstanceID: "i"}, time.Hour)
				require.ErrorIs(t, err, redisstore.ErrNotReplicated)
				// The record stands on the master: it is the truth, if not
				// yet a durable one, and a claim reads it.
				rec, ok, err := s.Claim(ctx, k, time.Hour)
				require.NoError(t, err, "a claim that only reads needs no acknowledgement")
				assert.False(t, ok)
				assert.Equal(t, &store.Record{InstanceID: "i"}, rec)

				added, err := s.Add(ctx, k, time.Hour)
				require.ErrorIs(t, err, redisstore.ErrNotReplicated)
				assert.False(t, added)
				added, err = plain.Add(ctx, k, time.Hour)
				require.NoError(t, err)
				assert.True(t, added, "an unacknowledged replay key of %s was left behind", k)
			}
		})
	}
}

// New and Open refuse a nil client and every invalid option with an error
// that says which option is wrong and what is allowed, before sending
// anything (nothing listens on 127.0.0.1:1) and without the client's
// password.
func TestNewRefusesBadOptions(t *testing.T) {
	const password = "s3cret-pw"
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: password, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, Password: password})
	t.Cleanup(func() { ring.Close() })
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, Password: password})
	t.Cleanup(func() { cluster.Close() })
	var nilClient *redis.Client
	var nilCluster *redis.ClusterClient

	for name, tc := range map[string]struct {
		c    redis.UniversalClient
		opts []redisstore.Option
		want string
	}{
		"nil":                 {nil, nil, "redisstore: new: nil client"},
		"nil *redis.Client":   {nilClient, nil, "redisstore: new: nil client"},
		"nil *ClusterClient":  {nilCluster, nil, "redisstore: new: nil client"},
		"negative replicas":   {c, []redisstore.Option{redisstore.WithWait(-1, time.Second)}, "redisstore: new: WithWait(-1, 1s): replicas is negative; want 0 (do not wait) or the number of replicas"},
		"negative op bound":   {c, []redisstore.Option{redisstore.WithTimeout(-time.Second)}, "redisstore: new: WithTimeout(-1s): the bound must be positive"},
		"zero timeout":        {c, []redisstore.Option{redisstore.WithWait(1, 0)}, "redisstore: new: WithWait(1, 0s): the timeout is not positive; want a positive timeout"},
		"negative timeout":    {c, []redisstore.Option{redisstore.WithWait(2, -time.Second)}, "redisstore: new: WithWait(2, -1s): the timeout is not positive"},
		"WithWait on a Ring":  {ring, []redisstore.Option{redisstore.WithWait(1, time.Second)}, "redisstore: new: WithWait(1, 1s): the client is a *redis.Ring; WithWait needs a *redis.Client (single node or Sentinel) or a *redis.ClusterClient"},
		"bad prefix and wait": {c, []redisstore.Option{redisstore.WithPrefix(""), redisstore.WithWait(1, time.Second)}, "redisstore: new: WithPrefix: the prefix is 0 bytes; want 1 to 128 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.New(tc.c, tc.opts...)
			assert.Nil(t, s)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want %q…", err, tc.want)
			assert.NotContains(t, err.Error(), password)

			s, r, err := redisstore.Open(context.Background(), tc.c, tc.opts...)
			assert.Nil(t, s)
			assert.Nil(t, r)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "Open: got %q, want %q…", err, tc.want)
		})
	}

	for name, tc := range map[string]struct {
		c    redis.UniversalClient
		opts []redisstore.Option
	}{
		"defaults":             {c, nil},
		"nil option":           {c, []redisstore.Option{nil}},
		"WithWait(0, 0)":       {c, []redisstore.Option{redisstore.WithWait(0, 0)}},
		"WithWait(0, 1s)":      {c, []redisstore.Option{redisstore.WithWait(0, time.Second)}},
		"WithWait on a Client": {c, []redisstore.Option{redisstore.WithWait(1, time.Millisecond)}},
		"WithWait on Cluster":  {cluster, []redisstore.Option{redisstore.WithWait(2, time.Second)}},
		"a Ring":               {ring, nil},
		"a Ring, WithWait(0)":  {ring, []redisstore.Option{redisstore.WithWait(0, 0)}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.New(tc.c, tc.opts...)
			require.NoError(t, err)
			assert.NotNil(t, s)
		})
	}
}

// The prefix is an identifier: printable ASCII without spaces, at most
// MaxPrefixLen bytes, and without braces, which would make a Cluster hash
// tag of it and put every key in one slot. New and Open return the error
// before sending anything (nothing listens on 127.0.0.1:1).
func TestPrefixValidation(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	for _, p := range []string{
		"", " ", "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb", "caf\u00e9:", "\xff",
		"{tag}:", "a{b", "a}b", strings.Repeat("a", redisstore.MaxPrefixLen+1),
	} {
		s, err := redisstore.New(c, redisstore.WithPrefix(p))
		assert.Nil(t, s, "%q", p)
		require.Error(t, err, "%q", p)
		assert.ErrorContains(t, err, "redisstore: new: WithPrefix: ", "%q", p)
		_, _, openErr := redisstore.Open(context.Background(), c, redisstore.WithPrefix(p))
		require.Error(t, openErr, "%q", p)
		assert.Equal(t, err.Error(), openErr.Error(), "%q: Open returns New's error", p)
		assert.NotContains(t, openErr.Error(), "INFO", "%q: checked the server before the prefix", p)
	}
	for _, p := range []string{"a", "prod:koogallery:", "kg-test_1.2/x|y:", "!~", strings.Repeat("a", redisstore.MaxPrefixLen)} {
		_, err := redisstore.New(c, redisstore.WithPrefix(p))
		assert.NoError(t, err, "%q", p)
	}
	_, err := redisstore.New(c, redisstore.WithPrefix("{tag}:"))
	assert.EqualError(t, err, `redisstore: new: WithPrefix: byte 0 of the prefix is '{': braces would make a Cluster hash tag of the prefix and put every key in one slot; use a prefix without braces`)
	_, err = redisstore.New(c, redisstore.WithPrefix("a b"))
	assert.EqualError(t, err, `redisstore: new: WithPrefix: byte 1 of the prefix (0x20) is not printable ASCII or is a space; use letters, digits and punctuation such as ":" and "-"`)
}
