package proof

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/isvkit/koogallery/koogallerytest"
)

// The lifecycles KooGallery plays against the replicas, one per family.

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
