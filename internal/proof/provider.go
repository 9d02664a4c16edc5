package proof

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/saas/kit"
)

// Order-ID prefixes the driver uses to ask the provider for a behaviour.
const (
	// prefixKill: NewInstance makes the half-made instance, announces it
	// on stdout and then hangs until its replica is killed.
	prefixKill = "KILL"
	// prefixAsync: NewInstance answers Pending (000004) and finishes on the
	// next newInstance.
	prefixAsync = "ASYNC"
	// prefixForged marks the IDs of forged and stale calls: the provider
	// notes any it is given, which must never happen.
	prefixForged = "FORGED"
)

// seller is the seller's code in one replica: every provider the handlers
// call, on one Ledger. It provisions the way the SDK's documentation asks:
// it looks up the order line's instance before creating one, and finishes
// a half-made one it finds.
type seller struct {
	ledger  Ledger
	replica string
	delay   time.Duration // between the look-up and the write: a call to another system
	// halfMade is told about a KILL instance once it is half-made.
	halfMade func(line, id string)
}

var errKilled = errors.New("proof: this replica should have been killed by now")

// forged notes every ID that carries the forged-call marker.
func (s *seller) forged(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if strings.HasPrefix(id, prefixForged) {
			if err := s.ledger.Note(ctx, noteForged+id); err != nil {
				return err
			}
		}
	}
	return nil
}

// note counts one run of the seller's code for the signed call marker
// names ("" for calls that carry none).
func (s *seller) note(ctx context.Context, kind, marker string) error {
	if marker == "" {
		return nil
	}
	return s.ledger.Note(ctx, kind+"/"+marker)
}

func (s *seller) sleep(ctx context.Context) error {
	if s.delay <= 0 {
		return nil
	}
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// provision returns the instance of line, creating it (as id) if the
// ledger has none, and finishing it if it is half-made. pending asks to
// leave a new instance half-made (asynchronous provisioning); progress says
// the handler is asking about one it was told is pending.
func (s *seller) provision(ctx context.Context, line, id string, pending, progress bool) (string, bool, error) {
	v, found, err := s.ledger.Get(ctx, line)
	if err != nil {
		return "", false, err
	}
	if found {
		state, existing, _ := strings.Cut(v, "|")
		if state == "h" {
			if !progress {
				if err := s.ledger.Note(ctx, noteResumed+line); err != nil {
					return "", false, err
				}
			}
			if err := s.ledger.Put(ctx, line, "r|"+existing, ""); err != nil {
				return "", false, err
			}
		} else if !progress {
			if err := s.ledger.Note(ctx, noteFoundReady+line); err != nil {
				return "", false, err
			}
		}
		return existing, false, nil
	}
	if err := s.sleep(ctx); err != nil {
		return "", false, err
	}
	if err := s.ledger.Put(ctx, line, "h|"+id, eventProvision+"|"+line+"|"+id+"|"+s.replica); err != nil {
		return "", false, err
	}
	if s.halfMade != nil && strings.Contains(line, "/"+prefixKill) {
		s.halfMade(line, id)
		<-ctx.Done()
		return "", false, errKilled
	}
	if pending {
		return id, true, nil
	}
	if err := s.ledger.Put(ctx, line, "r|"+id, ""); err != nil {
		return "", false, err
	}
	return id, false, nil
}

// applyOnce applies an upgrade order line unless the ledger says it was.
func (s *seller) applyOnce(ctx context.Context, key, instanceID string) error {
	if _, found, err := s.ledger.Get(ctx, key); err != nil || found {
		return err
	}
	if err := s.sleep(ctx); err != nil {
		return err
	}
	return s.ledger.Put(ctx, key, instanceID, eventUpgrade+"|"+key+"|"+instanceID+"|"+s.replica)
}

func appInfo(id string) *saas.AppInfo {
	return &saas.AppInfo{FrontEndURL: "https://seller.example.com/" + id, UserName: "admin", Password: "initial-" + id[len(id)-min(len(id), 8):]}
}

func queryInfo(ids []string) *saas.QueryInstanceResponse {
	out := &saas.QueryInstanceResponse{}
	for _, id := range ids {
		out.Info = append(out.Info, saas.InstanceInfo{InstanceID: id, AppInfo: appInfo(id)})
	}
	return out
}

// v2Seller is the SaaS V2 provider.
type v2Seller struct{ *seller }

func (s v2Seller) NewInstance(ctx context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	if err := errors.Join(s.forged(ctx, req.OrderID, req.BusinessID), s.note(ctx, "v2.newInstance", req.BusinessID)); err != nil {
		return nil, err
	}
	line := "v2/" + req.OrderID + "/" + req.OrderLineID
	id, pending, err := s.provision(ctx, line, "I-"+req.BusinessID, strings.HasPrefix(req.OrderID, prefixAsync), req.PendingInstanceID != "")
	if err != nil {
		return nil, err
	}
	return &saas.NewInstanceResponse{InstanceID: id, Pending: pending}, nil
}

func (s v2Seller) QueryInstance(ctx context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	if err := s.forged(ctx, req.InstanceIDs...); err != nil {
		return nil, err
	}
	return queryInfo(req.InstanceIDs), nil
}

func (s v2Seller) RefreshInstance(ctx context.Context, req *saas.RefreshInstanceRequest) error {
	if err := errors.Join(s.forged(ctx, req.OrderID, req.InstanceID), s.note(ctx, "v2.refreshInstance", req.OrderLineID)); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "expires:"+req.InstanceID, req.ExpireTime.Format(time.RFC3339), "")
}

func (s v2Seller) UpdateInstanceStatus(ctx context.Context, req *saas.UpdateInstanceStatusRequest) error {
	if err := s.forged(ctx, req.InstanceID); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "status:"+req.InstanceID, string(req.Status), "")
}

func (s v2Seller) ReleaseInstance(ctx context.Context, req *saas.ReleaseInstanceRequest) error {
	if err := errors.Join(s.forged(ctx, req.InstanceID), s.note(ctx, "v2.releaseInstance", req.OrderLineID)); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "status:"+req.InstanceID, "RELEASED", "")
}

func (s v2Seller) UpgradeInstance(ctx context.Context, req *saas.UpgradeInstanceRequest) error {
	if err := s.forged(ctx, req.OrderID, req.InstanceID); err != nil {
		return err
	}
	return s.applyOnce(ctx, "v2up/"+req.OrderID+"/"+req.OrderLineID, req.InstanceID)
}

// v1Seller is the SaaS V1 provider. Every V1 call carries a proofCall
// parameter, unique per signed call.
type v1Seller struct{ *seller }

const paramProofCall = "proofCall"

func (s v1Seller) NewInstance(ctx context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	if err := errors.Join(s.forged(ctx, req.OrderID, req.BusinessID), s.note(ctx, "v1.newInstance", req.Params.Get(paramProofCall))); err != nil {
		return nil, err
	}
	id, _, err := s.provision(ctx, "v1/"+req.OrderID, "V1-"+req.BusinessID, false, false)
	if err != nil {
		return nil, err
	}
	return &saas.V1NewInstanceResponse{InstanceID: id, AppInfo: appInfo(id)}, nil
}

func (s v1Seller) QueryInstance(ctx context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	if err := s.forged(ctx, req.InstanceIDs...); err != nil {
		return nil, err
	}
	return queryInfo(req.InstanceIDs), nil
}

func (s v1Seller) RefreshInstance(ctx context.Context, req *saas.V1RefreshInstanceRequest) error {
	if err := errors.Join(s.forged(ctx, req.OrderID, req.InstanceID), s.note(ctx, "v1.refreshInstance", req.Params.Get(paramProofCall))); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "expires:"+req.InstanceID, req.ExpireTime.Format(time.RFC3339), "")
}

func (s v1Seller) ExpireInstance(ctx context.Context, req *saas.V1ExpireInstanceRequest) error {
	if err := errors.Join(s.forged(ctx, req.InstanceID), s.note(ctx, "v1.expireInstance", req.Params.Get(paramProofCall))); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "status:"+req.InstanceID, "EXPIRED", "")
}

func (s v1Seller) ReleaseInstance(ctx context.Context, req *saas.V1ReleaseInstanceRequest) error {
	if err := errors.Join(s.forged(ctx, req.InstanceID), s.note(ctx, "v1.releaseInstance", req.Params.Get(paramProofCall))); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "status:"+req.InstanceID, "RELEASED", "")
}

func (s v1Seller) Upgrade(ctx context.Context, req *saas.V1UpgradeRequest) error {
	if err := errors.Join(s.forged(ctx, req.OrderID, req.InstanceID), s.note(ctx, "v1.upgrade", req.Params.Get(paramProofCall))); err != nil {
		return err
	}
	return s.applyOnce(ctx, "v1up/"+req.OrderID, req.InstanceID)
}

func (s v1Seller) InstanceStatus(ctx context.Context, req *saas.V1InstanceStatusRequest) error {
	if err := errors.Join(s.forged(ctx, req.InstanceID), s.note(ctx, "v1.instanceStatus", req.Params.Get(paramProofCall))); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "status:"+req.InstanceID, string(req.Status), "")
}

// kitSeller is the joint-operation kit provider. Every kit body carries a
// proofCall member, unique per signed call.
type kitSeller struct{ *seller }

func kitMarker(raw json.RawMessage) string {
	var m struct {
		ProofCall string `json:"proofCall"`
	}
	_ = json.Unmarshal(raw, &m) // a body the handler verified; no marker is no note
	return m.ProofCall
}

func (s kitSeller) sync(ctx context.Context, name string, v kit.Version, raw json.RawMessage, key, value string, ids ...string) error {
	if err := errors.Join(s.forged(ctx, ids...), s.note(ctx, fmt.Sprintf("kit.v%d.%s", v, name), kitMarker(raw))); err != nil {
		return err
	}
	return s.ledger.Put(ctx, key, value, "")
}

func (s kitSeller) TenantSync(ctx context.Context, req *kit.TenantSyncRequest) error {
	return s.sync(ctx, "tenantSync", req.Version, req.Raw, "tenant:"+req.TenantID, req.Flag.String()+"|"+req.Name, req.TenantID, req.InstanceID)
}

func (s kitSeller) ApplicationSync(ctx context.Context, req *kit.ApplicationSyncRequest) error {
	return s.sync(ctx, "applicationSync", req.Version, req.Raw, "app:"+req.TenantID+"/"+req.AppID, req.Flag.String()+"|"+req.ClientID, req.TenantID)
}

func (s kitSeller) AuthSync(ctx context.Context, req *kit.AuthSyncRequest) error {
	return s.sync(ctx, "authSync", req.Version, req.Raw, "users:"+req.TenantID+"/"+req.AppID, fmt.Sprintf("%s|%d", req.Flag, len(req.Users)), req.TenantID)
}

func (s kitSeller) SingleOrgSync(ctx context.Context, req *kit.SingleOrgSyncRequest) error {
	return s.sync(ctx, "singleOrgSync", req.Version, req.Raw, "org:"+req.TenantID+"/"+req.OrgCode, req.Flag.String()+"|"+req.OrgName, req.TenantID)
}

func (s kitSeller) AllOrgSync(ctx context.Context, req *kit.AllOrgSyncRequest) error {
	return s.sync(ctx, "allOrgSync", req.Version, req.Raw, "orgs:"+req.TenantID, fmt.Sprint(len(req.Orgs)), req.TenantID)
}

// licenseSeller is the License 2.0 provider.
type licenseSeller struct{ *seller }

func (s licenseSeller) RefreshLicenseCode(ctx context.Context, req *license.RefreshLicenseCodeRequest) error {
	if err := errors.Join(s.forged(ctx, req.License, req.OrderID), s.note(ctx, "license.refresh", req.OrderLineID)); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "license:"+req.License, req.ExpireTime.Format(time.RFC3339), "")
}

func (s licenseSeller) UpdateLicenseCodeStatus(ctx context.Context, req *license.UpdateLicenseCodeStatusRequest) error {
	if err := s.forged(ctx, req.License); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "license-status:"+req.License, string(req.Status), "")
}

func (s licenseSeller) ReleaseLicenseCode(ctx context.Context, req *license.ReleaseLicenseCodeRequest) error {
	if err := errors.Join(s.forged(ctx, req.License), s.note(ctx, "license.release", req.OrderLineID)); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "license-status:"+req.License, "RELEASED", "")
}

// onOrder is the order notification func. A notification carries nothing
// unique to one signed call (KooGallery's re-sends carry the same body), so
// it is not noted: the driver checks that its replays are refused.
func (s *seller) onOrder(ctx context.Context, n *order.Notification) error {
	if err := s.forged(ctx, n.OrderID); err != nil {
		return err
	}
	return s.ledger.Put(ctx, "order:"+n.OrderID, "PAID", "")
}
