package koogallerytest

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/isvkit/koogallery/saas/usage"
)

// UsageChaos makes the fake's usage push (the current API) misbehave the
// ways the real one can, to test a seller's metering: it fails a fraction
// of calls, loses the answer of others after accepting their records, and
// throttles bursts. Decisions are drawn in the order calls arrive from a
// generator seeded with Seed, so the same seed and the same calls give
// the same failures. Only well-formed, correctly signed pushes are
// affected; the records of a failed or throttled call are not accepted.
type UsageChaos struct {
	// Seed seeds the decisions.
	Seed uint64
	// FailRate is the fraction of calls answered HTTP 503 (APIGW.0201,
	// backend unavailable) without accepting anything.
	FailRate float64
	// LoseRate is the fraction of calls whose records are accepted but
	// whose answer never arrives: the connection is closed instead, as when
	// a pusher or the network dies between sending and acknowledgement.
	LoseRate float64
	// ThrottleRate, when positive, throttles calls beyond a token bucket of
	// ThrottleBurst calls (at least 1) refilled at ThrottleRate calls per
	// second of the server's clock: HTTP 406, MKT.0250.
	ThrottleRate  float64
	ThrottleBurst int
	// RetryAfter, when positive, is sent with throttling answers, in whole
	// seconds (at least one).
	RetryAfter time.Duration
}

// SetUsageChaos replaces the usage push's misbehaviour (the zero
// UsageChaos turns it off).
func (s *Server) SetUsageChaos(c UsageChaos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.open.ledger
	l.chaos = c
	l.rng = rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	l.tokens, l.refilled = float64(max(c.ThrottleBurst, 1)), time.Time{}
}

// UsageLedgerEntry is what the fake knows of one metering_sn pushed
// through the current usage API.
type UsageLedgerEntry struct {
	// Record is the record as first received.
	Record usage.Record
	// Sends counts the well-formed pushes that carried it, whatever the
	// answer: failed, throttled and lost calls included.
	Sends int
	// Accepted reports whether KooGallery has the record: it is billed
	// once, however often it was sent.
	Accepted bool
	// Resends counts the pushes that carried it after it was accepted
	// (acknowledged, not billed again).
	Resends int
	// Changed counts the pushes that carried it with other content than
	// the first: a seller bug, since KooGallery keeps the first.
	Changed int
	// Abnormal is the reason the fake reported it abnormal (see
	// FailUsageRecord), if it did.
	Abnormal string
	// Overlaps counts the pushes that carried it while another push
	// carrying it was still being answered: two pushers sending one
	// record at the same time.
	Overlaps int
}

// UsageLedger returns, by metering_sn, every record pushed through the
// current usage API in a well-formed call.
func (s *Server) UsageLedger() map[string]UsageLedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]UsageLedgerEntry, len(s.open.ledger.entries))
	for sn, e := range s.open.ledger.entries {
		out[sn] = *e
	}
	return out
}

// UsageCalls counts the well-formed usage pushes by what the fake did with
// them.
type UsageCalls struct {
	Accepted, Failed, Lost, Throttled int
}

// UsageCalls returns the counts of well-formed usage pushes so far.
func (s *Server) UsageCalls() UsageCalls {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open.ledger.calls
}

// usageLedger is the state behind UsageChaos and UsageLedger, guarded by
// Server.mu.
type usageLedger struct {
	chaos    UsageChaos
	rng      *rand.Rand
	tokens   float64
	refilled time.Time
	entries  map[string]*UsageLedgerEntry
	inFlight map[string]int
	calls    UsageCalls
}

func newUsageLedger() *usageLedger {
	return &usageLedger{rng: rand.New(rand.NewPCG(0, 0)), tokens: 1,
		entries: map[string]*UsageLedgerEntry{}, inFlight: map[string]int{}}
}

type chaosOutcome uint8

const (
	chaosNone chaosOutcome = iota
	chaosThrottle
	chaosFail
	chaosLose
)

// arrive enters a well-formed push of the current API in the ledger and
// decides its fate. The caller holds s.mu.
func (l *usageLedger) arrive(records []usage.Record, now time.Time) chaosOutcome {
	for _, r := range records {
		e := l.entries[r.MeteringSN]
		if e == nil {
			e = &UsageLedgerEntry{Record: r}
			l.entries[r.MeteringSN] = e
		} else if !sameUsage(e.Record, r) {
			e.Changed++
		}
		e.Sends++
		if l.inFlight[r.MeteringSN] > 0 {
			e.Overlaps++
		}
		l.inFlight[r.MeteringSN]++
	}
	c := &l.chaos
	if c.ThrottleRate > 0 {
		burst := float64(max(c.ThrottleBurst, 1))
		if !l.refilled.IsZero() {
			l.tokens = min(burst, l.tokens+now.Sub(l.refilled).Seconds()*c.ThrottleRate)
		}
		l.refilled = now
		if l.tokens < 1 {
			l.calls.Throttled++
			return chaosThrottle
		}
		l.tokens--
	}
	if c.FailRate > 0 && l.rng.Float64() < c.FailRate {
		l.calls.Failed++
		return chaosFail
	}
	if c.LoseRate > 0 && l.rng.Float64() < c.LoseRate {
		l.calls.Lost++
		return chaosLose
	}
	l.calls.Accepted++
	return chaosNone
}

// leave marks a push as answered. The caller holds s.mu.
func (l *usageLedger) leave(records []usage.Record) {
	for _, r := range records {
		if l.inFlight[r.MeteringSN]--; l.inFlight[r.MeteringSN] <= 0 {
			delete(l.inFlight, r.MeteringSN)
		}
	}
}

// sameUsage reports whether two received records carry the same content.
func sameUsage(a, b usage.Record) bool {
	return a.InstanceID == b.InstanceID && a.RecordTime.Equal(b.RecordTime) && a.BeginTime.Equal(b.BeginTime) &&
		a.EndTime.Equal(b.EndTime) && a.UsageValue == b.UsageValue && a.RelatePkgInstance == b.RelatePkgInstance
}

// answerChaos writes the answer of a throttled or failed push.
func (s *Server) answerChaos(w http.ResponseWriter, outcome chaosOutcome) {
	switch outcome {
	case chaosThrottle:
		s.mu.Lock()
		ra := s.open.ledger.chaos.RetryAfter
		s.mu.Unlock()
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int((ra+time.Second-1)/time.Second))))
		}
		writeEnvelope(w, http.StatusNotAcceptable, "MKT.0250", "Access frequency overlimit", nil)
	case chaosFail:
		writeJSON(w, http.StatusServiceUnavailable, "APIGW.0201", "Backend unavailable", w.Header().Get("X-Request-Id"))
	}
}

// AcceptUsageRecords undoes FailUsageRecord for these metering_sns: they
// are accepted when pushed again.
func (s *Server) AcceptUsageRecords(meteringSNs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sn := range meteringSNs {
		delete(s.open.failing, sn)
	}
}
