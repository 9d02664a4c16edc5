package proof

import (
	"bytes"
	"runtime"
	"strconv"
	"time"
)

// goroutines returns the stacks of every goroutine, by ID.
func goroutines() map[uint64]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[uint64]string{}
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		// "goroutine 42 [running]:\n..."
		rest, ok := bytes.CutPrefix(g, []byte("goroutine "))
		if !ok {
			continue
		}
		id, _, _ := bytes.Cut(rest, []byte(" "))
		n, err := strconv.ParseUint(string(id), 10, 64)
		if err == nil {
			out[n] = string(g)
		}
	}
	return out
}

// leaked returns the stacks of the goroutines that did not exist in
// before, waiting up to wait for them to end (connections closing, timers
// firing).
func leaked(before map[uint64]string, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var extra []string
		for id, stack := range goroutines() {
			if _, ok := before[id]; !ok {
				extra = append(extra, stack)
			}
		}
		if len(extra) == 0 || time.Now().After(deadline) {
			return extra
		}
		time.Sleep(50 * time.Millisecond)
	}
}
