package proof

import (
	"context"
	"encoding/json"
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

// lifecycle runs the lifecycle of one customer of family i%6.
func (k *kg) lifecycle(ctx context.Context, i int) {
	switch i % len(families) {
	case 0:
		k.lifeV2(ctx, i)
	case 1:
		k.lifeV1(ctx, i)
	case 2:
		k.lifeKitV2(ctx, i)
	case 3:
		k.lifeKitV1(ctx, i)
	case 4:
		k.lifeLicense(ctx, i)
	case 5:
		k.lifeOrder(ctx, i)
	}
}

func (k *kg) signV2(body map[string]string, opts ...koogallerytest.CallOption) func() (attempt, error) {
	return func() (attempt, error) {
		c, err := k.v2.Sign(k.base+pathV2, body, opts...)
		if err != nil {
			return nil, err
		}
		return callAttempt(c), nil
	}
}

// SaaS V2: newInstance twice at once (every fourth order provisions
// asynchronously), queryInstance, refreshInstance, a freeze and its
// replay, unfreeze, upgradeInstance twice at once, a forged, a stale and a
// tampered call, releaseInstance.
func (k *kg) lifeV2(ctx context.Context, i int) {
	const f = "saas.v2"
	o := fmt.Sprintf("O%s-%d", k.tag, i)
	if i%4 == 0 {
		o = prefixAsync + o
	}
	line := o + "-000001"
	a := k.dup(ctx, f, "newInstance", schedNew, func() (attempt, error) {
		return k.signV2(map[string]string{"activity": "newInstance", "orderId": o, "orderLineId": line,
			"businessId": k.mark("B"), "testFlag": "0"})()
	})
	id := a.instanceID
	if !a.ok() || id == "" {
		return
	}
	k.deliver(ctx, f, "queryInstance", schedHour, -1, k.signV2(map[string]string{"activity": "queryInstance", "instanceId": id}))
	k.deliver(ctx, f, "refreshInstance", schedRefresh, -1, func() (attempt, error) {
		return k.signV2(map[string]string{"activity": "refreshInstance", "scene": "RENEWAL", "orderId": o + "-R",
			"orderLineId": k.mark("RL"), "instanceId": id, "expireTime": "20301231235959"})()
	})
	var frozen *koogallerytest.Call
	r := k.deliver(ctx, f, "updateInstanceStatus", schedHour, -1, func() (attempt, error) {
		c, err := k.v2.Sign(k.base+pathV2, map[string]string{"activity": "updateInstanceStatus", "instanceId": id, "status": "FREEZE"})
		frozen = c
		return callAttempt(c), err
	})
	if r.ok() {
		k.replay(ctx, f, "replay", callAttempt(frozen), r.replica)
	}
	k.deliver(ctx, f, "updateInstanceStatus", schedHour, -1, k.signV2(map[string]string{"activity": "updateInstanceStatus", "instanceId": id, "status": "UNFREEZE"}))
	k.dup(ctx, f, "upgradeInstance", schedNew, k.signV2(map[string]string{"activity": "upgradeInstance", "instanceId": id,
		"orderId": o + "-U", "orderLineId": o + "-U-000001"}))

	c, err := k.v2.Sign(k.base+pathV2, map[string]string{"activity": "newInstance", "orderId": k.mark(prefixForged),
		"orderLineId": "L", "businessId": k.mark(prefixForged)}, koogallerytest.ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", callAttempt(c), err)
	c, err = k.v2.Sign(k.base+pathV2, map[string]string{"activity": "updateInstanceStatus", "instanceId": k.mark(prefixForged),
		"status": "FREEZE"}, koogallerytest.Stale())
	k.attack(ctx, f, "stale", callAttempt(c), err)
	c, err = k.v2.Sign(k.base+pathV2, map[string]string{"activity": "refreshInstance", "scene": "RENEWAL", "orderId": k.mark(prefixForged),
		"orderLineId": "L", "instanceId": id, "expireTime": "20301231235959"}, koogallerytest.Tampered())
	k.attack(ctx, f, "forged", callAttempt(c), err)

	k.deliver(ctx, f, "releaseInstance", schedHour, -1, func() (attempt, error) {
		return k.signV2(map[string]string{"activity": "releaseInstance", "instanceId": id, "orderId": o + "-X", "orderLineId": k.mark("XL")})()
	})
}

func (k *kg) signV1(params map[string]string, opts ...koogallerytest.V1CallOption) (*koogallerytest.V1Call, error) {
	p := make(map[string]string, len(params)+1)
	for n, v := range params {
		p[n] = v
	}
	if p[paramProofCall] == "" {
		p[paramProofCall] = k.mark("C")
	}
	return k.v1.Sign(k.base+pathV1, p, opts...)
}

func (k *kg) buildV1(params func() map[string]string) func() (attempt, error) {
	return func() (attempt, error) {
		c, err := k.signV1(params())
		if err != nil {
			return nil, err
		}
		return v1Attempt(c), nil
	}
}

// SaaS V1: newInstance twice at once, queryInstance, refreshInstance, a
// freeze and its replay, unfreeze, upgrade twice at once, a forged, a
// stale and a tampered call, expireInstance, releaseInstance.
func (k *kg) lifeV1(ctx context.Context, i int) {
	const f = "saas.v1"
	o := fmt.Sprintf("V%s-%d", k.tag, i)
	a := k.dup(ctx, f, "newInstance", schedNew, k.buildV1(func() map[string]string {
		return map[string]string{"activity": "newInstance", "orderId": o, "businessId": k.mark("B"), "customerId": "cust-" + o,
			"customerName": "buyer", "skuCode": "sku-1", "productId": "prod-month", "chargingMode": "1",
			"periodType": "month", "periodNumber": "1", "testFlag": "0"}
	}))
	id := a.instanceID
	if !a.ok() || id == "" {
		return
	}
	fixed := func(p map[string]string) func() map[string]string { return func() map[string]string { return p } }
	k.deliver(ctx, f, "queryInstance", schedHour, -1, k.buildV1(fixed(map[string]string{"activity": "queryInstance", "instanceId": id})))
	k.deliver(ctx, f, "refreshInstance", schedRefresh, -1, k.buildV1(fixed(map[string]string{"activity": "refreshInstance",
		"orderId": o + "-R", "instanceId": id, "expireTime": "20301231235959", "periodType": "month", "periodNumber": "1"})))
	var frozen *koogallerytest.V1Call
	r := k.deliver(ctx, f, "instanceStatus", schedHour, -1, func() (attempt, error) {
		c, err := k.signV1(map[string]string{"activity": "instanceStatus", "instanceId": id, "instanceStatus": "FREEZE"})
		frozen = c
		return v1Attempt(c), err
	})
	if r.ok() {
		k.replay(ctx, f, "replay-v1", v1Attempt(frozen), r.replica)
	}
	k.deliver(ctx, f, "instanceStatus", schedHour, -1, k.buildV1(fixed(map[string]string{"activity": "instanceStatus", "instanceId": id, "instanceStatus": "NORMAL"})))
	k.dup(ctx, f, "upgrade", schedNew, k.buildV1(fixed(map[string]string{"activity": "upgrade", "instanceId": id,
		"orderId": o + "-U", "skuCode": "sku-2", "productId": "prod-month"})))

	c, err := k.signV1(map[string]string{"activity": "newInstance", "orderId": k.mark(prefixForged), "businessId": k.mark(prefixForged)},
		koogallerytest.V1ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", v1Attempt(c), err)
	c, err = k.signV1(map[string]string{"activity": "expireInstance", "instanceId": k.mark(prefixForged)}, koogallerytest.V1Stale())
	k.attack(ctx, f, "stale", v1Attempt(c), err)
	c, err = k.signV1(map[string]string{"activity": "releaseInstance", "instanceId": k.mark(prefixForged)}, koogallerytest.V1Tampered())
	k.attack(ctx, f, "forged", v1Attempt(c), err)

	k.deliver(ctx, f, "expireInstance", schedHour, -1, k.buildV1(fixed(map[string]string{"activity": "expireInstance", "instanceId": id, "orderId": o})))
	k.deliver(ctx, f, "releaseInstance", schedHour, -1, k.buildV1(fixed(map[string]string{"activity": "releaseInstance", "instanceId": id, "orderId": o})))
}

// kitBodies returns the five kit interfaces' bodies for tenant t, V1 or
// V2 (V1 sends userList and orgInfo as JSON text, V2 as arrays).
func kitBodies(t string, v1 bool) [][2]any {
	users := []map[string]any{
		{"userName": t + "-admin", "name": "Admin", "orgCode": "root", "role": "admin", "enable": "true"},
		{"userName": t + "-u1", "name": "User One", "orgCode": "dev", "role": "user", "enable": "true"},
		{"userName": t + "-u2", "name": "User Two", "orgCode": "dev", "role": "user", "enable": "false"},
	}
	orgs := []map[string]any{{"orgCode": "root", "orgName": "Root"}, {"orgCode": "dev", "orgName": "Dev", "parentCode": "root"}}
	var userList, orgInfo any = users, orgs
	orgMember := "orgInfoList"
	if v1 {
		u, _ := json.Marshal(users)
		for _, o := range orgs {
			o["name"] = o["orgName"]
			delete(o, "orgName")
		}
		g, _ := json.Marshal(orgs)
		userList, orgInfo, orgMember = string(u), string(g), "orgInfo"
	}
	return [][2]any{
		{"tenantSync", map[string]any{"instanceId": "I-" + t, "orderId": "O-" + t, "tenantId": t, "tenantCode": "code-" + t,
			"name": "Tenant " + t, "domainName": t + ".example.com", "flag": 1, "testFlag": 0}},
		{"applicationSync", map[string]any{"instanceId": "I-" + t, "tenantId": t, "appId": "app-1", "clientId": "client-" + t,
			"clientSecret": "c2VjcmV0", "flag": 1, "testFlag": 0}},
		{"authSync", map[string]any{"instanceId": "I-" + t, "tenantId": t, "appId": "app-1", "userList": userList,
			"currentSyncTime": "20261127163000000", "flag": 1, "testFlag": 0}},
		{"singleOrgSync", map[string]any{"instanceId": "I-" + t, "tenantId": t, "orgCode": "ops", "orgName": "Ops",
			"parentCode": "root", "flag": 1, "testFlag": 0}},
		{"allOrgSync", map[string]any{"instanceId": "I-" + t, "tenantId": t, orgMember: orgInfo, "testFlag": 0}},
	}
}

// withMarker returns body with a new proofCall member (and, for V2, a
// fresh timeStamp).
func (k *kg) withMarker(body any, v2 bool) map[string]any {
	b := make(map[string]any)
	for n, v := range body.(map[string]any) {
		b[n] = v
	}
	b[paramProofCall] = k.mark("K")
	if v2 {
		b["timeStamp"] = kitStamp()
	}
	return b
}

// Kit V2: the five interfaces, tenantSync's body delivered again (KooGallery
// re-sending an identical body, re-signed), a replay, a forged and a stale
// call.
func (k *kg) lifeKitV2(ctx context.Context, i int) {
	const f = "kit.v2"
	t := fmt.Sprintf("T%s-%d", k.tag, i)
	for j, nb := range kitBodies(t, false) {
		name, body := nb[0].(string), nb[1]
		var signed *koogallerytest.Call
		var sent map[string]any
		r := k.deliver(ctx, f, name, schedHour, -1, func() (attempt, error) {
			sent = k.withMarker(body, true)
			c, err := k.kit2.SignKit(k.base+pathKitV2+name, sent)
			signed = c
			return callAttempt(c), err
		})
		if j == 0 && r.ok() {
			k.replay(ctx, f, "replay", callAttempt(signed), r.replica)
		}
		if j == 0 && r.ok() && k.resend {
			k.deliver(ctx, f, name+" identical re-send", schedHour, (max(r.replica, 0)+1)%k.replicas, func() (attempt, error) {
				c, err := k.kit2.SignKit(k.base+pathKitV2+name, sent)
				return callAttempt(c), err
			})
		}
	}
	c, err := k.kit2.SignKit(k.base+pathKitV2+"tenantSync", map[string]any{"tenantId": k.mark(prefixForged), "tenantCode": "c",
		"name": "n", "domainName": "d", "flag": 0}, koogallerytest.ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", callAttempt(c), err)
	c, err = k.kit2.SignKit(k.base+pathKitV2+"singleOrgSync", map[string]any{"tenantId": k.mark(prefixForged), "orgCode": "o",
		"orgName": "O", "flag": 0}, koogallerytest.Stale())
	k.attack(ctx, f, "stale", callAttempt(c), err)
}

// Kit V1: the five interfaces, a replay of tenantSync, a forged and a
// stale call.
func (k *kg) lifeKitV1(ctx context.Context, i int) {
	const f = "kit.v1"
	t := fmt.Sprintf("U%s-%d", k.tag, i)
	for j, nb := range kitBodies(t, true) {
		name, body := nb[0].(string), nb[1]
		var signed *koogallerytest.V1Call
		r := k.deliver(ctx, f, name, schedHour, -1, func() (attempt, error) {
			c, err := k.kit1.SignKit(k.base+pathKit+name, k.withMarker(body, false))
			signed = c
			return v1Attempt(c), err
		})
		if j == 0 && r.ok() {
			k.replay(ctx, f, "replay-v1", v1Attempt(signed), r.replica)
		}
	}
	c, err := k.kit1.SignKit(k.base+pathKit+"tenantSync", map[string]any{"tenantId": k.mark(prefixForged), "tenantCode": "c",
		"name": "n", "domainName": "d", "flag": 0}, koogallerytest.V1ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", v1Attempt(c), err)
	c, err = k.kit1.SignKit(k.base+pathKit+"singleOrgSync", map[string]any{"tenantId": k.mark(prefixForged), "orgCode": "o",
		"orgName": "O", "flag": 0}, koogallerytest.V1Stale())
	k.attack(ctx, f, "stale", v1Attempt(c), err)
}

func (k *kg) signLicense(body func() map[string]string) func() (attempt, error) {
	return func() (attempt, error) {
		c, err := k.v2.Sign(k.base+pathLicense, body())
		if err != nil {
			return nil, err
		}
		return callAttempt(c), nil
	}
}

// License 2.0: refreshLicenseCode, a freeze and its replay, unfreeze,
// releaseLicenseCode, a forged and a stale call.
func (k *kg) lifeLicense(ctx context.Context, i int) {
	const f = "license"
	code := fmt.Sprintf("LIC%s-%d", k.tag, i)
	k.deliver(ctx, f, "refreshLicenseCode", schedLicense, -1, k.signLicense(func() map[string]string {
		return map[string]string{"activity": "refreshLicenseCode", "scene": "RENEWAL", "license": code, "orderId": "O-" + code,
			"orderLineId": k.mark("LL"), "expireTime": "20301231235959", "testFlag": "0"}
	}))
	var frozen *koogallerytest.Call
	r := k.deliver(ctx, f, "updateLicenseCodeStatus", schedLicense, -1, func() (attempt, error) {
		c, err := k.v2.Sign(k.base+pathLicense, map[string]string{"activity": "updateLicenseCodeStatus", "license": code, "status": "FREEZE"})
		frozen = c
		return callAttempt(c), err
	})
	if r.ok() {
		k.replay(ctx, f, "replay", callAttempt(frozen), r.replica)
	}
	k.deliver(ctx, f, "updateLicenseCodeStatus", schedLicense, -1, k.signLicense(func() map[string]string {
		return map[string]string{"activity": "updateLicenseCodeStatus", "license": code, "status": "UNFREEZE"}
	}))
	k.deliver(ctx, f, "releaseLicenseCode", schedLicense, -1, k.signLicense(func() map[string]string {
		return map[string]string{"activity": "releaseLicenseCode", "license": code, "orderLineId": k.mark("LX")}
	}))
	c, err := k.v2.Sign(k.base+pathLicense, map[string]string{"activity": "releaseLicenseCode", "license": k.mark(prefixForged)},
		koogallerytest.ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", callAttempt(c), err)
	c, err = k.v2.Sign(k.base+pathLicense, map[string]string{"activity": "updateLicenseCodeStatus", "license": k.mark(prefixForged),
		"status": "FREEZE"}, koogallerytest.Stale())
	k.attack(ctx, f, "stale", callAttempt(c), err)
}

// orderNotify: the notification twice at once, a replay, a forged call.
func (k *kg) lifeOrder(ctx context.Context, i int) {
	const f = "order"
	o := fmt.Sprintf("N%s-%d", k.tag, i)
	body := map[string]string{"activity": "orderNotify", "orderId": o, "orderLineId": o + "-000001", "testFlag": "0"}
	var signed *koogallerytest.Call
	var mu sync.Mutex
	r := k.dup(ctx, f, "orderNotify", schedHour, func() (attempt, error) {
		c, err := k.v2.Sign(k.base+pathOrder, body)
		mu.Lock()
		signed = c
		mu.Unlock()
		return callAttempt(c), err
	})
	if r.ok() {
		mu.Lock()
		c := signed
		mu.Unlock()
		k.replay(ctx, f, "replay", callAttempt(c), r.replica)
	}
	c, err := k.v2.Sign(k.base+pathOrder, map[string]string{"activity": "orderNotify", "orderId": k.mark(prefixForged),
		"orderLineId": "L", "testFlag": "0"}, koogallerytest.ForgedKey("not-the-key"))
	k.attack(ctx, f, "forged", callAttempt(c), err)
}

func (k *kg) newInstance(o, line, businessID string) func() (attempt, error) {
	return func() (attempt, error) {
		b := businessID
		if b == "" {
			b = k.mark("B")
		}
		return k.signV2(map[string]string{"activity": "newInstance", "orderId": o, "orderLineId": line, "businessId": b, "testFlag": "0"})()
	}
}

// storm sends n newInstance for one order line at once, each signed anew
// (KooGallery's businessId differs on every call), through the round
// robin; every one must end with the one instance.
func (k *kg) storm(ctx context.Context, j, n int) (ids map[string]int) {
	o := fmt.Sprintf("S%s-%d", k.tag, j)
	line := o + "-000001"
	start := make(chan struct{})
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = k.deliver(ctx, "saas.v2", "newInstance (storm)", schedNew, -1, k.signV2(map[string]string{"activity": "newInstance",
				"orderId": o, "orderLineId": line, "businessId": k.mark("B"), "testFlag": "0"}))
		}()
	}
	close(start)
	wg.Wait()
	ids = map[string]int{}
	for _, a := range answers {
		if a.ok() {
			ids[a.instanceID]++
		}
	}
	if len(ids) > 1 {
		k.t.problem(&k.t.mismatch, fmt.Sprintf("storm %s: %d instance IDs", line, len(ids)))
	}
	return ids
}
