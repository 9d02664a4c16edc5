package kit_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// Genuine bodies of each interface, with every member that identifies it.
var genuineKit = map[string]string{
	"tenantSync":      `{"instanceId":"i","orderId":"o","tenantId":"t","tenantCode":"acme","name":"ACME","domainName":"https://acme","flag":0,"testFlag":0}`,
	"applicationSync": `{"instanceId":"i","tenantId":"t","appId":"a","clientId":"c","clientSecret":"Q0lQSEVS","flag":0,"testFlag":0}`,
	"authSync":        `{"instanceId":"i","tenantId":"t","appId":"a","userList":[{"userName":"u","name":"U","orgCode":"rd","role":"user","enable":"true"}],"currentSyncTime":"20261127163000000","flag":0,"testFlag":0}`,
	"singleOrgSync":   `{"instanceId":"i","tenantId":"t","orgCode":"rd","orgName":"R&D","parentCode":"","flag":0,"testFlag":0}`,
	"allOrgSync":      `{"instanceId":"i","tenantId":"t","orgInfoList":[{"orgCode":"root","orgName":"ACME"},{"orgCode":"rd","orgName":"R&D","parentCode":"root"},{"orgCode":"qa","orgName":"QA","parentCode":"root"}],"testFlag":0}`,
}

// V1 sends its lists as JSON text in a string, and the org list as orgInfo.
func genuineKitV1(name string) string {
	body := genuineKit[name]
	switch name {
	case "authSync":
		body = strings.Replace(body, `"userList":[{"userName":"u","name":"U","orgCode":"rd","role":"user","enable":"true"}]`,
			`"userList":"[{\"userName\":\"u\",\"name\":\"U\",\"orgCode\":\"rd\",\"role\":\"user\",\"enable\":\"true\"}]"`, 1)
	case "allOrgSync":
		body = `{"instanceId":"i","tenantId":"t","orgInfo":"[{\"orgCode\":\"root\",\"name\":\"ACME\"},{\"orgCode\":\"rd\",\"name\":\"R&D\",\"parentCode\":\"root\"},{\"orgCode\":\"qa\",\"name\":\"QA\",\"parentCode\":\"root\"}]","testFlag":0}`
	}
	return body
}

// Neither kit signature covers the path: a genuine call re-posted to
// another interface must not be served as that interface.
func TestKitRepostedToAnotherInterface(t *testing.T) {
	t.Parallel()
	for from := range genuineKit {
		for to := range genuineKit {
			for _, version := range []kit.Version{kit.V1, kit.V2} {
				t.Run(from+"→"+to+" V"+string(rune('0'+version)), func(t *testing.T) {
					t.Parallel()
					p := &kitProvider{}
					clk := koogallerytest.NewClock(specKitTime)
					e := newKitEnv(t, p, nil, callback.WithClock(clk.Now))
					e.useClock(clk)
					var code string
					if version == kit.V1 {
						c, err := e.v1.SignKit(e.base+"/produceAPI/"+from, genuineKitV1(from))
						require.NoError(t, err)
						c.URL = e.base + "/produceAPI/" + to
						res, err := c.Send(context.Background())
						require.NoError(t, err)
						code = res.ResultCode
					} else {
						c, err := e.v2.SignKit(e.base+"/produceAPI/v2/"+from, genuineKit[from])
						require.NoError(t, err)
						c.URL = e.base + "/produceAPI/v2/" + to
						res, err := c.Send(context.Background())
						require.NoError(t, err)
						code = res.ResultCode
					}
					if from == to {
						assert.Equal(t, "000000", code)
						assert.Equal(t, int64(1), p.Calls.Load())
						return
					}
					assert.Equal(t, "000002", code, "a %s body served as %s", from, to)
					assert.Zero(t, p.Calls.Load(), "provider called for a %s body re-posted to %s", from, to)
				})
			}
		}
	}
}

// The V1 kit token skips blank and null members: such a member, added to a
// genuine body, was never signed and must neither override a signed member
// nor select which one is read.
func TestKitUnsignedBlankMembersChangeNothing(t *testing.T) {
	t.Parallel()
	blanks := []string{`""`, `"   "`, `null`, `"\u3000"`, `"\t\n"`}
	t.Run("allOrgSync orgInfoList", func(t *testing.T) {
		t.Parallel()
		for _, blank := range blanks {
			p := &kitProvider{}
			clk := koogallerytest.NewClock(specKitTime)
			e := newKitEnv(t, p, nil, callback.WithClock(clk.Now))
			e.useClock(clk)
			c, err := e.v1.SignKit(e.base+"/produceAPI/allOrgSync", genuineKitV1("allOrgSync"))
			require.NoError(t, err)
			c.Body = []byte(`{"orgInfoList":` + blank + `,` + string(c.Body[1:]))
			res, err := c.Send(context.Background())
			require.NoError(t, err)
			require.Equal(t, "000000", res.ResultCode, "with orgInfoList %s", blank)
			got := callbacktest.As[*kit.AllOrgSyncRequest](t, p.Last())
			assert.Len(t, got.Orgs, 3, "with orgInfoList %s", blank)
		}
	})
	t.Run("singleOrgSync orgName", func(t *testing.T) {
		t.Parallel()
		for _, blank := range blanks {
			p := &kitProvider{}
			clk := koogallerytest.NewClock(specKitTime)
			e := newKitEnv(t, p, nil, callback.WithClock(clk.Now))
			e.useClock(clk)
			c, err := e.v1.SignKit(e.base+"/produceAPI/singleOrgSync", `{"tenantId":"t","orgCode":"rd","name":"R&D","flag":2}`)
			require.NoError(t, err)
			c.Body = []byte(strings.Replace(string(c.Body), `"name":"R&D"`, `"name":"R&D","orgName":`+blank, 1))
			res, err := c.Send(context.Background())
			require.NoError(t, err)
			require.Equal(t, "000000", res.ResultCode, "with orgName %s", blank)
			assert.Equal(t, "R&D", callbacktest.As[*kit.SingleOrgSyncRequest](t, p.Last()).OrgName, "with orgName %s", blank)
		}
	})
	t.Run("V2 null members", func(t *testing.T) {
		t.Parallel()
		// The V2 canonical form drops null members, so they are unsigned too.
		p := &kitProvider{}
		clk := koogallerytest.NewClock(specKitTime)
		e := newKitEnv(t, p, nil, callback.WithClock(clk.Now))
		e.useClock(clk)
		body := strings.Replace(genuineKit["allOrgSync"], `"orgInfoList"`, `"orgInfo"`, 1)
		c, err := e.v2.SignKit(e.base+"/produceAPI/v2/allOrgSync", body)
		require.NoError(t, err)
		c.Body = []byte(`{"orgInfoList":null,` + string(c.Body[1:]))
		res, err := c.Send(context.Background())
		require.NoError(t, err)
		require.Equal(t, "000000", res.ResultCode)
		assert.Len(t, callbacktest.As[*kit.AllOrgSyncRequest](t, p.Last()).Orgs, 3)
	})
}

var _ = url.Values{}
