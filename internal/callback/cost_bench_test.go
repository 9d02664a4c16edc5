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
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// forgedQuery returns a V1 query of about size bytes with as many
// parameters as fit.
func forgedQuery(size int) string {
	var b strings.Builder
	b.WriteString("timeStamp=20261127083000123&activity=refreshInstance&authToken=ISQPmsWS3la%2F5IRnLdpTh0W9iyazgtByiifep%2FO%2F0vI%3D")
	perm := rand.New(rand.NewPCG(1, 2)).Perm(size / 8)
	for _, i := range perm {
		s := "&p" + strconv.Itoa(i) + "=%2B"
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
	for b.Loop() {
		i++
		h.ServeHTTP(httptest.NewRecorder(), req(i))
	}
}

func BenchmarkForgedMaxSize(b *testing.B) {
	const wrongSig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	b.Run("saasV2", func(b *testing.B) {
		body := forgedObject(int(maxBodyFor(SchemeV2)), `"activity":"newInstance",`)
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeV2, vecTime, func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/?signature="+wrongSig+"&timestamp="+vecTimestamp+"&nonce=n"+strconv.Itoa(i), bytes.NewReader(body))
			return r
		})
	})
	b.Run("kitV2", func(b *testing.B) {
		body := forgedObject(int(maxBodyFor(SchemeKit)), `"tenantId":"t",`)
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeKit, vecTime, func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/v2/tenantSync", bytes.NewReader(body))
			r.Header.Set("X-Sign", wrongSig)
			r.Header.Set("X-Timestamp", vecTimestamp)
			r.Header.Set("X-Nonce", "n"+strconv.Itoa(i))
			return r
		})
	})
	b.Run("kitV1", func(b *testing.B) {
		body := forgedObject(int(maxBodyFor(SchemeV1Kit)), `"timeStamp":"20261127163000123",`)
		b.SetBytes(int64(len(body)))
		benchForged(b, SchemeV1Kit, v1Time, func(int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/produceAPI/tenantSync", bytes.NewReader(body))
			r.Header.Set("authToken", v1KitToken)
			return r
		})
	})
	b.Run("v1Query", func(b *testing.B) {
		q := forgedQuery(int(maxBodyFor(SchemeV1Query)))
		b.SetBytes(int64(len(q)))
		benchForged(b, SchemeV1Query, v1Time, func(int) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?"+q, nil)
		})
	})
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
func maxBodyFor(Scheme) int64 { return DefaultMaxBodyBytes }
