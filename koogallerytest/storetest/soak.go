package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

// SoakConfig configures SoakUsageOutbox. Zero fields take the defaults.
type SoakConfig struct {
	// Records is how many records the producers record (default 5,000),
	// from Producers goroutines (default 8) through their own Meter, in
	// chunks of up to 100 spread evenly over ProduceOver (default 2 s; a
	// negative value records as fast as the outbox takes them); every
	// tenth chunk is recorded twice, as a producer retrying a Record
	// that timed out would.
	Records, Producers int
	ProduceOver        time.Duration
	// Pushers is how many pushers drain the outbox at once (default 2).
	// Each runs a Meter's Run for a random time between MinRun and MaxRun
	// (default 30 ms and 600 ms), is then killed and restarted: every other
	// kill cancels Run's context and waits for it (a graceful stop), the
	// others crash the process: its outbox fails every call from then on,
	// its context is cancelled, mid-push if it was pushing, and the
	// goroutine is abandoned.
	Pushers        int
	MinRun, MaxRun time.Duration
	// Lease is the pushers' lease (default 2 s): how soon the records a
	// crashed pusher held go out again.
	Lease time.Duration
	// Chaos is the fake's misbehaviour (default: 30 % of calls fail, 5 %
	// lose their answer after the records were accepted, bursts beyond 3
	// calls are throttled at 5 calls per second). Seed seeds it and the
	// kills.
	Chaos koogallerytest.UsageChaos
	Seed  uint64
	// AbnormalEvery makes every n-th record abnormal (default 97; a
	// negative value: none).
	AbnormalEvery int
	// Timeout bounds the run (default 5 minutes).
	Timeout time.Duration
	// Logger receives the meters' logs (default: discarded).
	Logger *slog.Logger
}

// SoakReport is what SoakUsageOutbox saw.
type SoakReport struct {
	// Records were recorded; Accepted of them KooGallery has, each exactly
	// once; DeadLettered are in the outbox's dead letters, each with a
	// reason (the abnormal ones).
	Records, Accepted, DeadLettered int
	// Sends counts the records carried by well-formed pushes, Resends
	// those carried again after KooGallery had them (acknowledged, not
	// billed), Overlaps those sent by two pushes at once.
	Sends, Resends, Overlaps int
	// Calls counts the pushes by what the fake did with them.
	Calls koogallerytest.UsageCalls
	// Kills and Crashes count the pushers stopped gracefully and crashed.
	Kills, Crashes int
	// Elapsed runs from the first Record to the moment nothing was
	// pending; RecordsPerSecond is Records over it.
	Elapsed          time.Duration
	RecordsPerSecond float64
}

// String reports the counts on one line.
func (r SoakReport) String() string {
	return fmt.Sprintf("%d records: %d accepted exactly once, %d dead-lettered, 0 pending; "+
		"%d record sends (%d re-sends after acceptance, %d overlapping); "+
		"calls: %d accepted, %d failed, %d answers lost, %d throttled; pushers killed %d times, crashed %d times; "+
		"%v end to end, %.0f records/s",
		r.Records, r.Accepted, r.DeadLettered, r.Sends, r.Resends, r.Overlaps,
		r.Calls.Accepted, r.Calls.Failed, r.Calls.Lost, r.Calls.Throttled, r.Kills, r.Crashes,
		r.Elapsed.Round(time.Millisecond), r.RecordsPerSecond)
}

// SoakUsageOutbox proves a usage.Outbox under fire: concurrent producers
// record cfg.Records records while pushers on outbox push them to a fake
// KooGallery that fails, loses answers and throttles, and are killed and
// restarted at random points. At the end the fake must hold every record
// exactly once (re-sends of a metering_sn are acknowledged, not billed),
// nothing may be pending, and the abnormal records must be dead letters
// with their reason. It fails t otherwise, and returns the counts.
//
// outbox must be empty. SoakUsageOutbox is bounded (cfg.Timeout), uses
// loopback only, and stops by itself.
func SoakUsageOutbox(t testing.TB, outbox usage.Outbox, cfg SoakConfig) SoakReport {
	t.Helper()
	cfg.defaults()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	s := newSoak(t, fake, outbox, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	s.markAbnormal()

	start := time.Now()
	rep := SoakReport{Records: len(s.records)}
	for p := range cfg.Pushers {
		s.pushers.Add(1)
		go s.push(ctx, p)
	}
	s.produce(ctx)
	s.waitSettled(ctx)
	rep.Elapsed = time.Since(start)
	rep.RecordsPerSecond = float64(len(s.records)) / rep.Elapsed.Seconds()
	s.stopPushers()
	rep.Kills, rep.Crashes = int(s.kills.Load()), int(s.crashes.Load())

	s.check(&rep)
	return rep
}

// soak is one run of SoakUsageOutbox.
type soak struct {
	t         testing.TB
	cfg       SoakConfig
	outbox    usage.Outbox
	fake      *koogallerytest.Server
	client    *usage.Client
	meterOpts []usage.MeterOption
	records   []usage.Record
	abnormal  map[string]bool // metering_sns the fake reports abnormal

	settled        chan struct{} // closed once nothing is pending
	runs, pushers  sync.WaitGroup
	kills, crashes atomic.Int64
}

// newSoak sets the fake's chaos up and makes the usage client the meters
// push with.
func newSoak(t testing.TB, fake *koogallerytest.Server, outbox usage.Outbox, cfg SoakConfig) *soak {
	t.Helper()
	chaos := cfg.Chaos
	chaos.Seed = cfg.Seed
	fake.SetUsageChaos(chaos)
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{
		MaxAttempts: 2, MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxElapsed: cfg.Lease / 2}),
		koogallery.WithLogger(cfg.Logger))
	if err != nil {
		t.Fatalf("soak: client: %v", err)
	}
	return &soak{
		t: t, cfg: cfg, outbox: outbox, fake: fake,
		client: usage.NewClient(kg, usage.WithSellerKey(koogallerytest.DefaultSellerKey)),
		meterOpts: []usage.MeterOption{usage.WithLogger(cfg.Logger), usage.WithLease(cfg.Lease),
			usage.WithBackoff(2*time.Millisecond, 200*time.Millisecond), usage.WithPollInterval(20 * time.Millisecond)},
		records:  soakRecords(cfg),
		abnormal: map[string]bool{},
		settled:  make(chan struct{}),
	}
}

// markAbnormal makes the fake report every cfg.AbnormalEvery-th record
// abnormal.
func (s *soak) markAbnormal() {
	for i, r := range s.records {
		if s.cfg.AbnormalEvery > 0 && i%s.cfg.AbnormalEvery == s.cfg.AbnormalEvery-1 {
			s.fake.FailUsageRecord(r.MeteringSN, "abnormal on purpose: "+r.MeteringSN)
			s.abnormal[r.MeteringSN] = true
		}
	}
}

// push is pusher p: a process running a Meter on the outbox, killed and
// restarted until everything is settled; crashes and graceful stops take
// turns, starting with a crash for even p.
func (s *soak) push(ctx context.Context, p int) {
	defer s.pushers.Done()
	rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(p)+1))
	crash := p%2 == 0
	for {
		pushed := make(chan struct{})
		var once sync.Once
		proc := &soakProcess{Outbox: s.outbox}
		m, err := usage.NewMeter(s.client, proc, append(slices.Clip(s.meterOpts), usage.WithEvents(func(e usage.Event) {
			if e.Kind == usage.EventPushed {
				once.Do(func() { close(pushed) })
			}
		}))...)
		if err != nil {
			s.t.Errorf("soak: pusher: %v", err)
			return
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		s.runs.Add(1)
		go func() {
			defer s.runs.Done()
			done <- m.Run(runCtx)
		}()
		life := s.cfg.MinRun + time.Duration(rng.Int64N(int64(s.cfg.MaxRun-s.cfg.MinRun)+1))
		select {
		case <-time.After(life):
		case <-s.settled:
		case <-ctx.Done():
		}
		if !crash {
			// A graceful stop waits for the process to have pushed
			// something, so that every other life makes progress
			// however slow the machine is.
			select {
			case <-pushed:
			case <-s.settled:
			case <-ctx.Done():
			}
		}
		finished := isClosed(s.settled) || ctx.Err() != nil
		if !finished && crash {
			proc.crash() // the process dies: no more outbox writes, the push cut short
			stop()
			s.crashes.Add(1)
			crash = false
			continue // the goroutine is abandoned, not waited for
		}
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			s.t.Errorf("soak: Run: %v", err)
		}
		if finished {
			return
		}
		s.kills.Add(1)
		crash = true
	}
}

// produce records the records from cfg.Producers producers through one
// Meter, in chunks of up to 100 paced over cfg.ProduceOver, every tenth
// chunk twice, and returns when they are done.
func (s *soak) produce(ctx context.Context) {
	s.t.Helper()
	recorder, err := usage.NewMeter(s.client, s.outbox, s.meterOpts...)
	if err != nil {
		s.t.Fatalf("soak: producer meter: %v", err)
	}
	records, producers := s.records, s.cfg.Producers
	var wg sync.WaitGroup
	chunks := (len(records) + 99) / 100
	pace := max(0, s.cfg.ProduceOver) / time.Duration(max(1, chunks/producers))
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := 0
			next := time.Now().Add(pace * time.Duration(p) / time.Duration(producers))
			for off := p * 100; off < len(records); off += producers * 100 {
				time.Sleep(time.Until(next))
				next = next.Add(pace)
				part := records[off:min(off+100, len(records))]
				times := 1
				if chunk++; chunk%10 == 0 {
					times = 2
				}
				for range times {
					if err := recorder.Record(ctx, part...); err != nil {
						s.t.Errorf("soak: Record: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// waitSettled waits until nothing is pending, failing the run if ctx ends
// first.
func (s *soak) waitSettled(ctx context.Context) {
	s.t.Helper()
	for {
		st, err := s.outbox.Stats(ctx, time.Now())
		if err == nil && st.Pending == 0 {
			return
		}
		if ctx.Err() != nil {
			s.stopPushers()
			s.t.Fatalf("soak: %d records still pending after %v (stats %+v, err %v)", st.Pending, s.cfg.Timeout, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopPushers tells the pushers everything is settled and waits for them
// and for the Runs they did not abandon.
func (s *soak) stopPushers() {
	close(s.settled)
	s.pushers.Wait()
	s.runs.Wait()
}

// check verifies the end of the run: the fake has every record exactly
// once, the abnormal ones are dead letters with their reason, the outbox's
// stats agree, and no two sends of a record overlapped. It fills rep's
// counts.
func (s *soak) check(rep *SoakReport) {
	s.t.Helper()
	s.checkLedger(rep)
	s.checkDeadLetters(rep)
	st, err := s.outbox.Stats(context.Background(), time.Now())
	if err != nil || st.Pending != 0 || st.Sent != rep.Accepted || st.Dead != len(s.abnormal) {
		s.t.Errorf("soak: outbox stats %+v (%v), want 0 pending, %d sent, %d dead", st, err, rep.Accepted, len(s.abnormal))
	}
	if rep.Overlaps > 0 {
		s.t.Errorf("soak: %d record sends overlapped another send of the same record: the lease did not exclude", rep.Overlaps)
	}
}

// checkLedger checks the fake's ledger against the records: each normal
// one accepted, each abnormal one reported, none re-sent with other
// content, and as many billed as accepted.
func (s *soak) checkLedger(rep *SoakReport) {
	s.t.Helper()
	ledger := s.fake.UsageLedger()
	rep.Calls = s.fake.UsageCalls()
	for _, e := range ledger {
		rep.Sends += e.Sends
		rep.Resends += e.Resends
		rep.Overlaps += e.Overlaps
		if e.Changed > 0 {
			s.t.Errorf("soak: %s was re-sent with other content %d times", e.Record.MeteringSN, e.Changed)
		}
	}
	for _, r := range s.records {
		e, ok := ledger[r.MeteringSN]
		switch {
		case s.abnormal[r.MeteringSN]:
			if !ok || e.Accepted || e.Abnormal == "" {
				s.t.Errorf("soak: abnormal record %s: ledger %+v", r.MeteringSN, e)
			}
		case !ok || !e.Accepted:
			s.t.Errorf("soak: record %s never reached KooGallery", r.MeteringSN)
		default:
			rep.Accepted++
		}
	}
	if billed := len(s.fake.UsageRecords()); billed != rep.Accepted || len(ledger) != len(s.records) {
		s.t.Errorf("soak: KooGallery billed %d records and saw %d metering_sns; %d were recorded, %d accepted",
			billed, len(ledger), len(s.records), rep.Accepted)
	}
}

// checkDeadLetters checks that the outbox's dead letters are exactly the
// abnormal records, each with its reason and raw answer.
func (s *soak) checkDeadLetters(rep *SoakReport) {
	s.t.Helper()
	dead := map[string]usage.DeadLetter{}
	for after := ""; ; {
		page, err := s.outbox.DeadLetters(context.Background(), after, 500)
		if err != nil {
			s.t.Fatalf("soak: DeadLetters: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			dead[d.Record.MeteringSN] = d
		}
		after = page[len(page)-1].Record.MeteringSN
	}
	rep.DeadLettered = len(dead)
	for sn := range s.abnormal {
		d, ok := dead[sn]
		if !ok || d.Reason != "abnormal: abnormal on purpose: "+sn || len(d.Raw) == 0 {
			s.t.Errorf("soak: abnormal record %s is not a dead letter with its reason and answer (%+v)", sn, d)
		}
	}
	if len(dead) != len(s.abnormal) {
		s.t.Errorf("soak: %d dead letters, %d abnormal records", len(dead), len(s.abnormal))
	}
}

func (cfg *SoakConfig) defaults() {
	if cfg.Records <= 0 {
		cfg.Records = 5000
	}
	if cfg.Producers <= 0 {
		cfg.Producers = 8
	}
	if cfg.Pushers <= 0 {
		cfg.Pushers = 2
	}
	if cfg.ProduceOver == 0 {
		cfg.ProduceOver = 2 * time.Second
	}
	if cfg.MinRun <= 0 {
		cfg.MinRun = 30 * time.Millisecond
	}
	if cfg.MaxRun < cfg.MinRun {
		cfg.MaxRun = max(cfg.MinRun, 600*time.Millisecond)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Second
	}
	if cfg.Chaos == (koogallerytest.UsageChaos{}) {
		cfg.Chaos = koogallerytest.UsageChaos{FailRate: 0.3, LoseRate: 0.05, ThrottleRate: 5, ThrottleBurst: 3}
	}
	if cfg.AbnormalEvery == 0 {
		cfg.AbnormalEvery = 97
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

func soakRecords(cfg SoakConfig) []usage.Record {
	end := time.Now().UTC().Truncate(time.Hour)
	out := make([]usage.Record, cfg.Records)
	for i := range out {
		out[i] = usage.Record{
			InstanceID: fmt.Sprintf("soak-instance-%d", i%50), MeteringSN: fmt.Sprintf("soak-%d-%07d", cfg.Seed, i),
			RecordTime: end, BeginTime: end.Add(-time.Hour), EndTime: end,
			UsageValue: usage.MustDecimal(fmt.Sprintf("%d.%04d", i%1000+1, i%10000)),
		}
	}
	return out
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// soakProcess is one pusher process's view of the outbox: once crashed,
// every call fails, as calls of a process that died never reach the
// database.
type soakProcess struct {
	usage.Outbox
	dead atomic.Bool
}

var errSoakCrashed = errors.New("soak: the process crashed")

func (p *soakProcess) crash() { p.dead.Store(true) }

func (p *soakProcess) check() error {
	if p.dead.Load() {
		return errSoakCrashed
	}
	return nil
}

func (p *soakProcess) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) (*usage.Claim, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.Outbox.Claim(ctx, now, max, lease)
}

func (p *soakProcess) Renew(ctx context.Context, token string, until time.Time) error {
	if err := p.check(); err != nil {
		return err
	}
	return p.Outbox.Renew(ctx, token, until)
}

func (p *soakProcess) Settle(ctx context.Context, token string, s usage.Settlement) error {
	if err := p.check(); err != nil {
		return err
	}
	return p.Outbox.Settle(ctx, token, s)
}

func (p *soakProcess) Purge(ctx context.Context, before time.Time) (int, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	return p.Outbox.Purge(ctx, before)
}

func (p *soakProcess) AtRisk(ctx context.Context, before time.Time, max int) ([]usage.Entry, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.Outbox.AtRisk(ctx, before, max)
}

func (p *soakProcess) Stats(ctx context.Context, now time.Time) (usage.OutboxStats, error) {
	if err := p.check(); err != nil {
		return usage.OutboxStats{}, err
	}
	return p.Outbox.Stats(ctx, now)
}
