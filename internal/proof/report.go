package proof

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

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
