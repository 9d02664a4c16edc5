package proof

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// Config is one run of the proof against one backend.
type Config struct {
	// Backend holds the handlers' shared state and the seller's ledger:
	// Memory (each replica's own; a kill or an outage makes no sense
	// there), Redis or Postgres, each a server the run starts on a free
	// loopback port and stops.
	Backend string
	// HandlerStore, if set, replaces Backend for the handlers' state only.
	// Memory with several replicas shows what the proof catches when the
	// replicas do not share their state.
	HandlerStore string
	// Replicas is the number of seller processes behind the proxy.
	Replicas int
	// Lifecycles customers, Concurrency at a time, each through every
	// call its family has (9 calls on average).
	Lifecycles, Concurrency int
	// Storms of StormSize concurrent newInstance for one order line.
	Storms, StormSize int
	// Faults adds a phase with background load (FaultConcurrency
	// customers at a time, each worker pausing Hour/10 between two, at most
	// FaultLifecycles) during which a replica is SIGKILLed half-way through
	// provisioning and restarted, and then the store server is SIGSTOPped
	// for Outage and resumed, over an hour (Hour) after the kill, as
	// independent faults would be: a call with one retry an hour later is
	// not failed by both.
	Faults                            bool
	FaultLifecycles, FaultConcurrency int
	Outage                            time.Duration
	// StoreFaults are the store faults the faults phase injects after the
	// outage, in this order (FaultRedisRestartVolatile first, before the
	// background load): FaultRedisRestartAOF, FaultRedisRestartVolatile,
	// FaultRedisOOM and FaultPartition on Redis, FaultPostgresKill and
	// FaultPartition on PostgreSQL. StoreDown is how long a killed store
	// stays down, or Redis refuses writes; Partition how long the relay
	// black-holes.
	StoreFaults          []string
	StoreDown, Partition time.Duration
	// Lease is the handlers' claim lease (WithClaimLease).
	Lease time.Duration
	// Hour is what an hour of KooGallery's retry schedule takes.
	Hour time.Duration
	// Delay is the seller's time between looking an order line up and
	// recording its new instance (a call to another system).
	Delay time.Duration
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Exe is the binary started as a replica (the running one if empty);
	// it must call MaybeReplica first.
	Exe string
	// LogDir, if set, keeps the replicas' logs there; by default they go to
	// a temporary directory removed at the end.
	LogDir string
	// Progress, if set, is told what the run is doing.
	Progress func(string)
}

// Short returns the configuration of the run in CI: about 2,000 callbacks,
// with the faults on the shared backends. Each store fault under load
// costs an hour of the schedule and a fifth (12 s) and its own length, so
// it injects those that show most of the SDK's own behaviour, about 20 to
// 35 s per backend: on Redis the restart without persistence (before the
// load: it costs 6 s, and it also shows the clients reconnecting to a
// restarted server) and the OOM refusals (error replies to the scripts
// must be refusals, never "added" or "claimed"); on PostgreSQL the crash
// (no acknowledged record lost, the pools recovering) and the partition
// (the backend whose client has no timeouts of its own). The Redis
// restart with AOF (which shows what Redis's AOF keeps more than what the
// SDK does) and the Redis partition are in the full run only.
func Short(backend string) Config {
	c := Config{Backend: backend, Replicas: 3, Lifecycles: 50, Concurrency: 16, Storms: 1, StormSize: 1000,
		Faults: true, FaultLifecycles: 80, FaultConcurrency: 6, Outage: 5 * time.Second, Lease: 2 * time.Second, Hour: 10 * time.Second,
		StoreDown: 3 * time.Second, Partition: 6 * time.Second,
		Delay: 5 * time.Millisecond, Timeout: 5 * time.Minute}
	switch backend {
	case Memory:
		c.Replicas, c.Faults = 1, false
	case Redis:
		c.StoreFaults = []string{FaultRedisRestartVolatile, FaultRedisOOM}
	case Postgres:
		c.StoreFaults = []string{FaultPostgresKill, FaultPartition}
	}
	return c
}

// Full returns the configuration of the full run: over 20,000 callbacks
// per backend.
func Full(backend string) Config {
	c := Short(backend)
	c.Lifecycles, c.Concurrency, c.Storms, c.Timeout = 2400, 24, 3, 20*time.Minute
	c.FaultLifecycles, c.FaultConcurrency = 600, 16
	if backend == Redis {
		c.StoreFaults = []string{FaultRedisRestartVolatile, FaultRedisRestartAOF, FaultRedisOOM, FaultPartition}
	}
	return c
}

func (c Config) injects(fault string) bool {
	for _, f := range c.StoreFaults {
		if f == fault {
			return true
		}
	}
	return false
}

// Report is what a run found.
type Report struct {
	Config
	Store, Ledger string // what held the handlers' state and the ledger
	Phases        []*Phase
	Elapsed       time.Duration
	// Counts is what the driver sent and got.
	Counts *Tally
	Dump   Violations
	// StormIDs is, per storm, the number of calls answered per instance ID.
	StormIDs []map[string]int
	Kill     *KillReport
	Outage   *OutageReport
	// FaultRuns are the store faults', in the order injected.
	FaultRuns []*FaultReport
	// Leaked holds the stacks of the driver's goroutines left behind.
	Leaked []string
	// Logs counts the replicas' log lines by level and message.
	Logs map[string]int
	// Stderr holds what replicas wrote to stderr (a panic, a failure).
	Stderr []string
}

// KillReport is what the kill in the middle of provisioning showed.
type KillReport struct {
	Slot, PID, NewPID   int
	Line, HalfMadeID    string
	TakeoverAfter       time.Duration // from the half-made instance to the duplicate's answer
	DupID, VictimID     string        // the answers of the immediate re-send and of the first call's retries
	AfterID, AfterBizID string        // the restarted replica's answer, and the businessId it was sent
	AfterRan            bool          // the restarted replica ran NewInstance instead of answering from the store
	Err                 string
}

// OutageReport is what the store outage showed.
type OutageReport struct {
	Processes int
	Start     time.Time
	Duration  time.Duration
	// During and After count the answers while the store was unreachable
	// and in the 2 s after, by code.
	During, After map[string]int
	Err           string
}

// Run runs the proof for cfg and reports what it found; its error reports
// a run that could not be carried out (a server or replica that would not
// start), not a failed invariant (see Report.Failures).
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	before := goroutines()
	rep = &Report{Config: cfg, Store: cfg.Backend, Ledger: cfg.Backend, Counts: newTally()}

	if cfg.HandlerStore != "" {
		rep.Store = cfg.HandlerStore
	}
	defer func() {
		// Everything the run started is stopped by now.
		rep.Leaked = leaked(before, 10*time.Second)
	}()
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if cfg.Exe == "" {
		if cfg.Exe, err = os.Executable(); err != nil {
			return rep, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	started := time.Now()
	dir := cfg.LogDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "koogallery-proof-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, err
	}

	base := replicaConfig{Store: rep.Store, Ledger: rep.Ledger, Lease: cfg.Lease, Delay: cfg.Delay}
	var pause pauser
	var dump func(context.Context) (*Dump, error)
	sc := &storeCtl{down: cfg.StoreDown, part: cfg.Partition}
	switch cfg.Backend {
	case Redis:
		progress("starting redis-server: the handlers' and the ledger's")
		// The handlers' Redis, which the store faults kill and restart: with
		// AOF (appendfsync everysec) if a fault restarts it with its data.
		if cfg.injects(FaultRedisRestartAOF) {
			sc.redisArgs, sc.aof = []string{"--appendonly", "yes", "--appendfsync", "everysec"}, true
		} else {
			sc.redisArgs = []string{"--appendonly", "no"}
		}
		srv, err := startRedis(filepath.Join(dir, "redis"), sc.redisArgs...)
		if err != nil {
			return rep, err
		}
		defer func() { srv.close() }()
		sc.redis = srv
		base.RedisAddr = srv.addr()
		// The ledger, the seller's own database, on a server of its own,
		// which the store faults leave alone (the outage stops it too).
		lsrv, err := redistest.NewServer(filepath.Join(dir, "ledger"))
		if err != nil {
			return rep, err
		}
		defer lsrv.Close()
		base.LedgerRedisAddr = lsrv.Addr
		sc.rdb = redis.NewClient(redisOptions(srv.addr()))
		defer sc.rdb.Close()
		ldb := redis.NewClient(redisOptions(lsrv.Addr))
		defer ldb.Close()
		info, err := ldb.Info(ctx, "server").Result()
		if err != nil {
			return rep, err
		}
		lpid, err := infoPID(info)
		if err != nil {
			return rep, err
		}
		pause.pids = func() ([]int, error) { return []int{srv.pid(), lpid}, nil }
		dump = (&redisLedger{c: ldb}).Dump
		if cfg.injects(FaultPartition) {
			if sc.relay, err = newRelay(srv.addr()); err != nil {
				return rep, err
			}
			defer sc.relay.close()
			base.RedisAddr = sc.relay.addr()
		}
	case Postgres:
		progress("starting PostgreSQL")
		var settings []string
		if cfg.injects(FaultPostgresKill) {
			// pgtest turns synchronous_commit off, which acknowledges a
			// commit before its WAL is written: a crash would lose it.
			// fsync stays off: a killed server loses nothing the kernel
			// holds; the proof does not crash the machine.
			settings = append(settings, "synchronous_commit=on")
		}
		srv, err := pgtest.NewServer("", settings...)
		if err != nil {
			return rep, err
		}
		defer srv.Close()
		sc.pg = srv
		base.PGURL = srv.URL
		if cfg.injects(FaultPartition) {
			host, err := pgHost(srv.URL)
			if err != nil {
				return rep, err
			}
			if sc.relay, err = newRelay(host); err != nil {
				return rep, err
			}
			defer sc.relay.close()
			if base.PGURL, err = viaRelay(srv.URL, sc.relay.addr()); err != nil {
				return rep, err
			}
		}
		pool, err := pgPool(ctx, srv.URL)
		if err != nil {
			return rep, err
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, pgLedgerSchema); err != nil {
			return rep, err
		}
		if err := pgstore.Migrate(ctx, pool); err != nil {
			return rep, err
		}
		data := filepath.Join(srv.Dir, "data")
		sc.pgData = data
		pause.pids = func() ([]int, error) { return postgresPIDs(data) }
		dump = (&pgLedger{pool: pool}).Dump
	case Memory:
		if cfg.Faults || len(cfg.StoreFaults) > 0 {
			return rep, errors.New("proof: no faults with the memory backend: a restart forgets it, and there is no server to stop")
		}
	default:
		return rep, fmt.Errorf("proof: unknown backend %q", cfg.Backend)
	}

	px, err := newProxy(cfg.Replicas)
	if err != nil {
		return rep, err
	}
	defer px.close()
	cl := &cluster{exe: cfg.Exe, base: base, dir: dir, proxy: px, halfMade: make(chan halfMade, 4)}
	defer func() {
		cl.stop()
		rep.Logs, rep.Stderr = replicaLogs(dir)
	}()
	progress(fmt.Sprintf("starting %d replicas", cfg.Replicas))
	for slot := range cfg.Replicas {
		if _, err := cl.start(slot); err != nil {
			return rep, err
		}
	}
	if dump == nil { // the memory ledger lives in replica 0
		dump = func(ctx context.Context) (*Dump, error) { return httpDump(ctx, cl.addr(0)) }
	}

	k := newKG(px.url, cfg.Replicas, cfg.Hour, rep.Counts)
	defer k.close()
	k.tag = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	k.resend = true

	progress(fmt.Sprintf("load: %d lifecycles, %d at a time", cfg.Lifecycles, cfg.Concurrency))
	p := rep.Counts.begin("load")
	runLifecycles(ctx, k, 0, cfg.Lifecycles, cfg.Concurrency, nil, 0)
	rep.Counts.end(p)
	rep.Phases = append(rep.Phases, p)

	if cfg.Storms > 0 {
		progress(fmt.Sprintf("storms: %d × %d concurrent newInstance", cfg.Storms, cfg.StormSize))
		p = rep.Counts.begin("storm")
		for j := range cfg.Storms {
			rep.StormIDs = append(rep.StormIDs, k.storm(ctx, j, cfg.StormSize))
		}
		rep.Counts.end(p)
		rep.Phases = append(rep.Phases, p)
	}

	if cfg.Faults {
		k.resend = false // an identical kit body re-sent may run again after a store failure: allowed
		p = rep.Counts.begin("faults")
		var probes sync.WaitGroup // the probes' calls still retried
		if cfg.injects(FaultRedisRestartVolatile) {
			// Before the background load: what the restart loses is what
			// the probe had recorded, and nothing else is in flight.
			progress("faults: Redis restarted without persistence")
			rep.FaultRuns = append(rep.FaultRuns, runFault(ctx, FaultRedisRestartVolatile, k, sc, &probes))
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLifecycles(ctx, k, cfg.Lifecycles, cfg.FaultLifecycles, cfg.FaultConcurrency, stop, cfg.Hour/10)
		}()
		progress("faults: killing a replica in the middle of provisioning")
		killed := time.Now()
		rep.Kill = runKill(ctx, k, cl, cfg)
		// Independent faults: every call the kill failed has had its retry
		// (an hour later) before the store goes away.
		sleepCtx(ctx, time.Until(killed.Add(cfg.Hour*6/5)))
		progress(fmt.Sprintf("faults: the store unreachable for %v", cfg.Outage))
		rep.Outage = runOutage(ctx, rep.Counts, pause, cfg.Outage)
		healed := rep.Outage.Start.Add(cfg.Outage)
		for _, name := range cfg.StoreFaults {
			if name == FaultRedisRestartVolatile {
				continue
			}
			sleepCtx(ctx, time.Until(healed.Add(cfg.Hour*6/5)))
			progress("faults: " + name)
			f := runFault(ctx, name, k, sc, &probes)
			rep.FaultRuns = append(rep.FaultRuns, f)
			healed = f.Start.Add(f.Down)
		}
		close(stop)
		wg.Wait()
		probes.Wait()
		rep.Counts.end(p)
		rep.Phases = append(rep.Phases, p)
	}

	progress("checking the ledger")
	d, err := dump(ctx)
	if err != nil {
		return rep, fmt.Errorf("proof: read the ledger: %w", err)
	}
	rep.Dump = d.Check()
	for _, f := range rep.FaultRuns {
		f.Probe.resolve(d)
	}
	if rep.Kill != nil && rep.Kill.AfterBizID != "" {
		rep.Kill.AfterRan = d.Notes["v2.newInstance/"+rep.Kill.AfterBizID] > 0
	}
	rep.Elapsed = time.Since(started)
	return rep, nil
}

// runLifecycles runs n lifecycles numbered from first, c at a time, each
// worker pausing for pace between two, until they are done or stop is
// closed.
func runLifecycles(ctx context.Context, k *kg, first, n, c int, stop <-chan struct{}, pace time.Duration) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				k.lifecycle(ctx, first+i)
				if pace > 0 {
					select {
					case <-stop:
						return
					case <-time.After(pace):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// runKill sends a newInstance that its replica's provider leaves half-made
// (then hangs), SIGKILLs that replica, lets KooGallery re-send on another
// one, restarts the killed one and asks it too.
func runKill(ctx context.Context, k *kg, cl *cluster, cfg Config) *KillReport {
	rep := &KillReport{}
	o := prefixKill + k.tag
	line := o + "-000001"
	victim := make(chan answer, 1)
	go func() {
		victim <- k.deliver(ctx, "saas.v2", "newInstance (killed)", schedNew, -1, k.newInstance(o, line, ""))
	}()
	var hm halfMade
	select {
	case hm = <-cl.halfMade:
	case <-time.After(30 * time.Second):
		rep.Err = "no replica announced the half-made instance"
		<-victim
		return rep
	}
	rep.Slot, rep.Line, rep.HalfMadeID = hm.slot, hm.line, hm.id
	rep.PID = cl.kill(hm.slot)
	next := (hm.slot + 1) % cfg.Replicas
	dup := k.deliver(ctx, "saas.v2", "newInstance (re-sent after the kill)", schedNew, next, k.newInstance(o, line, ""))
	rep.TakeoverAfter = time.Since(hm.at)
	rep.DupID = dup.instanceID
	r, err := cl.restart(hm.slot)
	if err != nil {
		rep.Err = "restart: " + err.Error()
		rep.VictimID = (<-victim).instanceID
		return rep
	}
	rep.NewPID = r.cmd.Process.Pid
	rep.AfterBizID = k.mark("B")
	after := k.deliver(ctx, "saas.v2", "newInstance (to the restarted replica)", schedNew, hm.slot, k.newInstance(o, line, rep.AfterBizID))
	rep.AfterID = after.instanceID
	rep.VictimID = (<-victim).instanceID
	return rep
}

// runOutage makes the store unreachable for d, and counts the answers
// meanwhile and for two seconds after.
func runOutage(ctx context.Context, t *Tally, p pauser, d time.Duration) *OutageReport {
	rep := &OutageReport{Duration: d}
	rep.Start = time.Now()
	t.setWindow("outage during")
	n, err := p.signal(syscall.SIGSTOP)
	rep.Processes = n
	if err != nil {
		rep.Err = err.Error()
	}
	sleepCtx(ctx, d)
	if _, err := p.signal(syscall.SIGCONT); err != nil {
		rep.Err = strings.TrimSpace(rep.Err + "; resume: " + err.Error())
	}
	t.setWindow("outage after")
	sleepCtx(ctx, 2*time.Second)
	t.setWindow("")
	rep.During, rep.After, _ = t.windowed("outage during", "outage after")
	return rep
}

func infoPID(info string) (int, error) {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("proof: INFO server names no process_id")
}

func httpDump(ctx context.Context, addr string) (*Dump, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+pathLedger, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ledger: HTTP %d", resp.StatusCode)
	}
	var d Dump
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

// replicaLogs counts the replicas' log lines by level and message, and
// returns what they wrote on stderr.
func replicaLogs(dir string) (map[string]int, []string) {
	counts := map[string]int{}
	var stderr []string
	logs, _ := filepath.Glob(filepath.Join(dir, "replica-*.log"))
	for _, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				Level, Msg, Reason string
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				key := l.Level + " " + l.Msg
				if l.Reason != "" {
					key += " (" + l.Reason + ")"
				}
				counts[key]++
			}
		}
		f.Close()
	}
	errs, _ := filepath.Glob(filepath.Join(dir, "replica-*.stderr"))
	for _, name := range errs {
		if b, err := os.ReadFile(name); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			if len(b) > 4000 {
				b = b[:4000]
			}
			stderr = append(stderr, filepath.Base(name)+": "+string(b))
		}
	}
	return counts, stderr
}

// Failures lists the invariants the run broke; none if it held them all.
func (r *Report) Failures() []string {
	var f []string
	add := func(cond bool, format string, args ...any) {
		if cond {
			f = append(f, fmt.Sprintf(format, args...))
		}
	}
	t := r.Counts
	add(len(r.Dump.Duplicates) > 0, "duplicate provisions: %d (%s)", len(r.Dump.Duplicates), strings.Join(first(r.Dump.Duplicates, 5), ", "))
	add(len(r.Dump.ReRuns) > 0, "signed calls the seller's code ran twice (replays accepted): %d (%s)", len(r.Dump.ReRuns), strings.Join(first(r.Dump.ReRuns, 5), ", "))
	add(len(r.Dump.Forged) > 0, "forged or stale calls that reached the seller's code: %d", len(r.Dump.Forged))
	add(t.ReplaysAccepted > 0, "replays answered 000000/000004: %d", t.ReplaysAccepted)
	add(t.AttacksAccepted > 0, "forged, tampered or stale calls answered 000000/000004: %d", t.AttacksAccepted)
	add(t.AttacksOther > 0, "forged, tampered or stale calls answered another code than 000001: %d", t.AttacksOther)
	add(t.Answered != t.Genuine, "genuine calls not answered 000000/000004 within KooGallery's schedule: %d of %d (%s)",
		t.Genuine-t.Answered, t.Genuine, strings.Join(first(t.unanswered, 5), "; "))
	add(t.count(&t.refusedGenuine) > 0, "genuine attempts refused 000001/000002: %d (%s)", t.count(&t.refusedGenuine), strings.Join(first(t.refusedGenuine, 5), "; "))
	add(t.count(&t.mismatch) > 0, "duplicates answered with different instances: %d (%s)", t.count(&t.mismatch), strings.Join(first(t.mismatch, 5), "; "))
	for i, ids := range r.StormIDs {
		n := 0
		for _, c := range ids {
			n += c
		}
		add(len(ids) != 1 || n != r.StormSize, "storm %d: %d of %d answered, %d instance IDs", i, n, r.StormSize, len(ids))
	}
	if r.Faults {
		switch k := r.Kill; {
		case k == nil || k.Err != "":
			add(true, "kill: %v", k)
		default:
			add(k.DupID != k.HalfMadeID || k.VictimID != k.HalfMadeID || k.AfterID != k.HalfMadeID,
				"kill: half-made %q, answered %q (re-send), %q (first call), %q (restarted replica)", k.HalfMadeID, k.DupID, k.VictimID, k.AfterID)
			add(k.TakeoverAfter < r.Lease-500*time.Millisecond, "kill: the dead replica's claim was taken over after %v, before its lease (%v) ran out", k.TakeoverAfter, r.Lease)
			add(k.AfterRan, "kill: the restarted replica ran NewInstance again instead of answering from the shared record")
			add(r.Dump.Resumed < 1, "kill: no NewInstance finished the half-made instance")
		}
		add(r.Outage == nil || r.Outage.Err != "" || r.Outage.Processes == 0, "outage: %+v", r.Outage)
		got := map[string]bool{}
		for _, fr := range r.FaultRuns {
			got[fr.Name] = true
			f = append(f, fr.failures()...)
		}
		for _, name := range r.StoreFaults {
			add(!got[name], "%s: not injected", name)
		}
	}
	add(len(r.Leaked) > 0, "goroutines left behind in the driver: %d", len(r.Leaked))
	add(len(r.Stderr) > 0, "replicas wrote to stderr: %s", strings.Join(r.Stderr, "; "))
	return f
}

func first(s []string, n int) []string { return s[:min(len(s), n)] }

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	t := r.Counts
	ledger := r.Ledger
	if ledger == Redis {
		ledger += " (a server of its own)"
	}
	fmt.Fprintf(w, "== %s: %d replica(s); handler state: %s; ledger: %s; claim lease %v; a KooGallery hour = %v\n",
		r.Backend, r.Replicas, r.Store, ledger, r.Lease, r.Hour)
	fams := make([]string, 0, len(t.ByFamily))
	for _, f := range families {
		if n := t.ByFamily[f]; n > 0 {
			fams = append(fams, fmt.Sprintf("%s %d", f, n))
		}
	}
	fmt.Fprintf(w, "callbacks: %d (%s) in %.1f s\n", t.Callbacks, strings.Join(fams, ", "), r.Elapsed.Seconds())
	fmt.Fprintf(w, "  %-7s %9s %11s %9s %9s %9s\n", "phase", "callbacks", "per second", "p50", "p99", "p99.9")
	for _, p := range r.Phases {
		fmt.Fprintf(w, "  %-7s %9d %11.0f %9s %9s %9s\n", p.Name, p.Callbacks, p.Throughput(),
			ms(p.Quantile(0.50)), ms(p.Quantile(0.99)), ms(p.Quantile(0.999)))
	}
	fmt.Fprintf(w, "genuine calls: %d, answered 000000/000004 within KooGallery's schedule: %d; retries %d (%d on another replica); "+
		"duplicate deliveries %d pairs (%d on two replicas)\n", t.Genuine, t.Answered, t.Retries, t.RetriesMoved, t.Dups, t.DupsMoved)
	for i, ids := range r.StormIDs {
		n := 0
		for _, c := range ids {
			n += c
		}
		fmt.Fprintf(w, "storm %d: %d concurrent newInstance for one order line: %d answered, %d instance ID(s)\n", i+1, r.StormSize, n, len(ids))
	}
	fmt.Fprintf(w, "replays: %d sent, %d accepted; forged, tampered and stale: %d sent, %d accepted, %d answered another code than 000001, %d reached the seller's code\n",
		t.Replays, t.ReplaysAccepted, t.Attacks, t.AttacksAccepted, t.AttacksOther, len(r.Dump.Forged))
	fmt.Fprintf(w, "ledger: %d instances created, %d upgrades applied, %d duplicate(s); %d signed call(s) run twice; "+
		"%d half-made instance(s) finished after a takeover, %d NewInstance call(s) found the instance ready\n",
		r.Dump.Creations, r.Dump.Upgrades, len(r.Dump.Duplicates), len(r.Dump.ReRuns), r.Dump.Resumed, r.Dump.FoundReady)
	if k := r.Kill; k != nil {
		if k.Err != "" {
			fmt.Fprintf(w, "kill: %s\n", k.Err)
		} else {
			fmt.Fprintf(w, "kill: replica %d (pid %d) SIGKILLed with %s half-made (%s); its claim taken over %.2f s later (lease %v) "+
				"and the instance finished; answers: re-send %s, first call %s; restarted as pid %d (empty memory, new port): %s\n",
				k.Slot, k.PID, k.Line, k.HalfMadeID, k.TakeoverAfter.Seconds(), r.Lease, k.DupID, k.VictimID, k.NewPID,
				map[bool]string{false: "answered " + k.AfterID + " from the shared record", true: "ran NewInstance again"}[k.AfterRan])
		}
	}
	if o := r.Outage; o != nil {
		fmt.Fprintf(w, "outage: %d store process(es) SIGSTOPped at %s for %v, then SIGCONT; answers meanwhile: %s; in the 2 s after: %s%s\n",
			o.Processes, o.Start.Format("15:04:05.0"), o.Duration, codes(o.During), codes(o.After), map[bool]string{true: "; error: " + o.Err}[o.Err != ""])
	}
	for _, fr := range r.FaultRuns {
		fr.write(w)
	}
	fmt.Fprintf(w, "answers: %s\n", codes(t.Codes))
	if len(r.Logs) > 0 {
		fmt.Fprintf(w, "replica logs: %s\n", codes(r.Logs))
	}
	fmt.Fprintf(w, "goroutines left behind in the driver: %d\n", len(r.Leaked))
	for _, s := range first(r.Leaked, 3) {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(s, "\n", "\n  "))
	}
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintf(w, "INVARIANTS BROKEN:\n  %s\n", strings.Join(f, "\n  "))
	} else {
		fmt.Fprintln(w, "invariants: all hold")
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }

// codes writes a count map sorted by key.
func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// Compare prints the load phase of each report against the first's (the
// memory baseline).
func Compare(w io.Writer, reports []*Report) {
	if len(reports) == 0 {
		return
	}
	base := phase(reports[0], "load")
	fmt.Fprintf(w, "| backend | replicas | callbacks | load: callbacks/s | vs %s | p50 | p99 | p99.9 | invariants |\n", reports[0].Backend)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range reports {
		p := phase(r, "load")
		rel := "—"
		if base != nil && p != nil && base.Throughput() > 0 {
			rel = fmt.Sprintf("%.2f×", p.Throughput()/base.Throughput())
		}
		inv := "all hold"
		if n := len(r.Failures()); n > 0 {
			inv = fmt.Sprintf("%d broken", n)
		}
		if p == nil {
			fmt.Fprintf(w, "| %s | %d | %d | — | — | — | — | — | %s |\n", r.Backend, r.Replicas, r.Counts.Callbacks, inv)
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s | %s | %s | %s | %s |\n", r.Backend, r.Replicas, r.Counts.Callbacks,
			p.Throughput(), rel, ms(p.Quantile(0.5)), ms(p.Quantile(0.99)), ms(p.Quantile(0.999)), inv)
	}
}

func phase(r *Report, name string) *Phase {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Machine prints what the run ran on: CPUs, CPU model and Go version.
func Machine(w io.Writer) {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s %s/%s\n", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
