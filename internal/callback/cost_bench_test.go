package callback

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/store"
)

// The benchmarks in this file measure what an unauthenticated caller can
// make a handler spend: a forged call of the largest size each scheme
// accepts, and connections that declare a large body and then stall.
//
//	go test ./internal/callback -run XXX -bench 'Forged|Idle' -benchmem -count 5

// forgedObject returns a JSON object of about size bytes made of as many
// short members as fit, in no particular order: the most work for every
// form a verifier may build.
func forgedObject(size int, extra string) []byte {
	n := size / 12
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString("{" + extra)
	for _, i := range perm {
		s := `"k` + strconv.Itoa(i) + `":1,`
		if b.Len()+len(s)+1 > size {
			break
		}
		b.WriteString(s)
	}
	out := b.Bytes()
	out[len(out)-1] = '}'
	return out
}

// forgedForms returns a JSON object of about size bytes with members
// members, unsorted, spaced, full of escapes and (for nested) numbers that
// Jackson rewrites: every form a verifier may try differs from the others,
// so each is built and hashed.
func forgedForms(size, members int, nested bool, extra string) []byte {
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString("{ " + extra)
	per := (size - len(extra) - 16) / members
	unit := `\u4e2d\/\"x `
	for i := members - 1; i >= 0; i-- {
		name := `"k` + strconv.Itoa(i) + `" : `
		if i == 0 {
			b.WriteString(`"zz" : 1e2 , `) // a bare scalar: the quoted form differs too
			continue
		}
		if nested {
			fill := (per - len(name) - 24) / (len(unit) + 5)
			b.WriteString(name + "[ 1.5e0 , ")
			for range max(fill, 1) {
				b.WriteString(`"` + unit + `" , `)
			}
			b.WriteString(`-0 ] , `)
			continue
		}
		fill := (per - len(name) - 6) / len(unit)
		b.WriteString(name + `"` + strings.Repeat(unit, max(fill, 1)) + `" , `)
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte(", "))
	return append(out, '}')
}

// forgedQuery returns a V1 query of about size bytes with at most params
// parameters, values long and escaped, with a literal '+' so that both
// readings are tried.
func forgedQuery(size, params int) string {
	var b strings.Builder
	b.WriteString("timeStamp=20261127083000123&activity=refreshInstance&authToken=ISQPmsWS3la%2F5IRnLdpTh0W9iyazgtByiifep%2FO%2F0vI%3D")
	perm := rand.New(rand.NewPCG(1, 2)).Perm(params)
	per := (size - b.Len()) / params
	for _, i := range perm {
		s := "&p" + strconv.Itoa(i) + "=+"
		s += strings.Repeat("%E4%B8%AD", max(per-len(s), 9)/9)
		if b.Len()+len(s) > size {
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

func benchForged(b *testing.B, scheme Scheme, now time.Time, req func(i int) *http.Request) {
	b.Helper()
	h := NewHandler(vecKey, Config{Scheme: scheme, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)},
		func(context.Context, []byte, *Response) error {
			b.Fatal("a forged call reached Serve")
			return nil
		})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req(0))
	if !strings.Contains(rec.Body.String(), `"000001"`) {
		b.Fatalf("forged call answered %s, want 000001", rec.Body)
	}
	b.ReportAllocs()
	i := 0
	start := cpuTime()
	for b.Loop() {
		i++
		h.ServeHTTP(httptest.NewRecorder(), req(i))
	}
	// CPU time, not wall clock: these machines are shared, and the question
	// is what a forged call costs the process.
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkForgedMaxSize(b *testing.B) {
	const wrongSig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	v2 := func(b *testing.B, body []byte) {
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeV2, vecTime, func(i int) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/?signature="+wrongSig+"&timestamp="+vecTimestamp+"&nonce=n"+strconv.Itoa(i), bytes.NewReader(body))
		})
	}
	kit := func(b *testing.B, body []byte) {
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeKit, vecTime, func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/v2/tenantSync", bytes.NewReader(body))
			r.Header.Set("X-Sign", wrongSig)
			r.Header.Set("X-Timestamp", vecTimestamp)
			r.Header.Set("X-Nonce", "n"+strconv.Itoa(i))
			return r
		})
	}
	kitV1 := func(b *testing.B, body []byte) {
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeV1Kit, v1Time, func(int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/tenantSync", bytes.NewReader(body))
			r.Header.Set("authToken", v1KitToken)
			return r
		})
	}
	v1 := func(b *testing.B, q string) {
		b.SetBytes(int64(len(q)))
		benchForged(b, SchemeV1Query, v1Time, func(int) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?"+q, nil)
		})
	}
	const members = 1000 // just under canonjson.MaxMembers: every form is built
	v2Max, kitMax := int(maxBodyFor(SchemeV2)), int(maxBodyFor(SchemeKit))
	b.Run("saasV2/keys", func(b *testing.B) { v2(b, forgedObject(v2Max, `"activity":"newInstance",`)) })
	b.Run("saasV2/forms", func(b *testing.B) { v2(b, forgedForms(v2Max, members, false, `"activity":"newInstance",`)) })
	b.Run("kitV2/keys", func(b *testing.B) { kit(b, forgedObject(kitMax, `"tenantId":"t",`)) })
	b.Run("kitV2/forms", func(b *testing.B) { kit(b, forgedForms(kitMax, members, true, `"tenantId":"t",`)) })
	b.Run("kitV1/keys", func(b *testing.B) {
		kitV1(b, forgedObject(int(maxBodyFor(SchemeV1Kit)), `"timeStamp":"20261127163000123",`))
	})
	b.Run("kitV1/forms", func(b *testing.B) {
		kitV1(b, forgedForms(int(maxBodyFor(SchemeV1Kit)), members, false, `"timeStamp":"20261127163000123",`))
	})
	b.Run("v1Query/params", func(b *testing.B) { v1(b, forgedQuery(int(maxBodyFor(SchemeV1Query)), 5000)) })
	b.Run("v1Query/forms", func(b *testing.B) { v1(b, forgedQuery(int(maxBodyFor(SchemeV1Query)), 1000)) })
}

// BenchmarkIdleConnections opens conns connections that each send a
// request declaring a body of the scheme's largest accepted size and then
// stall, and reports the heap they hold (heap-MiB, heap-KiB/conn) once every
// handler is waiting for the body. Run it with -benchtime 1x.
func BenchmarkIdleConnections(b *testing.B) {
	const conns = 200
	for _, tc := range []struct {
		name     string
		scheme   Scheme
		declared int64
		head     string
	}{
		{"saasV2/declared1MiB", SchemeV2, 1 << 20, "POST /?signature=x&timestamp=" + vecTimestamp + "&nonce=n HTTP/1.1\r\n"},
		{"saasV2/declaredMax", SchemeV2, maxBodyFor(SchemeV2), "POST /?signature=x&timestamp=" + vecTimestamp + "&nonce=n HTTP/1.1\r\n"},
		{"kitV1/declared1MiB", SchemeV1Kit, 1 << 20, "POST /produceAPI/tenantSync HTTP/1.1\r\nauthToken: " + v1KitToken + "\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				idleHeap(b, conns, tc.scheme, tc.declared, tc.head)
			}
		})
	}
}

func idleHeap(b *testing.B, conns int, scheme Scheme, declared int64, head string) {
	var entered atomic.Int64
	h := NewHandler(vecKey, Config{Scheme: scheme, Now: func() time.Time { return vecTime }, Logger: slog.New(slog.DiscardHandler)},
		func(context.Context, []byte, *Response) error { return nil })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	cs := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
		w := bufio.NewWriter(c)
		fmt.Fprintf(w, "%sHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", head, declared)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for entered.Load() < int64(conns) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let every handler reach its Read
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grew := float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / (1 << 20)
	b.ReportMetric(grew, "heap-MiB")
	b.ReportMetric(grew*1024/float64(conns), "heap-KiB/conn")
	b.ReportMetric(float64(entered.Load()), "handlers")
}

// maxBodyFor is the largest body (or V1 query) a handler of scheme accepts
// by default.
func maxBodyFor(s Scheme) int64 { return DefaultMaxBody(s) }

// BenchmarkReplayCacheAtBound reports the heap a full default nonce cache
// holds (heap-MiB, B/entry), with nonces and timestamps as KooGallery sends
// them (32 characters, 13 digits). Run it with -benchtime 1x.
func BenchmarkReplayCacheAtBound(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := store.NewMemoryReplayCache(DefaultReplayCacheSize)
		ctx := context.Background()
		for i := range DefaultReplayCacheSize {
			key := replayKey(SchemeV2, fmt.Sprintf("%032d", i), vecTimestamp)
			if _, err := c.Add(ctx, key, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.Add(ctx, "one more", time.Hour); err == nil {
			b.Fatal("a full cache accepted one more")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		grew := float64(after.HeapInuse - before.HeapInuse)
		b.ReportMetric(grew/(1<<20), "heap-MiB")
		b.ReportMetric(grew/float64(DefaultReplayCacheSize), "B/entry")
		runtime.KeepAlive(c)
	}
}

// BenchmarkGenuine is a genuine call of each scheme BenchmarkForgedMaxSize
// forges, of the size KooGallery sends, through the same handler and
// measured the same way (cpu-ms/op, the request built in the loop), so that
// forged/genuine is the multiple an unauthenticated caller gets. Each round
// of 4096 distinct calls gets a new handler, outside the timer and the CPU
// count, so that its replay cache never refuses.
func BenchmarkGenuine(b *testing.B) {
	const round = 4096
	k := NewKey(vecKey)
	type call struct{ query, body, nonce, sig string }
	sign := func(mk func(i int) call) []call {
		calls := make([]call, round)
		for i := range calls {
			calls[i] = mk(i)
		}
		return calls
	}
	for _, tc := range []struct {
		name   string
		scheme Scheme
		now    time.Time
		calls  []call
		req    func(c *call) *http.Request
	}{
		{"saasV2", SchemeV2, vecTime, sign(func(i int) call {
			n := fmt.Sprintf("%032d", i)
			return call{query: "signature=" + k.SignV2(n, vecTimestamp, []byte(v2Canonical)) + "&timestamp=" + vecTimestamp + "&nonce=" + n, body: v2Canonical}
		}), func(c *call) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/?"+c.query, strings.NewReader(c.body))
		}},
		{"kitV2", SchemeKit, vecTime, sign(func(i int) call {
			n := fmt.Sprintf("%032d", i)
			return call{body: kitCanonical, nonce: n, sig: k.SignKit(n, vecTimestamp, []byte(kitCanonical))}
		}), func(c *call) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/v2/tenantSync", strings.NewReader(c.body))
			r.Header.Set("X-Sign", c.sig)
			r.Header.Set("X-Timestamp", vecTimestamp)
			r.Header.Set("X-Nonce", c.nonce)
			return r
		}},
		{"kitV1", SchemeV1Kit, v1Time, sign(func(i int) call {
			body := strings.Replace(v1KitBody, "inst-0001", "inst-"+strconv.Itoa(i), 1)
			token, err := v1sign.SignKit(vecKey, []byte(body))
			if err != nil {
				b.Fatal(err)
			}
			return call{body: body, sig: token}
		}), func(c *call) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/tenantSync", strings.NewReader(c.body))
			r.Header.Set("authToken", c.sig)
			return r
		}},
		{"v1Query", SchemeV1Query, v1Time, sign(func(i int) call {
			return call{query: resignV1Query(b, v1RawQuery, i)}
		}), func(c *call) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?"+c.query, nil)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchGenuine(b, tc.scheme, tc.now, len(tc.calls), func(i int) *http.Request { return tc.req(&tc.calls[i]) })
		})
	}
}

// BenchmarkGenuineMaxSize serves genuine calls with the very bodies (and V1
// queries) BenchmarkForgedMaxSize forges, each signed the way Huawei's demo
// signs (the V2 and kit bodies over their Jackson forms, or their raw bytes
// when they have too many members for any other), so that the
// report sets what a forged call costs beside what the same call costs when
// it is genuine. The seller's code is not run (Serve returns at once): only
// the verifier's work is measured, as for the forged calls. Rounds of 64
// calls get a fresh handler, outside the timer.
func BenchmarkGenuineMaxSize(b *testing.B) {
	const round = 64
	k := NewKey(vecKey)
	type call struct {
		query, nonce, sig string
		body              []byte
	}
	// A body of more members than canonjson.MaxMembers is verified over its
	// raw bytes alone, so a genuine one can only be signed that way.
	jackson := func(body []byte, mode canonjson.Mode) []byte {
		if bytes.Count(body, []byte(`":`)) > canonjson.MaxMembers {
			return body
		}
		out, err := canonjson.AppendJackson(nil, body, mode)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	const members = 1000
	v2Max, kitMax, kitV1Max := int(maxBodyFor(SchemeV2)), int(maxBodyFor(SchemeKit)), int(maxBodyFor(SchemeV1Kit))
	v2 := func(body []byte) (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
		signed := jackson(body, canonjson.BasicForm)
		return SchemeV2, vecTime, func(i int) call {
				n := fmt.Sprintf("%032d", i)
				return call{query: "signature=" + k.SignV2(n, vecTimestamp, signed) + "&timestamp=" + vecTimestamp + "&nonce=" + n, body: body}
			}, func(c *call) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/?"+c.query, bytes.NewReader(c.body))
			}
	}
	kit := func(body []byte) (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
		signed := jackson(body, canonjson.KitForm)
		return SchemeKit, vecTime, func(i int) call {
				n := fmt.Sprintf("%032d", i)
				return call{body: body, nonce: n, sig: k.SignKit(n, vecTimestamp, signed)}
			}, func(c *call) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/produceAPI/v2/tenantSync", bytes.NewReader(c.body))
				r.Header.Set("X-Sign", c.sig)
				r.Header.Set("X-Timestamp", vecTimestamp)
				r.Header.Set("X-Nonce", c.nonce)
				return r
			}
	}
	// V1 has no nonce: each call's body (or query) differs in one member,
	// or the replay guard would answer the second from its record.
	kitV1 := func(mk func(extra string) []byte) (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
		return SchemeV1Kit, v1Time, func(i int) call {
				body := mk(`"timeStamp":"20261127163000123","instanceId":"inst-` + strconv.Itoa(i) + `",`)
				token, err := v1sign.SignKit(vecKey, body)
				if err != nil {
					b.Fatal(err)
				}
				return call{body: body, sig: token}
			}, func(c *call) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/produceAPI/tenantSync", bytes.NewReader(c.body))
				r.Header.Set("authToken", c.sig)
				return r
			}
	}
	v1 := func(params int) (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
		forged := forgedQuery(int(maxBodyFor(SchemeV1Query))-64, params)
		return SchemeV1Query, v1Time, func(i int) call {
				return call{query: resignV1Query(b, forged, i)}
			}, func(c *call) *http.Request {
				return httptest.NewRequest(http.MethodGet, "/?"+c.query, nil)
			}
	}
	for _, tc := range []struct {
		name  string
		setup func() (Scheme, time.Time, func(int) call, func(*call) *http.Request)
	}{
		{"saasV2/keys", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
			return v2(forgedObject(v2Max, `"activity":"newInstance",`))
		}},
		{"saasV2/forms", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
			return v2(forgedForms(v2Max, members, false, `"activity":"newInstance",`))
		}},
		{"kitV2/keys", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
			return kit(forgedObject(kitMax, `"tenantId":"t",`))
		}},
		{"kitV2/forms", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
			return kit(forgedForms(kitMax, members, true, `"tenantId":"t",`))
		}},
		// No kitV1/keys or v1Query/params: a V1 body or query of more than
		// canonjson.MaxMembers members or parameters is refused unread.
		{"kitV1/forms", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) {
			return kitV1(func(extra string) []byte { return forgedForms(kitV1Max, members, false, extra) })
		}},
		{"v1Query/forms", func() (Scheme, time.Time, func(int) call, func(*call) *http.Request) { return v1(1000) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			scheme, now, sign, req := tc.setup()
			calls := make([]call, round)
			for i := range calls {
				calls[i] = sign(i)
			}
			b.SetBytes(int64(len(calls[0].body) + len(calls[0].query)))
			benchGenuine(b, scheme, now, round, func(i int) *http.Request { return req(&calls[i]) })
		})
	}
}

// benchGenuine serves req(0), req(1), ... req(round-1) again and again
// through a handler of scheme whose Serve returns at once, a fresh handler
// per round (outside the timer), checks that each is answered 000000, and
// reports the process's CPU time per call.
func benchGenuine(b *testing.B, scheme Scheme, now time.Time, round int, req func(i int) *http.Request) {
	mk := func() *Handler {
		return NewHandler(vecKey, Config{Scheme: scheme, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)},
			func(context.Context, []byte, *Response) error { return nil })
	}
	h := mk()
	b.ReportAllocs()
	var cpu time.Duration
	i := 0
	start := cpuTime()
	for b.Loop() {
		if i == round {
			b.StopTimer()
			cpu += cpuTime() - start
			h, i = mk(), 0
			start = cpuTime()
			b.StartTimer()
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req(i))
		i++
		if !strings.HasPrefix(rec.Body.String(), `{"resultCode":"000000"`) {
			b.Fatalf("genuine call answered %.200s", rec.Body)
		}
	}
	cpu += cpuTime() - start
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
}

// resignV1Query returns raw with instanceId set to the i-th instance and a
// genuine authToken: a V1 query call of its own (V1 has no nonce).
func resignV1Query(b *testing.B, raw string, i int) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		b.Fatal(err)
	}
	q.Del("authToken")
	q.Set("instanceId", "inst-"+strconv.Itoa(i))
	token, err := v1sign.SignQuery(vecKey, q)
	if err != nil {
		b.Fatal(err)
	}
	q.Set("authToken", token)
	return q.Encode()
}
