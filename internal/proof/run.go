package proof

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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

	be, err := startBackend(ctx, cfg, rep, dir, progress)
	defer be.close()
	if err != nil {
		return rep, err
	}
	base, sc, pause, dump := be.base, be.sc, be.pause, be.dump
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
		runFaults(ctx, cfg, rep, k, cl, sc, pause, progress)
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

// runFaults runs the fault phase: lifecycles in the background while a
// replica is killed mid-provisioning, the store is paused, and each store
// fault of cfg is injected in turn, an hour of KooGallery's apart.
func runFaults(ctx context.Context, cfg Config, rep *Report, k *kg, cl *cluster, sc *storeCtl, pause pauser, progress func(string)) {
	k.resend = false // an identical kit body re-sent may run again after a store failure: allowed
	p := rep.Counts.begin("faults")
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
