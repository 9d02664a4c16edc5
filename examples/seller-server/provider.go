package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/isvkit/koogallery/saas/kit"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

// provider is an in-memory implementation of every provider interface,
// idempotent the way KooGallery requires: the same order line always gets
// the same instance (the handler guarantees at most one NewInstance per order
// line, and the provider still looks the order line up first, since the
// handler's records can expire); releases and deletes succeed when the thing
// is already gone; repeated adds update in place. Calls with testFlag=1 come
// from KooGallery's probing and the console's debugging: they succeed
// without needing real data.
type provider struct {
	publicURL string
	orders    *order.Client // nil: no open-API credentials
	log       *slog.Logger

	mu          sync.Mutex
	instances   map[string]*instance // by instance ID
	byOrder     map[string]string    // order key → instance ID
	licenseCode map[string]*licenseState
	tenants     map[string]*kit.TenantSyncRequest
	apps        map[string]*kit.ApplicationSyncRequest
	users       map[string]kit.User
	orgs        map[string]kit.Org
}

type instance struct {
	id       string
	expires  time.Time
	frozen   bool
	password string
}

type licenseState struct {
	expires time.Time
	frozen  bool
}

func newProvider(publicURL string, orders *order.Client, log *slog.Logger) *provider {
	return &provider{
		publicURL: publicURL, orders: orders, log: log,
		instances: map[string]*instance{}, byOrder: map[string]string{},
		licenseCode: map[string]*licenseState{}, tenants: map[string]*kit.TenantSyncRequest{},
		apps: map[string]*kit.ApplicationSyncRequest{}, users: map[string]kit.User{}, orgs: map[string]kit.Org{},
	}
}

// provision returns the instance of an order key, creating it once. The
// first call's businessId becomes the instance ID, as KooGallery recommends.
func (p *provider) provision(orderKey, businessID string) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.byOrder[orderKey]; ok {
		return p.instances[id]
	}
	id := businessID
	if id == "" || p.instances[id] != nil {
		id = "i-" + randomHex(8)
	}
	in := &instance{id: id, password: randomHex(8)}
	p.instances[id] = in
	p.byOrder[orderKey] = id
	p.log.Info("provisioned instance", slog.String("instanceId", id))
	return in
}

// update applies fn to an instance. An unknown instance is 000003, except
// for a debugging call, which touches nothing and succeeds.
func (p *provider) update(id string, test bool, fn func(*instance)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	switch {
	case ok:
		fn(in)
		return nil
	case test:
		return nil
	}
	return saas.ErrInstanceNotFound
}

func (p *provider) release(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.instances, id) // releasing twice is fine
	for k, v := range p.byOrder {
		if v == id {
			delete(p.byOrder, k)
		}
	}
}

func (p *provider) appInfo(in *instance) *saas.AppInfo {
	return &saas.AppInfo{
		FrontEndURL: p.publicURL + "/app/" + url.PathEscape(in.id),
		AdminURL:    p.publicURL + "/admin/" + url.PathEscape(in.id),
		UserName:    "admin",
		Password:    in.password,
	}
}

func (p *provider) query(ids []string) *saas.QueryInstanceResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	var resp saas.QueryInstanceResponse
	for _, id := range ids {
		if in, ok := p.instances[id]; ok {
			resp.Info = append(resp.Info, saas.InstanceInfo{InstanceID: id, AppInfo: p.appInfo(in)})
		}
	}
	return &resp
}

// SaaS V2 (saas.Provider).

func (p *provider) NewInstance(_ context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	in := p.provision("v2/"+r.OrderID+"/"+r.OrderLineID, r.BusinessID)
	return &saas.NewInstanceResponse{InstanceID: in.id}, nil
}

func (p *provider) QueryInstance(_ context.Context, r *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	return p.query(r.InstanceIDs), nil
}

func (p *provider) RefreshInstance(_ context.Context, r *saas.RefreshInstanceRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(in *instance) { in.expires = r.ExpireTime })
}

func (p *provider) UpdateInstanceStatus(_ context.Context, r *saas.UpdateInstanceStatusRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(in *instance) { in.frozen = r.Status == saas.StatusFreeze })
}

func (p *provider) ReleaseInstance(_ context.Context, r *saas.ReleaseInstanceRequest) error {
	p.release(r.InstanceID)
	return nil
}

func (p *provider) UpgradeInstance(_ context.Context, r *saas.UpgradeInstanceRequest) error {
	// The new specification comes from the order open API (QueryOrder).
	return p.update(r.InstanceID, r.TestFlag, func(*instance) {})
}

// SaaS V1 (saas.V1Provider).

type v1Provider struct{ *provider }

func (p *provider) v1() v1Provider { return v1Provider{p} }

func (p v1Provider) NewInstance(_ context.Context, r *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	key := "v1/" + r.OrderID + "/"
	switch r.ChargingMode {
	case order.ChargingModeOnDemand, order.ChargingModeOneTime, order.ChargingModeOnDemandPackage:
		key += r.ProductID // one order may carry several per-use products
	}
	in := p.provision(key, r.BusinessID)
	p.mu.Lock()
	defer p.mu.Unlock()
	return &saas.V1NewInstanceResponse{InstanceID: in.id, AppInfo: p.appInfo(in)}, nil
}

func (p v1Provider) RefreshInstance(_ context.Context, r *saas.V1RefreshInstanceRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(in *instance) { in.expires = r.ExpireTime; in.frozen = false })
}

func (p v1Provider) ExpireInstance(_ context.Context, r *saas.V1ExpireInstanceRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(in *instance) { in.frozen = true })
}

func (p v1Provider) ReleaseInstance(_ context.Context, r *saas.V1ReleaseInstanceRequest) error {
	p.release(r.InstanceID)
	return nil
}

func (p v1Provider) Upgrade(_ context.Context, r *saas.V1UpgradeRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(*instance) {})
}

func (p v1Provider) InstanceStatus(_ context.Context, r *saas.V1InstanceStatusRequest) error {
	return p.update(r.InstanceID, r.TestFlag, func(in *instance) { in.frozen = r.Status == saas.StatusFreeze })
}

// License 2.0 (license.Provider). Licence codes are the seller's own; an
// unknown one is 000003 unless the call is a debugging call.

type licenseProvider struct{ *provider }

func (p *provider) licenses() licenseProvider { return licenseProvider{p} }

func (p licenseProvider) code(code string, test bool, fn func(*licenseState)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.licenseCode[code]
	switch {
	case ok:
		fn(s)
		return nil
	case test:
		return nil
	}
	return license.ErrLicenseNotFound
}

func (p licenseProvider) RefreshLicenseCode(_ context.Context, r *license.RefreshLicenseCodeRequest) error {
	return p.code(r.License, r.TestFlag, func(s *licenseState) { s.expires = r.ExpireTime })
}

func (p licenseProvider) UpdateLicenseCodeStatus(_ context.Context, r *license.UpdateLicenseCodeStatusRequest) error {
	return p.code(r.License, r.TestFlag, func(s *licenseState) { s.frozen = r.Status == license.StatusFreeze })
}

func (p licenseProvider) ReleaseLicenseCode(_ context.Context, r *license.ReleaseLicenseCodeRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.licenseCode, r.License) // releasing twice is fine
	return nil
}

// Joint-operation kit (kit.Provider): upserts on the natural keys,
// deletes that succeed when the record is gone, and no check that the
// instance exists (the console's debugging calls carry none).

type kitProvider struct{ *provider }

func (p *provider) kit() kitProvider { return kitProvider{p} }

func (p kitProvider) TenantSync(_ context.Context, r *kit.TenantSyncRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Flag {
	case kit.FlagDelete:
		delete(p.tenants, r.TenantID)
	case kit.FlagModify:
		if t, ok := p.tenants[r.TenantID]; ok {
			t.Name, t.DomainName = r.Name, r.DomainName
			return nil
		}
		fallthrough
	default:
		c := *r
		c.Raw = nil
		p.tenants[r.TenantID] = &c
	}
	return nil
}

func (p kitProvider) ApplicationSync(_ context.Context, r *kit.ApplicationSyncRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := r.TenantID + "/" + r.AppID
	if r.Flag == kit.FlagDelete {
		delete(p.apps, k)
		return nil
	}
	c := *r
	c.Raw = nil
	p.apps[k] = &c // ClientSecret, when decrypted, stays in memory only: never log it
	return nil
}

func (p kitProvider) AuthSync(_ context.Context, r *kit.AuthSyncRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range r.Users {
		k := r.TenantID + "/" + r.AppID + "/" + u.UserName
		switch r.Flag {
		case kit.FlagDelete, kit.FlagRevoke:
			delete(p.users, k)
		default:
			p.users[k] = u
		}
	}
	return nil
}

func (p kitProvider) SingleOrgSync(_ context.Context, r *kit.SingleOrgSyncRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := r.TenantID + "/" + r.OrgCode
	if r.Flag == kit.FlagDelete {
		delete(p.orgs, k)
		return nil
	}
	p.orgs[k] = kit.Org{OrgCode: r.OrgCode, OrgName: r.OrgName, ParentCode: r.ParentCode}
	return nil
}

func (p kitProvider) AllOrgSync(_ context.Context, r *kit.AllOrgSyncRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.orgs {
		if len(k) > len(r.TenantID) && k[:len(r.TenantID)+1] == r.TenantID+"/" {
			delete(p.orgs, k)
		}
	}
	for _, o := range r.Orgs {
		p.orgs[r.TenantID+"/"+o.OrgCode] = o
	}
	return nil
}

// Order notification.

func (p *provider) onOrder(ctx context.Context, n *order.Notification) error {
	if n.TestFlag || p.orders == nil {
		p.log.Info("order notification", slog.String("orderId", n.OrderID), slog.Bool("testFlag", n.TestFlag))
		return nil
	}
	// KooGallery waits 5 s; the query is fast, but a slow one must not
	// make KooGallery count the notification as failed.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	o, err := p.orders.QueryOrder(ctx, n.OrderID, order.WithOrderLineID(n.OrderLineID))
	if err != nil {
		return err // 000005; KooGallery re-sends
	}
	p.log.Info("order notification", slog.String("orderId", o.OrderID), slog.String("orderType", string(o.OrderType)), slog.Int("lines", len(o.OrderLines)))
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
