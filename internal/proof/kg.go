package proof

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
)

// attemptTimeout is KooGallery's timeout: an answer that takes longer is a
// failure, and the call is retried.
const attemptTimeout = 5 * time.Second

// schedule is how KooGallery delivers a call until it succeeds: attempts
// in all, every hours apart (《SaaS类商品接入指南 V2.0》 and the V1 guide:
// 创建实例 and 实例升级 for 3 h once an hour, 更新实例 for 2 h, 更新实例状态,
// 商品过期 and 商品资源释放 for 1 h; License 2.0: 60 attempts every 2
// minutes). Where Huawei documents none (queryInstance, releaseInstance of
// V2, orderNotify, and the kit, whose retries the buyer decides), the proof
// allows the shortest documented one, one retry after an hour. The driver
// compresses an hour to Config.Hour.
type schedule struct {
	attempts int
	every    float64 // hours
}

var (
	schedNew     = schedule{4, 1}
	schedRefresh = schedule{3, 1}
	schedHour    = schedule{2, 1}
	schedLicense = schedule{60, 2.0 / 60}
)

// route carries, in a request's context, the replica a call is pinned to
// (-1: the proxy's round robin) and, back, the one that answered.
type route struct {
	pin, replica int
}

type routeKey struct{}

// pinTransport sets headerPin from the request's route and reads
// headerReplica from the answer into it.
type pinTransport struct{ base http.RoundTripper }

func (t pinTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt, _ := r.Context().Value(routeKey{}).(*route)
	if rt != nil && rt.pin >= 0 {
		r = r.Clone(r.Context())
		r.Header.Set(headerPin, strconv.Itoa(rt.pin))
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil && rt != nil {
		if s, perr := strconv.Atoi(resp.Header.Get(headerReplica)); perr == nil {
			rt.replica = s
		}
	}
	return resp, err
}

// answer is the outcome of one attempt.
type answer struct {
	code       string // resultCode; "timeout", "error" (no JSON answer) or "invalid" (V1 answer KooGallery rejects)
	instanceID string
	replica    int // -1: unknown
	err        error
	latency    time.Duration
}

func (a answer) ok() bool { return a.code == "000000" || a.code == "000004" }

// attempt sends one signed call.
type attempt func(ctx context.Context) (code, instanceID string, err error)

func callAttempt(c *koogallerytest.Call) attempt {
	return func(ctx context.Context) (string, string, error) {
		a, err := c.Send(ctx)
		if a == nil {
			return "", "", err
		}
		return a.ResultCode, a.InstanceID, err
	}
}

func v1Attempt(c *koogallerytest.V1Call) attempt {
	return func(ctx context.Context) (string, string, error) {
		a, err := c.Send(ctx)
		if a == nil {
			return "", "", err
		}
		return a.ResultCode, a.InstanceID, err
	}
}

// kg plays KooGallery: it signs, sends, retries as KooGallery does, and
// sends the replays, forgeries and stale calls an attacker would.
type kg struct {
	base      string
	transport *http.Transport
	v2, kit2  *koogallerytest.Sender
	v1, kit1  *koogallerytest.V1Sender
	hour      time.Duration
	replicas  int
	timeout   time.Duration // per attempt: attemptTimeout
	tag       string
	seq       atomic.Uint64
	t         *Tally
	// resend adds, to the kit V2 lifecycle, tenantSync's body delivered
	// again, re-signed: the handler's replay guard answers it without
	// running the seller's code (after a store failure it may run again,
	// which the kit allows, so the faults phase leaves it out).
	resend bool
}

func newKG(base string, replicas int, hour time.Duration, t *Tally) *kg {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 2048,
		IdleConnTimeout:     30 * time.Second,
	}
	client := &http.Client{Transport: pinTransport{tr}}
	opt := koogallerytest.WithHTTPClient(client)
	return &kg{
		base: base, transport: tr, hour: hour, replicas: replicas, t: t, timeout: attemptTimeout,
		v2: koogallerytest.NewSender(accessKey, opt), kit2: koogallerytest.NewSender(kitKey, opt),
		v1: koogallerytest.NewV1Sender(v1Key, opt), kit1: koogallerytest.NewV1Sender(kitKey, opt),
	}
}

func (k *kg) close() { k.transport.CloseIdleConnections() }

// mark returns a new unique ID with prefix.
func (k *kg) mark(prefix string) string {
	return prefix + k.tag + "-" + strconv.FormatUint(k.seq.Add(1), 10)
}

// send sends one attempt.
func (k *kg) send(ctx context.Context, family, kind string, try attempt, pin int) answer {
	rt := &route{pin: pin, replica: -1}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, routeKey{}, rt), k.timeout)
	start := time.Now()
	code, id, err := try(actx)
	lat := time.Since(start)
	cancel()
	a := answer{code: code, instanceID: id, replica: rt.replica, err: err, latency: lat}
	switch {
	case err != nil && code != "":
		a.code = "invalid" // a Body-Sign or appInfo KooGallery rejects
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		a.code = "timeout"
	case err != nil:
		a.code = "error"
	}
	k.t.record(family, kind, a)
	return a
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver delivers a genuine call as KooGallery does: build signs it anew
// for every attempt (a fresh nonce and timestamp), and a failure (any code
// but 000000 and 000004, a non-JSON answer, a timeout) is retried on
// schedule, on another replica than the one that failed.
func (k *kg) deliver(ctx context.Context, family, activity string, sched schedule, pin int, build func() (attempt, error)) answer {
	return k.deliverFirst(ctx, family, activity, sched, pin, build, nil)
}

// deliverFirst is deliver, which also sets *first (if not nil) to the
// first attempt's answer.
func (k *kg) deliverFirst(ctx context.Context, family, activity string, sched schedule, pin int, build func() (attempt, error), first *answer) answer {
	k.t.genuine()
	prev := -1
	var last answer
	var history []string // code@time of each attempt, for the report
	for i := range sched.attempts {
		if i > 0 {
			if !sleepCtx(ctx, time.Duration(sched.every*float64(k.hour))) {
				break
			}
			pin = -1
			if prev >= 0 {
				pin = (prev + 1) % k.replicas
			}
		}
		try, err := build()
		if err != nil {
			last = answer{code: "error", err: err, replica: -1}
			break
		}
		a := k.send(ctx, family, "genuine", try, pin)
		if i == 0 && first != nil {
			*first = a
		}
		history = append(history, fmt.Sprintf("%s@%s+%.1fs", a.code, time.Now().Add(-a.latency).Format("15:04:05.0"), a.latency.Seconds()))
		if i > 0 {
			k.t.retry(prev, a.replica)
		}
		if a.ok() {
			k.t.answered()
			return a
		}
		if a.code == "000001" || a.code == "000002" {
			k.t.problem(&k.t.refusedGenuine, fmt.Sprintf("%s %s attempt %d answered %s", family, activity, i+1, a.code))
		}
		if a.replica >= 0 {
			prev = a.replica
		}
		last = a
	}
	k.t.problem(&k.t.unanswered, fmt.Sprintf("%s %s: %d attempts (%s), last error %v", family, activity, sched.attempts,
		strings.Join(history, ", "), last.err))
	return last
}

// dup delivers a call twice at once, as KooGallery re-sending it (or the
// buyer opening the console) while the first is still running, on two
// different replicas. Both must succeed with one instance ID.
func (k *kg) dup(ctx context.Context, family, activity string, sched schedule, build func() (attempt, error)) answer {
	first := rand.IntN(k.replicas)
	var a, b answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = k.deliver(ctx, family, activity, sched, first, build) }()
	go func() { defer wg.Done(); b = k.deliver(ctx, family, activity, sched, (first+1)%k.replicas, build) }()
	wg.Wait()
	k.t.dup(a.replica, b.replica)
	if a.ok() && b.ok() && a.instanceID != b.instanceID {
		k.t.problem(&k.t.mismatch, fmt.Sprintf("%s %s: duplicates answered %q and %q", family, activity, a.instanceID, b.instanceID))
	}
	if !a.ok() {
		return b
	}
	return a
}

// replay sends an accepted call again, unchanged, to another replica.
// kind is "replay" for the V2-scheme families, which must refuse it
// (000001), or "replay-v1" for the V1 ones, which answer it from their
// replay guard without running the seller's code again (checked on the
// ledger).
func (k *kg) replay(ctx context.Context, family, kind string, try attempt, servedBy int) {
	pin := -1
	if servedBy >= 0 {
		pin = (servedBy + 1) % k.replicas
	}
	k.send(ctx, family, kind, try, pin)
}

// attack sends a forged, tampered or stale call once; it must be refused
// with 000001.
func (k *kg) attack(ctx context.Context, family, kind string, try attempt, err error) {
	if err != nil {
		k.t.problem(&k.t.unanswered, fmt.Sprintf("%s %s: cannot sign: %v", family, kind, err))
		return
	}
	k.send(ctx, family, kind, try, -1)
}

var gmt8 = time.FixedZone("GMT+8", 8*60*60)

// kitStamp is a kit body's timeStamp: now in GMT+8, yyyyMMddHHmmssSSS.
func kitStamp() string {
	return strings.Replace(time.Now().In(gmt8).Format("20060102150405.000"), ".", "", 1)
}

// Paths on the proxy, as configured for the product.
const (
	pathV2      = "/isv/produce"
	pathV1      = "/isv/v1"
	pathKit     = "/isv/produce/produceAPI/"
	pathKitV2   = "/isv/produce/produceAPI/v2/"
	pathLicense = "/isv/license"
	pathOrder   = "/isv/order"
)

// families, in the order lifecycles take them.
var families = []string{"saas.v2", "saas.v1", "kit.v2", "kit.v1", "license", "order"}
