//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are pinned in builds without it (go test ./... in CI).

package auth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

// TestSignAllocations pins the allocations of a signature: the
// Authorization string and one array for the header values, plus one per
// query parameter that needs decoding.
func TestSignAllocations(t *testing.T) {
	s, err := auth.NewSigner("ak", "sk")
	require.NoError(t, err)
	withToken, err := auth.NewSigner("ak", "sk", auth.WithSecurityToken("token"))
	require.NoError(t, err)
	get, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKPERIODYEARNEW&orderLineId=MOCKPERIODYEARNEW-000001", nil)
	get.Header.Set("Content-Type", "application/json;charset=UTF-8")
	unsorted, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/x?b=2&a=%20+1", nil)
	for name, c := range map[string]struct {
		s    *auth.Signer
		r    *http.Request
		want float64
	}{"GET": {s, get, 2}, "GET with token": {withToken, get, 2}, "query to canonicalise": {s, unsorted, 3}} {
		require.NoError(t, c.s.Sign(c.r))
		allocs := testing.AllocsPerRun(200, func() {
			if err := c.s.Sign(c.r); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, allocs, c.want, name)
	}
}
