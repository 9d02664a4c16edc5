package proof

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
)

// Store faults (Config.StoreFaults). Each runs under the faults phase's
// background load, an hour of KooGallery's schedule (Config.Hour, and a
// fifth) after the previous fault healed, as independent faults would,
// except FaultRedisRestartVolatile, which runs before that phase with no
// load (see its comment).
const (
	// FaultRedisRestartAOF kills the handlers' redis-server (SIGKILL),
	// which runs with appendonly yes and appendfsync everysec, leaves it
	// down for StoreDown and starts it again on the same port and AOF.
	FaultRedisRestartAOF = "redis-restart-aof"
	// FaultRedisRestartVolatile does the same to a Redis without
	// persistence (appendonly no, no RDB snapshots): it comes back empty.
	// Everything the handlers recorded before is lost: claims, answers
	// (done records) and nonces. The run does it with no other load, so
	// that what it lost is measured by its probe alone; the ledger, the
	// seller's own database, is on a redis-server of its own and keeps
	// everything.
	FaultRedisRestartVolatile = "redis-restart-volatile"
	// FaultRedisOOM sets the handlers' Redis's maxmemory below the memory
	// it uses, with maxmemory-policy noeviction, for StoreDown: every
	// write is refused with an OOM error; reads are served.
	FaultRedisOOM = "redis-oom"
	// FaultPostgresKill kills every PostgreSQL process (SIGKILL to the
	// postmaster and its children, as a crash would), leaves the server
	// down for StoreDown and starts it again on the same data directory
	// and port: it recovers from its WAL. The replicas are not restarted;
	// their pgx pools reconnect.
	FaultPostgresKill = "postgres-kill"
	// FaultPartition makes the TCP relay between the replicas and the
	// store black-hole every packet for Partition: connections stay open,
	// nothing is answered, nothing is reset; then it heals.
	FaultPartition = "partition"
)

// prefixProbe marks the V1 calls a probe replays: Dump.Check leaves their
// runs to the probe, which says what a fault lost.
const prefixProbe = "PROBE"

// FaultReport is what one store fault showed.
type FaultReport struct {
	Name  string
	Start time.Time
	// Down is how long the store was unavailable: killed, partitioned or
	// refusing writes.
	Down time.Duration
	// During and After count the answers by code while the store was
	// unavailable and in the 2 s after; Slowest is the slowest of them.
	During, After map[string]int
	Slowest       time.Duration
	// Lossy says the fault loses the handlers' state (a Redis without
	// persistence): the probe's replays accepted and re-runs are then what
	// the fault lost, reported, not invariants broken.
	Lossy bool
	Probe *Probe
	Note  string // what the fault did, in numbers
	Err   string
}

// Probe is the calls a fault's run sends to measure what the fault lost:
// witnesses accepted before it, sent again after it, and calls sent while
// the store was unavailable.
type Probe struct {
	// Witnesses is the number of order lines provisioned (SaaS V2), V2
	// calls accepted (a freeze) and V1 calls accepted (a V1 newInstance)
	// before the fault, each.
	Witnesses int
	// ReSent newInstance for the witnesses' order lines after the fault,
	// re-signed with a new businessId, as KooGallery's retry would be;
	// SameID of them answered with the witness's instance; Ran of them ran
	// the seller's code (the handler had lost its answer, and the seller's
	// look-up found the instance).
	ReSent, SameID, Ran int
	// Replays of the accepted V2 calls, unchanged, after the fault;
	// ReplaysAccepted answered 000000 (the handler had lost the nonce).
	Replays, ReplaysAccepted int
	// V1Replays of the accepted V1 calls after the fault; V1ReRan of them
	// ran the seller's code again (the handler had lost its answer).
	V1Replays, V1ReRan int
	// Down newInstance for new order lines sent while the store was
	// unavailable; DownFirst counts their first attempts' answers by code;
	// DownAnswered were answered 000000/000004 on KooGallery's retries.
	Down         int
	DownFirst    map[string]int
	DownAnswered int

	mu        sync.Mutex
	reSentBiz []string // businessIds of the re-sent newInstance
	v1Markers []string // proofCall markers of the replayed V1 calls
}

// witness is one witness: a provisioned order line and two accepted calls.
type witness struct {
	order, line, id string
	v2              *koogallerytest.Call
	v1              *koogallerytest.V1Call
	v1Marker        string
}

// storeCtl is what the store faults act on.
type storeCtl struct {
	redis     *redisProc    // the handlers' Redis
	rdb       *redis.Client // the driver's client to it, direct
	redisArgs []string      // its configuration (persistence)
	aof       bool          // redisArgs turn AOF on
	pg        *pgtest.Server
	pgData    string
	relay     *relay // between the replicas and the store (nil: none)
	down      time.Duration
	part      time.Duration
}

// witnesses provisions n order lines and has n V2 and n V1 calls accepted.
func (k *kg) witnesses(ctx context.Context, n int) []*witness {
	ws := make([]*witness, 0, n)
	for range n {
		w := &witness{order: k.mark("P")}
		w.line = w.order + "-000001"
		a := k.deliver(ctx, "saas.v2", "newInstance (probe witness)", schedNew, -1, k.newInstance(w.order, w.line, ""))
		if !a.ok() {
			continue
		}
		w.id = a.instanceID
		k.deliver(ctx, "saas.v2", "updateInstanceStatus (probe witness)", schedHour, -1, func() (attempt, error) {
			c, err := k.v2.Sign(k.base+pathV2, map[string]string{"activity": "updateInstanceStatus", "instanceId": w.id, "status": "FREEZE"})
			w.v2 = c
			return callAttempt(c), err
		})
		k.deliver(ctx, "saas.v1", "newInstance (probe witness)", schedNew, -1, func() (attempt, error) {
			o := k.mark("PV")
			w.v1Marker = k.mark(prefixProbe)
			c, err := k.signV1(map[string]string{"activity": "newInstance", "orderId": o, "businessId": k.mark("B"),
				"customerId": "cust-" + o, "customerName": "buyer", "skuCode": "sku-1", "productId": "prod-month",
				"chargingMode": "1", "periodType": "month", "periodNumber": "1", "testFlag": "0", paramProofCall: w.v1Marker})
			w.v1 = c
			return v1Attempt(c), err
		})
		ws = append(ws, w)
	}
	return ws
}

// check sends the witnesses again after the fault: each order line's
// newInstance re-signed, each accepted call replayed unchanged.
func (k *kg) check(ctx context.Context, ws []*witness, p *Probe) {
	p.Witnesses = len(ws)
	for _, w := range ws {
		biz := k.mark("B")
		a := k.deliver(ctx, "saas.v2", "newInstance (probe re-send)", schedNew, -1, k.newInstance(w.order, w.line, biz))
		p.mu.Lock()
		p.ReSent++
		p.reSentBiz = append(p.reSentBiz, biz)
		if a.ok() && a.instanceID == w.id {
			p.SameID++
		}
		p.mu.Unlock()
		if w.v2 != nil {
			r := k.send(ctx, "saas.v2", "probe-replay", callAttempt(w.v2), -1)
			p.mu.Lock()
			p.Replays++
			if r.ok() {
				p.ReplaysAccepted++
			}
			p.mu.Unlock()
		}
		if w.v1 != nil {
			k.send(ctx, "saas.v1", "probe-replay", v1Attempt(w.v1), -1)
			p.mu.Lock()
			p.V1Replays++
			p.v1Markers = append(p.v1Markers, w.v1Marker)
			p.mu.Unlock()
		}
	}
}

// downCalls sends n newInstance for new order lines now, while the store
// is unavailable, and lets KooGallery retry them; wg waits for them.
func (k *kg) downCalls(ctx context.Context, n int, p *Probe, wg *sync.WaitGroup) {
	p.mu.Lock()
	p.Down += n
	if p.DownFirst == nil {
		p.DownFirst = map[string]int{}
	}
	p.mu.Unlock()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := k.mark("D")
			var first answer
			a := k.deliverFirst(ctx, "saas.v2", "newInstance (sent while the store was unavailable)", schedNew, -1,
				k.newInstance(o, o+"-000001", ""), &first)
			p.mu.Lock()
			p.DownFirst[first.code]++
			if a.ok() {
				p.DownAnswered++
			}
			p.mu.Unlock()
		}()
	}
}

// burst starts one lifecycle of every family now, while the store is
// unavailable: every interface meets the fault, and KooGallery retries
// what it refused; wg waits for them.
func (k *kg) burst(ctx context.Context, wg *sync.WaitGroup) {
	base := len(families) * (1_000_000 + int(k.seq.Add(1))) // numbers no load uses
	for j := range families {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.lifecycle(ctx, base+j)
		}()
	}
}

// resolve reads from the ledger which probe calls ran the seller's code.
func (p *Probe) resolve(d *Dump) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Ran, p.V1ReRan = 0, 0
	for _, b := range p.reSentBiz {
		if d.Notes["v2.newInstance/"+b] > 0 {
			p.Ran++
		}
	}
	for _, m := range p.v1Markers {
		if d.Notes["v1.newInstance/"+m] > 1 {
			p.V1ReRan++
		}
	}
}

// probeSize is the number of witnesses and of calls sent while the store
// is unavailable, per fault.
const probeSize = 5

// runFault injects the store fault name under whatever load runs, with a
// probe, and counts the answers meanwhile and for 2 s after; wg waits for
// the probe's calls still being retried.
func runFault(ctx context.Context, name string, k *kg, sc *storeCtl, wg *sync.WaitGroup) *FaultReport {
	t := k.t
	rep := &FaultReport{Name: name, Probe: &Probe{}, Lossy: name == FaultRedisRestartVolatile}
	ws := k.witnesses(ctx, probeSize)
	wDuring, wAfter := name+" during", name+" after"
	rep.Start = time.Now()
	t.setWindow(wDuring)
	unavailable := func() {
		k.downCalls(ctx, probeSize, rep.Probe, wg)
		if !rep.Lossy { // the restart without persistence runs with no other load
			k.burst(ctx, wg)
		}
	}
	var err error
	switch name {
	case FaultRedisRestartAOF, FaultRedisRestartVolatile:
		args := sc.redisArgs
		if name == FaultRedisRestartVolatile {
			// Run without persistence from now on, as a Redis configured
			// so: the restart finds nothing to load.
			if err = sc.rdb.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
				break
			}
			args = []string{"--appendonly", "no"}
		}
		sc.redis.kill()
		unavailable()
		sleepCtx(ctx, sc.down)
		err = sc.redis.start(args...)
		if err == nil {
			var n int64
			n, err = sc.rdb.DBSize(ctx).Result()
			rep.Note = fmt.Sprintf("SIGKILLed, down %v, restarted (%s): %d keys loaded", sc.down, strings.Join(args, " "), n)
		}
		if err == nil && name == FaultRedisRestartVolatile && sc.aof {
			// Persistence back on for the faults that follow.
			err = sc.rdb.ConfigSet(ctx, "appendonly", "yes").Err()
		}
	case FaultRedisOOM:
		var used, oom0, oom1 int64
		if used, err = infoInt(ctx, sc.rdb, "memory", "used_memory"); err != nil {
			break
		}
		oom0, _ = infoErrorstat(ctx, sc.rdb, "OOM")
		limit := used / 2
		if err = sc.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
			break
		}
		if err = sc.rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err(); err != nil {
			break
		}
		unavailable()
		sleepCtx(ctx, sc.down)
		oom1, _ = infoErrorstat(ctx, sc.rdb, "OOM")
		err = sc.rdb.ConfigSet(ctx, "maxmemory", "0").Err()
		rep.Note = fmt.Sprintf("maxmemory %d kB (used %d kB), noeviction, for %v: %d commands refused OOM", limit>>10, used>>10, sc.down, oom1-oom0)
	case FaultPostgresKill:
		var pids []int
		if pids, err = postgresPIDs(sc.pgData); err != nil {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		unavailable()
		sleepCtx(ctx, sc.down)
		err = sc.pg.Restart()
		rep.Note = fmt.Sprintf("%d processes SIGKILLed, down %v, restarted: recovered from the WAL; the replicas kept running, their pools reconnecting", len(pids), sc.down)
	case FaultPartition:
		if sc.relay == nil {
			err = fmt.Errorf("no relay")
			break
		}
		sc.relay.partition()
		unavailable()
		sleepCtx(ctx, sc.part)
		sc.relay.heal()
		rep.Note = fmt.Sprintf("relay black-holed every packet for %v, then healed", sc.part)
	default:
		err = fmt.Errorf("unknown fault %q", name)
	}
	rep.Down = time.Since(rep.Start)
	if err != nil {
		rep.Err = err.Error()
	}
	t.setWindow(wAfter)
	k.check(ctx, ws, rep.Probe)
	sleepCtx(ctx, time.Until(rep.Start.Add(rep.Down+2*time.Second)))
	t.setWindow("")
	rep.During, rep.After, rep.Slowest = t.windowed(wDuring, wAfter)
	return rep
}

// infoInt reads the integer field of an INFO section.
func infoInt(ctx context.Context, c *redis.Client, section, field string) (int64, error) {
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("proof: INFO %s has no %s", section, field)
}

// infoErrorstat reads the count of the error prefix from INFO errorstats.
func infoErrorstat(ctx context.Context, c *redis.Client, prefix string) (int64, error) {
	info, err := c.Info(ctx, "errorstats").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "errorstat_"+prefix+":count="); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, nil
}

// viaRelay returns the PostgreSQL URL u with its host and port replaced by
// addr.
func viaRelay(u, addr string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	p.Host = addr
	return p.String(), nil
}

// pgHost returns the host:port of a PostgreSQL URL.
func pgHost(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	return p.Host, nil
}

// failures lists the invariants the fault broke.
func (f *FaultReport) failures() []string {
	var out []string
	add := func(cond bool, format string, args ...any) {
		if cond {
			out = append(out, f.Name+": "+fmt.Sprintf(format, args...))
		}
	}
	add(f.Err != "", "%s", f.Err)
	hung := f.During["timeout"] + f.After["timeout"]
	add(hung > 0, "%d call(s) not answered within KooGallery's %v while the store was unavailable or just after (slowest %s)",
		hung, attemptTimeout, ms(f.Slowest))
	add(f.During["error"]+f.After["error"] > 0, "%d call(s) answered without a JSON answer", f.During["error"]+f.After["error"])
	p := f.Probe
	if p == nil {
		return out
	}
	add(p.Witnesses < probeSize, "only %d of %d probe witnesses accepted before the fault", p.Witnesses, probeSize)
	add(p.DownAnswered != p.Down, "%d of %d newInstance sent while the store was unavailable answered on KooGallery's retries", p.DownAnswered, p.Down)
	add(p.SameID != p.ReSent, "%d of %d re-sent newInstance answered with the witness's instance", p.SameID, p.ReSent)
	if !f.Lossy {
		add(p.Ran > 0, "%d of %d re-sent newInstance ran the seller's code: the handler lost an answer it had given", p.Ran, p.ReSent)
		add(p.ReplaysAccepted > 0, "%d of %d replays of calls accepted before the fault accepted: the handler lost their nonces", p.ReplaysAccepted, p.Replays)
		add(p.V1ReRan > 0, "%d of %d V1 replays ran the seller's code again: the handler lost an answer it had given", p.V1ReRan, p.V1Replays)
	}
	return out
}

// write prints the fault's lines of the report.
func (f *FaultReport) write(w io.Writer) {
	fmt.Fprintf(w, "%s at %s: %s; answers meanwhile (%.1f s): %s; in the 2 s after: %s; slowest %s%s\n",
		f.Name, f.Start.Format("15:04:05.0"), f.Note, f.Down.Seconds(), codes(f.During), codes(f.After), ms(f.Slowest),
		map[bool]string{true: "; error: " + f.Err}[f.Err != ""])
	p := f.Probe
	if p == nil {
		return
	}
	fmt.Fprintf(w, "  probe: %d newInstance sent while unavailable, first answered %s, %d answered on retries; "+
		"%d order lines provisioned before: re-sent, %d answered the same instance, %d ran the seller's code; "+
		"%d V2 calls accepted before: replayed, %d accepted; %d V1 calls accepted before: replayed, %d ran the seller's code again\n",
		p.Down, codes(p.DownFirst), p.DownAnswered, p.ReSent, p.SameID, p.Ran, p.Replays, p.ReplaysAccepted, p.V1Replays, p.V1ReRan)
	if f.Lossy {
		fmt.Fprintf(w, "  promise without persistence: refusals (000005) while Redis is down, and after it comes back empty "+
			"nothing the handlers recorded before: every answer, claim and nonce is lost (here %d of %d answers, %d of %d nonces, "+
			"%d of %d V1 answers); exactly-once then rests on the seller's look-up before create, which answered %d of %d with the same instance\n",
			p.Ran, p.ReSent, p.ReplaysAccepted, p.Replays, p.V1ReRan, p.V1Replays, p.SameID, p.ReSent)
	}
}
