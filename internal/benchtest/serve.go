// Package benchtest holds what the handler benchmarks of packages saas,
// saas/kit, license and order share: the loop that serves presigned calls to
// a handler side by side with its floors, and those floors: lean verifiers
// written by hand for each signature scheme (the signature and the window
// only, pooled HMAC states, encoding/json, the answer) and a bare handler
// that only reads the body and answers. It is imported by tests only.
package benchtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Call is one presigned callback as plain data: the benchmarks turn what
// their senders (koogallerytest's, in this repository) return into a Call at
// their side, so that this package imports the standard library only.
type Call struct {
	Method string
	URL    string // the full URL, query included
	Header http.Header
	Body   []byte
}

// Round is the number of presigned calls a handler is given before the loop
// replaces it with a fresh one (outside the timer), so that its replay cache
// and store never refuse: a benchmark that fills them must leave room for
// Round calls.
const Round = 4096

// resign is the age at which presigned calls are signed again (outside the
// timer), well inside the V2 schemes' 60-second window.
const resign = 30 * time.Second

// Variant is one handler a benchmark compares: handler, lean, bare...
type Variant struct {
	Name    string
	Handler func() http.Handler // a fresh one, for each round of calls
}

// Compare runs Serve for each variant side by side, as sub-benchmarks
// named variant=<Name>.
func Compare(b *testing.B, sign func(*testing.B) []Call, variants ...Variant) {
	for _, v := range variants {
		b.Run("variant="+v.Name, func(b *testing.B) { Serve(b, sign, v.Handler) })
	}
}

// Presign returns the Round calls sign makes, failing the benchmark on an
// error.
func Presign(b *testing.B, sign func(i int) (Call, error)) []Call {
	b.Helper()
	calls := make([]Call, Round)
	for i := range calls {
		c, err := sign(i)
		if err != nil {
			b.Fatal(err)
		}
		calls[i] = c
	}
	return calls
}

// Serve serves Round presigned calls from sign to handlers from fresh, one
// call per iteration, replacing the handler after every Round calls and
// signing the calls again when they grow old, both outside the timer. Every
// answer must start with {"resultCode":"000000": a broken variant fails
// the benchmark rather than measure a refusal.
//
// The requests are built once per signing; the loop only rewinds their
// bodies, so that it allocates nothing itself.
func Serve(b *testing.B, sign func(*testing.B) []Call, fresh func() http.Handler) {
	b.Helper()
	var reqs []*http.Request
	var bodies []rewinder
	var signed time.Time
	build := func() {
		calls := sign(b)
		if len(calls) != Round {
			b.Fatalf("sign returned %d calls, want %d", len(calls), Round)
		}
		reqs, bodies = make([]*http.Request, len(calls)), make([]rewinder, len(calls))
		for i, c := range calls {
			r := httptest.NewRequest(c.Method, c.URL, nil)
			for k, v := range c.Header {
				r.Header[k] = v
			}
			bodies[i].b = c.Body
			r.ContentLength = int64(len(c.Body))
			reqs[i] = r
		}
		signed = time.Now()
	}
	build()
	h := fresh()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(reqs) {
			b.StopTimer()
			if time.Since(signed) > resign {
				build()
			}
			h, i = fresh(), 0
			b.StartTimer()
		}
		r, body := reqs[i], &bodies[i]
		i++
		body.off = 0
		r.Body = body
		w.n, w.first = 0, w.first[:0]
		h.ServeHTTP(w, r)
		if !bytes.HasPrefix(w.first, success) {
			b.Fatalf("answer %q", w.first)
		}
	}
}

var success = []byte(`{"resultCode":"000000"`)

// rewinder is a request body that can be read again.
type rewinder struct {
	b   []byte
	off int
}

func (r *rewinder) Read(p []byte) (int, error) {
	if r.off == len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *rewinder) Close() error { return nil }

// discardWriter is an http.ResponseWriter that keeps only the start of the
// answer, so that the benchmarks measure the handlers, not a recorder.
type discardWriter struct {
	h     http.Header
	n     int
	first []byte
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(p []byte) (int, error) {
	if len(w.first) < len(success) {
		w.first = append(w.first, p[:min(len(p), len(success)-len(w.first))]...)
	}
	w.n += len(p)
	return len(p), nil
}

// Bare returns what a hand-written handler without verification does: read
// the body and write answer as JSON.
func Bare(answer string) http.Handler {
	a := []byte(answer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = jsonContentType
		_, _ = w.Write(a)
	})
}

var jsonContentType = []string{"application/json"}
