package kit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/saas/kit"
	"github.com/isvkit/koogallery/store"
)

// leaseStore records the leases claims are taken with.
type leaseStore struct {
	store.Store
	mu     sync.Mutex
	leases []time.Duration
}

func (s *leaseStore) Claim(ctx context.Context, key string, lease time.Duration) (*store.Record, bool, error) {
	s.mu.Lock()
	s.leases = append(s.leases, lease)
	s.mu.Unlock()
	return s.Store.Claim(ctx, key, lease)
}

// The kit's replay guard claims with WithClaimLease's lease, V2 and V1.
func TestKitClaimLease(t *testing.T) {
	t.Parallel()
	st := &leaseStore{Store: store.NewMemory(10)}
	e := newKitEnv(t, &kitProvider{}, nil, callback.WithStore(st, 0), callback.WithClaimLease(7*time.Second))
	body := map[string]any{"tenantId": "t", "tenantCode": "c", "name": "n", "domainName": "d", "flag": 1, "timeStamp": "20261127163000123"}
	assert.Equal(t, "000000", e.sendV2(t, "tenantSync", body).ResultCode)
	delete(body, "timeStamp")
	assert.Equal(t, "000000", e.sendV1(t, "tenantSync", body).ResultCode)
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.Equal(t, []time.Duration{7 * time.Second, 7 * time.Second}, st.leases)
}

// A lease under the minimum is a programming error, refused at start-up.
func TestClaimLeaseTooShort(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "kit.NewHandler: WithClaimLease(10ms): the lease must be at least 1s (the provider gets 4/5 of it)",
		func() { kit.NewHandler(accessKey, &kitProvider{}, callback.WithClaimLease(10*time.Millisecond)) })
}

type licenses struct{}

func (licenses) RefreshLicenseCode(context.Context, *license.RefreshLicenseCodeRequest) error {
	return nil
}
func (licenses) UpdateLicenseCodeStatus(context.Context, *license.UpdateLicenseCodeStatusRequest) error {
	return nil
}
func (licenses) ReleaseLicenseCode(context.Context, *license.ReleaseLicenseCodeRequest) error {
	return nil
}
