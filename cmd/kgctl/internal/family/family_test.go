package family

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupAndActivity(t *testing.T) {
	for alias, name := range map[string]string{"V2": "saas", "saas-v2": "saas", "v1": "saas-v1", "kit-v2": "kit", "Orders": "order", "license": "license"} {
		f, err := Lookup(alias)
		require.NoError(t, err, alias)
		assert.Equal(t, name, f.Name)
	}
	_, err := Lookup("nosuch")
	assert.EqualError(t, err, `unknown family "nosuch" (one of saas, saas-v1, kit, kit-v1, license, order)`)
	f, _ := Lookup("saas")
	a, err := f.Activity("NEWINSTANCE")
	require.NoError(t, err)
	assert.Equal(t, "newInstance", a)
}

func TestFieldsOfEachScheme(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC)
	id := &IDs{OrderID: "O1", OrderLineID: "O1-000001", InstanceID: "i-1", TenantID: "t-1", AppID: "a-1", OrgCode: "o-1"}
	saas, _ := Lookup("saas")
	m := Fields(saas, "refreshInstance", id, now)
	assert.Equal(t, "20271127083000", m["expireTime"])
	assert.Equal(t, "O1R", m["orderId"])
	kit, _ := Lookup("kit")
	m = Fields(kit, "tenantSync", id, now)
	assert.Equal(t, "20261127163000123", m["timeStamp"], "GMT+8 with milliseconds")
	assert.Equal(t, 1, m["testFlag"])
	kitV1, _ := Lookup("kit-v1")
	m = Fields(kitV1, "allOrgSync", id, now)
	assert.NotContains(t, m, "timeStamp")
	assert.JSONEq(t, `[{"orgCode":"o-1","name":"kgctl","parentCode":""}]`, m["orgInfo"].(string))
}

func TestSetField(t *testing.T) {
	m := map[string]any{"flag": 1, "name": "x"}
	require.NoError(t, SetField(m, "flag=0", true))
	assert.Equal(t, 0, m["flag"])
	require.NoError(t, SetField(m, `list:=[1,2]`, true))
	assert.Equal(t, json.RawMessage(`[1,2]`), m["list"])
	assert.EqualError(t, SetField(m, `n:=1`, false), "--field n: this family sends strings only; use n=VALUE")
	assert.EqualError(t, SetField(m, `n:={`, true), "--field n: the value after := is not JSON")
	assert.EqualError(t, SetField(m, "=v", true), `--field "=v": want NAME=VALUE or NAME:=JSON`)
}
