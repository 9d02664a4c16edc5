package probe

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// prober runs one family's checks in order.
type prober struct {
	t      *exchange.Target
	ctx    context.Context
	now    func() time.Time
	id     *family.IDs
	skip   map[string]bool
	dups   int
	checks []exchange.Check
}

func (p *prober) add(c exchange.Check) { p.checks = append(p.checks, c) }

// send signs and sends one call; a call that cannot even be signed (which
// only a bad field can cause) is reported as its answer's error.
func (p *prober) send(activity string, m map[string]any, md exchange.Mode) *exchange.Exchange {
	c, err := p.t.Prepare(activity, m, nil, md)
	if err != nil {
		return &exchange.Exchange{Activity: activity, Err: err}
	}
	return c.Send(p.ctx)
}

func (p *prober) fields(activity string) map[string]any {
	m := family.Fields(p.t.Fam, activity, p.id, p.now())
	if activity == "applicationSync" {
		m["clientSecret"] = p.t.EncryptSecret("kgctl-client-secret")
	}
	return m
}

func (p *prober) skipped(name, activity string) bool {
	if p.skip[activity] {
		p.add(exchange.Check{Name: name, Activity: activity, Skipped: true, Pass: true, Reason: "--skip " + activity})
		return true
	}
	return false
}

// expect sends m and checks the answer is one of want.
func (p *prober) expect(name, activity string, m map[string]any, want []string, hint string) *exchange.Exchange {
	if p.skipped(name, activity) {
		return nil
	}
	x := p.send(activity, m, exchange.Genuine)
	c := exchange.Result(p.t, name, x, want, hint)
	if !c.Pass && activity == "applicationSync" && x.ResultCode == "000002" && p.t.KitPublicKey == nil {
		c.Hint = "a handler holding the kit private key refuses a clientSecret it cannot decrypt: pass --kit-public-key with the public key uploaded at 应用凭证申请"
	}
	p.add(c)
	return x
}

var ok = []string{"000000"}

const hintTestFlag = "answer testFlag=1 calls with 000000 quickly, without touching real data: KooGallery's probing and the console's interface debugging send them"

func (p *prober) run() {
	switch p.t.Fam.Name {
	case "saas":
		p.runSaaS()
	case "saas-v1":
		p.runSaaSV1()
	case "kit", "kit-v1":
		p.runKit()
	case "license":
		p.runLicense()
	case "order":
		p.runOrder()
	}
}

// newInstance checks the provisioning call and everything KooGallery does
// with it in production: retries, duplicates, concurrent duplicates.
func (p *prober) newInstance(v1 bool) {
	want := []string{"000000", "000004"}
	key, hintKey := "(orderId, orderLineId)", "saas.NewHandler does it with its Store"
	if v1 {
		want = ok
		key, hintKey = "orderId (per-use: orderId and productId)", "saas.NewV1Handler does it with its Store"
	}
	if p.skipped("newInstance", "newInstance") {
		return
	}
	m := p.fields("newInstance")
	x := p.send("newInstance", m, exchange.Genuine)
	c := exchange.Result(p.t, "newInstance", x, want, hintTestFlag)
	if c.Pass {
		if pr := exchange.InstanceIDProblem(x); pr != nil {
			c.Pass, c.Reason, c.Hint = false, pr.Reason, pr.Hint
		}
	}
	p.add(c)
	if !c.Pass {
		return // the checks below need an instance
	}
	first := x.InstanceID
	p.id.InstanceID = first
	hintSame := "KooGallery re-sends newInstance for three hours and whenever the buyer opens the console: answer the same instanceId for the same " + key + ", never key on businessId (" + hintKey + ")"

	retry := maps.Clone(m)
	retry["businessId"] = family.BusinessID()
	p.sameInstance("newInstance retry (new businessId)", p.send("newInstance", retry, exchange.Genuine), first, want, hintSame)
	p.sameInstance("newInstance duplicate (same body, signed again)", p.send("newInstance", m, exchange.Genuine), first, want, hintSame)

	p.concurrentNewInstance(want, hintKey)
}

// concurrentNewInstance sends concurrent duplicates of a new order line's
// newInstance: all must get the same instance.
func (p *prober) concurrentNewInstance(want []string, hintKey string) {
	other := *p.id
	other.OrderID += "C"
	other.OrderLineID = other.OrderID + "-000001"
	cm := family.Fields(p.t.Fam, "newInstance", &other, p.now())
	xs, _ := exchange.SendAll(p.ctx, p.dups, func() (*exchange.Prepared, error) {
		d := maps.Clone(cm)
		d["businessId"] = family.BusinessID()
		return p.t.Prepare("newInstance", d, nil, exchange.Genuine)
	})
	name := fmt.Sprintf("newInstance ×%d concurrent (one new order)", p.dups)
	cc := exchange.Check{Name: name, Activity: "newInstance", Pass: true}
	ids := map[string]bool{}
	for _, x := range xs {
		r := exchange.Result(p.t, name, x, want, hintTestFlag)
		cc.DurationMS = max(cc.DurationMS, r.DurationMS)
		cc.ResultCode = r.ResultCode
		if !r.Pass {
			cc.Pass, cc.Reason, cc.Hint = false, r.Reason, r.Hint
			break
		}
		ids[x.InstanceID] = true
	}
	if cc.Pass && len(ids) != 1 {
		cc.Pass = false
		cc.Reason = fmt.Sprintf("%d concurrent duplicates got %d different instanceIds", p.dups, len(ids))
		cc.Hint = "claim the order atomically before provisioning, so that concurrent duplicates wait for the first call and get its instanceId (" + hintKey + ")"
	}
	p.add(cc)
}

func (p *prober) sameInstance(name string, x *exchange.Exchange, first string, want []string, hint string) {
	c := exchange.Result(p.t, name, x, want, hintTestFlag)
	if c.Pass && x.InstanceID != first {
		c.Pass = false
		c.Reason = fmt.Sprintf("instanceId %q, but the first call got %q", x.InstanceID, first)
		c.Hint = hint
	}
	p.add(c)
}

func (p *prober) queryInstance() {
	if p.skipped("queryInstance", "queryInstance") {
		return
	}
	x := p.send("queryInstance", p.fields("queryInstance"), exchange.Genuine)
	c := exchange.Result(p.t, "queryInstance", x, ok, hintTestFlag)
	if c.Pass {
		found := false
		for _, id := range x.Info {
			found = found || id == p.id.InstanceID
		}
		if !found {
			c.Pass = false
			c.Reason = fmt.Sprintf("the answer's info does not list instance %q", p.id.InstanceID)
			c.Hint = `answer "info":[{"instanceId":"…","appInfo":{…}}] for every instance asked for`
		}
	}
	p.add(c)
}

// security sends the calls a handler must refuse, as activity with m.
func (p *prober) security(activity string, m func() map[string]any) {
	for _, md := range []exchange.Mode{exchange.Forged, exchange.Stale, exchange.Tampered, exchange.Unsigned} {
		name := md.String() + " call refused"
		if p.skipped(name, activity) {
			continue
		}
		x := p.send(activity, m(), md)
		p.add(exchange.Result(p.t, name, x, []string{"000001"}, exchange.RefusalHint(md)))
	}
	name := "replayed call refused"
	if p.t.Fam.Scheme.V1() {
		p.add(exchange.Check{Name: name, Activity: activity, Skipped: true, Pass: true,
			Reason: "V1 has no nonce: an identical re-send is KooGallery's own retry (stale calls are checked above)"})
		return
	}
	if p.skipped(name, activity) {
		return
	}
	c, err := p.t.Prepare(activity, m(), nil, exchange.Genuine)
	if err != nil {
		p.add(exchange.Check{Name: name, Activity: activity, Reason: err.Error()})
		return
	}
	first := c.Send(p.ctx)
	if r := exchange.Result(p.t, name, first, ok, hintTestFlag); !r.Pass {
		r.Reason = "the genuine call before the replay failed: " + r.Reason
		p.add(r)
		return
	}
	p.add(exchange.Result(p.t, name, c.Send(p.ctx), []string{"000001"}, exchange.HintReplay))
}

func (p *prober) withField(activity, k string, v any) map[string]any {
	m := p.fields(activity)
	m[k] = v
	return m
}

func (p *prober) runSaaS() {
	p.newInstance(false)
	p.queryInstance()
	p.expect("refreshInstance", "refreshInstance", p.fields("refreshInstance"), ok, hintTestFlag)
	p.expect("updateInstanceStatus FREEZE", "updateInstanceStatus", p.withField("updateInstanceStatus", "status", "FREEZE"), ok, hintTestFlag)
	p.expect("updateInstanceStatus UNFREEZE", "updateInstanceStatus", p.withField("updateInstanceStatus", "status", "UNFREEZE"), ok, hintTestFlag)
	p.expect("upgradeInstance", "upgradeInstance", p.fields("upgradeInstance"), ok, hintTestFlag)
	p.security("queryInstance", func() map[string]any { return p.fields("queryInstance") })
	p.expect("releaseInstance", "releaseInstance", p.fields("releaseInstance"), ok, hintTestFlag)
	p.expect("releaseInstance again (already released)", "releaseInstance", p.fields("releaseInstance"), ok, "releaseInstance must succeed when the instance is already gone")
}

func (p *prober) runSaaSV1() {
	p.newInstance(true)
	p.queryInstance()
	p.expect("refreshInstance", "refreshInstance", p.fields("refreshInstance"), ok, hintTestFlag)
	p.expect("expireInstance", "expireInstance", p.fields("expireInstance"), ok, hintTestFlag)
	p.expect("instanceStatus FREEZE", "instanceStatus", p.withField("instanceStatus", "instanceStatus", "FREEZE"), ok, hintTestFlag)
	p.expect("instanceStatus NORMAL", "instanceStatus", p.withField("instanceStatus", "instanceStatus", "NORMAL"), ok, hintTestFlag)
	p.expect("upgrade", "upgrade", p.fields("upgrade"), ok, hintTestFlag)
	p.security("queryInstance", func() map[string]any { return p.fields("queryInstance") })
	p.expect("releaseInstance", "releaseInstance", p.fields("releaseInstance"), ok, hintTestFlag)
	p.expect("releaseInstance again (already released)", "releaseInstance", p.fields("releaseInstance"), ok, "releaseInstance must succeed when the instance is already gone")
}

const hintIdempotent = "kit calls must be idempotent: a repeated add succeeds without creating duplicates (upsert on the natural key), a repeated delete succeeds when the record is already gone"

func (p *prober) runKit() {
	for _, a := range family.KitInterfaces {
		p.expect(a+" add", a, p.fields(a), ok, hintTestFlag)
	}
	p.expect("tenantSync add again (a new delivery)", "tenantSync", p.fields("tenantSync"), ok, hintIdempotent)
	p.expect("singleOrgSync modify", "singleOrgSync", p.withField("singleOrgSync", "flag", 2), ok, hintTestFlag)
	p.concurrent("tenantSync", func() map[string]any { return p.fields("tenantSync") }, hintIdempotent)
	p.security("tenantSync", func() map[string]any { return p.fields("tenantSync") })
	for _, a := range []string{"authSync", "singleOrgSync", "applicationSync", "tenantSync"} {
		p.expect(a+" delete", a, p.withField(a, "flag", 0), ok, hintTestFlag)
	}
	p.expect("tenantSync delete again (already deleted)", "tenantSync", p.withField("tenantSync", "flag", 0), ok, hintIdempotent)
}

func (p *prober) runLicense() {
	p.expect("refreshLicenseCode", "refreshLicenseCode", p.fields("refreshLicenseCode"), ok, hintTestFlag)
	p.expect("refreshLicenseCode again (a re-send)", "refreshLicenseCode", p.fields("refreshLicenseCode"), ok, "KooGallery re-sends every 2 minutes for 2 hours after a failure: a repeated call must succeed")
	p.expect("updateLicenseCodeStatus FREEZE", "updateLicenseCodeStatus", p.withField("updateLicenseCodeStatus", "status", "FREEZE"), ok, hintTestFlag)
	p.expect("updateLicenseCodeStatus UNFREEZE", "updateLicenseCodeStatus", p.withField("updateLicenseCodeStatus", "status", "UNFREEZE"), ok, hintTestFlag)
	p.concurrent("refreshLicenseCode", func() map[string]any { return p.fields("refreshLicenseCode") }, "concurrent re-sends must all succeed")
	p.security("updateLicenseCodeStatus", func() map[string]any { return p.withField("updateLicenseCodeStatus", "status", "UNFREEZE") })
	p.expect("releaseLicenseCode", "releaseLicenseCode", p.fields("releaseLicenseCode"), ok, hintTestFlag)
	p.expect("releaseLicenseCode again (already released)", "releaseLicenseCode", p.fields("releaseLicenseCode"), ok, "releaseLicenseCode must succeed when the code is already released")
}

func (p *prober) runOrder() {
	// The documented mock order, so that a handler that queries the order
	// gets one from the real open API too.
	p.id.OrderID, p.id.OrderLineID = "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001"
	p.expect("orderNotify", "orderNotify", p.fields("orderNotify"), ok, hintTestFlag)
	p.expect("orderNotify again (a re-send)", "orderNotify", p.fields("orderNotify"), ok, "a re-sent notification must succeed again")
	p.concurrent("orderNotify", func() map[string]any { return p.fields("orderNotify") }, "concurrent re-sends must all succeed")
	p.security("orderNotify", func() map[string]any { return p.fields("orderNotify") })
}

// concurrent sends p.dups copies of a call at once; all must succeed.
func (p *prober) concurrent(activity string, m func() map[string]any, hint string) {
	name := fmt.Sprintf("%s ×%d concurrent", activity, p.dups)
	if p.skipped(name, activity) {
		return
	}
	xs, err := exchange.SendAll(p.ctx, p.dups, func() (*exchange.Prepared, error) { return p.t.Prepare(activity, m(), nil, exchange.Genuine) })
	if err != nil {
		p.add(exchange.Check{Name: name, Activity: activity, Reason: err.Error()})
		return
	}
	c := exchange.Check{Name: name, Activity: activity, Pass: true}
	for _, x := range xs {
		r := exchange.Result(p.t, name, x, ok, hint)
		c.DurationMS, c.ResultCode = max(c.DurationMS, r.DurationMS), r.ResultCode
		if !r.Pass {
			c.Pass, c.Reason, c.Hint = false, r.Reason, r.Hint
			break
		}
	}
	p.add(c)
}
