package proof

import (
	"slices"
	"sync"
	"time"
)

// Tally counts what the driver sent and got, per phase and in all.
type Tally struct {
	mu    sync.Mutex
	phase *Phase

	Callbacks int            // HTTP requests sent
	ByFamily  map[string]int // requests per family
	Codes     map[string]int // "kind code" → answers

	Genuine, Answered int // genuine calls, and those answered 000000/000004 within their schedule
	Retries           int // attempts after the first
	RetriesMoved      int // retries answered by another replica than the attempt before
	Dups, DupsMoved   int // duplicate pairs, and those answered by two replicas
	Replays           int
	ReplaysAccepted   int // V2-scheme replays answered 000000/000004
	Attacks           int // forged, tampered and stale calls
	AttacksAccepted   int // answered 000000/000004
	AttacksOther      int // answered another code than 000001 (a transport failure is none)

	unanswered     []string
	refusedGenuine []string
	mismatch       []string
	// windows count answers by code, per window: while a store fault
	// lasted, in the seconds after; window names the one open ("": none),
	// and slowest holds each window's slowest answer.
	windows map[string]map[string]int
	slowest map[string]time.Duration
	window  string

	problemsN map[*[]string]int
}

func newTally() *Tally {
	return &Tally{ByFamily: map[string]int{}, Codes: map[string]int{}, windows: map[string]map[string]int{},
		slowest:   map[string]time.Duration{},
		problemsN: map[*[]string]int{}}
}

// Phase is one part of a run, timed on its own.
type Phase struct {
	Name      string
	Start     time.Time
	Duration  time.Duration
	Callbacks int
	latencies []time.Duration
}

// Throughput is callbacks per second.
func (p *Phase) Throughput() float64 {
	if p.Duration <= 0 {
		return 0
	}
	return float64(p.Callbacks) / p.Duration.Seconds()
}

// Quantile returns the q-quantile (0 < q ≤ 1) of the phase's latencies,
// nearest rank.
func (p *Phase) Quantile(q float64) time.Duration {
	if len(p.latencies) == 0 {
		return 0
	}
	s := slices.Clone(p.latencies)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (t *Tally) begin(name string) *Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase = &Phase{Name: name, Start: time.Now()}
	return t.phase
}

func (t *Tally) end(p *Phase) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.Duration = time.Since(p.Start)
	t.phase = nil
}

// setWindow starts counting answers into the window named w ("": stops).
func (t *Tally) setWindow(w string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.window = w
	if w != "" && t.windows[w] == nil {
		t.windows[w] = map[string]int{}
	}
}

// windowed returns the counts of windows a and b, and the slowest answer
// in either.
func (t *Tally) windowed(a, b string) (ca, cb map[string]int, slowest time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.windows[a], t.windows[b], max(t.slowest[a], t.slowest[b])
}

func (t *Tally) record(family, kind string, a answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Callbacks++
	t.ByFamily[family]++
	t.Codes[kind+" "+a.code]++
	if t.phase != nil {
		t.phase.Callbacks++
		t.phase.latencies = append(t.phase.latencies, a.latency)
	}
	if t.window != "" {
		t.windows[t.window][a.code]++
		t.slowest[t.window] = max(t.slowest[t.window], a.latency)
	}
	switch kind {
	case "replay":
		t.Replays++
		if a.ok() {
			t.ReplaysAccepted++
		}
	case "replay-v1":
		t.Replays++ // answered 000000 by design; the ledger shows whether the seller's code ran again
	case "forged", "stale":
		t.Attacks++
		switch {
		case a.ok():
			t.AttacksAccepted++
		case a.code != "000001" && a.code != "error" && a.code != "timeout":
			t.AttacksOther++
		}
	}
}

func (t *Tally) genuine() {
	t.mu.Lock()
	t.Genuine++
	t.mu.Unlock()
}

func (t *Tally) answered() {
	t.mu.Lock()
	t.Answered++
	t.mu.Unlock()
}

func (t *Tally) retry(prev, now int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Retries++
	if prev >= 0 && now >= 0 && prev != now {
		t.RetriesMoved++
	}
}

func (t *Tally) dup(a, b int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Dups++
	if a >= 0 && b >= 0 && a != b {
		t.DupsMoved++
	}
}

// problem appends msg to list, keeping the first 20 and counting all.
func (t *Tally) problem(list *[]string, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.problemsN[list]++
	if len(*list) < 20 {
		*list = append(*list, msg)
	}
}

func (t *Tally) count(list *[]string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.problemsN[list]
}
