package kit_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// Spec §9.6 and §9.7.
const (
	specKitNonce = "Q7ZP0L3XW9M2K8RT"
	specKitTS    = "1795768200123"
	specKitBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	specKitSign  = "3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b"
	specKitToken = "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog="
)

var specKitTime = time.UnixMilli(1795768200123) // 2026-11-27 08:30:00.123 UTC, 16:30 in GMT+8

func specTenant(v kit.Version) *kit.TenantSyncRequest {
	return &kit.TenantSyncRequest{Version: v, InstanceID: "inst-0001", OrderID: "CS2611270001ABCDE",
		TenantID: "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", TenantCode: "acme", Name: "ACME Ltd", DomainName: "https://acme.example.com",
		Flag: kit.FlagAdd, TimeStamp: time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC)}
}

// kitVector serves the kit handlers of several keys, picked by X-Test-Key.
type kitVector struct {
	t        *testing.T
	srv      *httptest.Server
	handlers map[string]http.Handler
}

func newKitVector(t *testing.T, p kit.Provider, keys []string, opts ...callback.KitOption) *kitVector {
	v := &kitVector{t: t, handlers: map[string]http.Handler{}}
	for _, k := range keys {
		v.handlers[k] = kit.NewHandler(k, p, opts...)
	}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.handlers[r.Header.Get("X-Test-Key")].ServeHTTP(w, r)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// post sends body to path with headers, for the handler of key. A V1 path's
// answer must carry a Body-Sign over the bytes received, a V2 path's none.
func (v *kitVector) post(key, path, body string, headers map[string]string) (code string, raw []byte) {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+path, strings.NewReader(body))
	require.NoError(v.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-Key", key)
	for k, h := range headers {
		req.Header[k] = []string{h}
	}
	resp, err := v.srv.Client().Do(req)
	require.NoError(v.t, err)
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	require.Equal(v.t, http.StatusOK, resp.StatusCode)
	if strings.Contains(path, "/v2/") {
		assert.Empty(v.t, resp.Header.Get("Body-Sign"))
	} else {
		require.NoError(v.t, v1sign.VerifyBodySign(key, raw, resp.Header.Get("Body-Sign")), "Body-Sign over %s", raw)
	}
	var a koogallerytest.Answer
	require.NoError(v.t, json.Unmarshal(raw, &a))
	return a.ResultCode, raw
}

// Spec §9.6 (x-sign) and §9.7 (the V1 authToken of the same body) through
// the kit handler, and every changed byte of body, signature, nonce,
// timestamp and key refused with 000001 without calling the provider.
func TestKitSpecVectorsAndChangedBytes(t *testing.T) {
	t.Parallel()
	p := &kitProvider{}
	keys := []string{accessKey}
	for i := range len(accessKey) {
		keys = append(keys, flip(accessKey, i))
	}
	v := newKitVector(t, p, keys, callback.WithClock(func() time.Time { return specKitTime }), callback.WithLogger(discard))
	const v2Path, v1Path = "/isv/produce/produceAPI/v2/tenantSync", "/isv/produce/produceAPI/tenantSync"
	v2 := func(key, body, sign, nonce, ts string) string {
		code, _ := v.post(key, v2Path, body, map[string]string{"x-sign": sign, "x-nonce": nonce, "x-timestamp": ts})
		return code
	}
	v1 := func(key, body, token string) string {
		code, _ := v.post(key, v1Path, body, map[string]string{"authToken": token})
		return code
	}

	for _, k := range keys[1:] {
		assert.Equal(t, "000001", v2(k, specKitBody, specKitSign, specKitNonce, specKitTS), "V2 key %q", k)
		assert.Equal(t, "000001", v1(k, specKitBody, specKitToken), "V1 key %q", k)
	}
	for i := range len(specKitBody) {
		assert.Equal(t, "000001", v2(accessKey, flip(specKitBody, i), specKitSign, specKitNonce, specKitTS), "V2 body byte %d", i)
		assert.Equal(t, "000001", v1(accessKey, flip(specKitBody, i), specKitToken), "V1 body byte %d", i)
	}
	for i := range len(specKitSign) {
		assert.Equal(t, "000001", v2(accessKey, specKitBody, flip(specKitSign, i), specKitNonce, specKitTS), "x-sign byte %d", i)
	}
	for i := range len(specKitNonce) {
		assert.Equal(t, "000001", v2(accessKey, specKitBody, specKitSign, flip(specKitNonce, i), specKitTS), "x-nonce byte %d", i)
	}
	for i := range len(specKitTS) {
		assert.Equal(t, "000001", v2(accessKey, specKitBody, specKitSign, specKitNonce, flip(specKitTS, i)), "x-timestamp byte %d", i)
	}
	for i := range len(specKitToken) {
		assert.Equal(t, "000001", v1(accessKey, specKitBody, flip(specKitToken, i)), "authToken byte %d", i)
	}
	assert.Zero(t, p.Calls.Load(), "seller code must not run")

	assert.Equal(t, "000000", v2(accessKey, specKitBody, strings.ToUpper(specKitSign), specKitNonce, specKitTS), "the genuine V2 call verifies")
	assert.Equal(t, specTenant(kit.V2), withoutRaw(p.Last()))
	assert.JSONEq(t, specKitBody, string(callbacktest.LastAs[*kit.TenantSyncRequest](t, &p.Recorder).Raw))
	assert.Equal(t, "000001", v2(accessKey, specKitBody, specKitSign, specKitNonce, specKitTS), "and only once")

	assert.Equal(t, "000000", v1(accessKey, specKitBody, specKitToken), "the genuine V1 call verifies")
	assert.Equal(t, specTenant(kit.V1), withoutRaw(p.Last()))
	assert.Equal(t, int64(2), p.Calls.Load())
}

func TestKitRouting(t *testing.T) {
	t.Parallel()
	body := map[string]any{"tenantId": "t-1", "tenantCode": "c", "name": "n", "domainName": "d", "flag": 1, "orgCode": "o-1", "orgName": "O"}
	for _, tt := range []struct {
		name    string
		mount   func(h http.Handler) http.Handler
		path    string // where KooGallery posts
		version kit.Version
		sign    kit.Version // 0: unsigned
		code    string
		msg     string
		v1      bool // answered by the V1 scheme: Body-Sign expected
	}{
		{"V2 under a subtree", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/tenantSync", kit.V2, kit.V2, "000000", "success", false},
		{"V1 under a subtree", subtree("/isv/produce/"), "/isv/produce/produceAPI/tenantSync", kit.V1, kit.V1, "000000", "success", true},
		{"StripPrefix without slash", strip("/isv/produce"), "/isv/produce/produceAPI/v2/tenantSync", kit.V2, kit.V2, "000000", "success", false},
		{"StripPrefix with slash", strip("/isv/produce/"), "/isv/produce/produceAPI/v2/tenantSync", kit.V2, kit.V2, "000000", "success", false},
		{"StripPrefix with slash, V1", strip("/isv/produce/"), "/isv/produce/produceAPI/tenantSync", kit.V1, kit.V1, "000000", "success", true},
		{"at the root", subtree("/"), "/produceAPI/v2/tenantSync", kit.V2, kit.V2, "000000", "success", false},
		{"deep prefix", subtree("/a/b/c/"), "/a/b/c/produceAPI/tenantSync", kit.V1, kit.V1, "000000", "success", true},
		{"trailing slash", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/tenantSync/", kit.V2, kit.V2, "000000", "success", false},
		{"unknown interface, V2 signed", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/deleteAll", 0, kit.V2, "000002", "unknown kit interface", false},
		{"unknown interface, V1 signed", subtree("/isv/produce/"), "/isv/produce/produceAPI/deleteAll", 0, kit.V1, "000002", "unknown kit interface", true},
		{"unknown interface, unsigned", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/deleteAll", 0, 0, "000001", "authentication failed", false},
		{"not a whole segment", subtree("/isv/produce/"), "/isv/produce/xproduceAPI/v2/tenantSync", 0, kit.V2, "000002", "unknown kit interface", false},
		{"v3", subtree("/isv/produce/"), "/isv/produce/produceAPI/v3/tenantSync", 0, kit.V2, "000002", "unknown kit interface", false},
		{"case matters", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/TenantSync", 0, kit.V2, "000002", "unknown kit interface", false},
		{"V1 path, V2 signature", subtree("/isv/produce/"), "/isv/produce/produceAPI/tenantSync", kit.V1, kit.V2, "000001", "authentication failed", true},
		{"V2 path, V1 signature", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/tenantSync", kit.V2, kit.V1, "000001", "authentication failed", false},
		{"singleOrgSyncNew, the unconfirmed V2 name [GAP]", subtree("/isv/produce/"), "/isv/produce/produceAPI/v2/singleOrgSyncNew", kit.V2, kit.V2, "000000", "success", false},
		{"unknown V1 interface, V2 signature", subtree("/isv/produce/"), "/isv/produce/produceAPI/deleteAll", 0, kit.V2, "000001", "authentication failed", true},
		{"outside both directories, V1 signed", subtree("/isv/produce/"), "/isv/produce/other/tenantSync", 0, kit.V1, "000002", "unknown kit interface", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &kitProvider{}
			srv := httptest.NewServer(tt.mount(kit.NewHandler(accessKey, p, callback.WithLogger(discard))))
			t.Cleanup(srv.Close)
			target := srv.URL + tt.path
			var call interface {
				Request(context.Context) (*http.Request, error)
			}
			switch tt.sign {
			case kit.V2:
				c, err := koogallerytest.NewSender(accessKey).SignKit(target, body)
				require.NoError(t, err)
				call = c
			case kit.V1:
				c, err := koogallerytest.NewV1Sender(accessKey).SignKit(target, body)
				require.NoError(t, err)
				call = c
			default:
				c, err := koogallerytest.NewSender("unknown").SignKit(target, body)
				require.NoError(t, err)
				call = c
			}
			req, err := call.Request(context.Background())
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			var a koogallerytest.Answer
			require.NoError(t, json.Unmarshal(raw, &a))
			assert.Equal(t, tt.code, a.ResultCode)
			assert.Equal(t, tt.msg, a.ResultMsg)
			if tt.v1 {
				assert.NoError(t, v1sign.VerifyBodySign(accessKey, raw, resp.Header.Get("Body-Sign")))
			} else {
				assert.Empty(t, resp.Header.Get("Body-Sign"))
			}
			if tt.code == "000000" {
				switch req := p.Last().(type) {
				case *kit.TenantSyncRequest:
					assert.Equal(t, tt.version, req.Version)
				case *kit.SingleOrgSyncRequest:
					assert.Equal(t, tt.version, req.Version)
					assert.Equal(t, "o-1", req.OrgCode)
				default:
					t.Fatalf("unexpected request %T", req)
				}
			} else {
				assert.Zero(t, p.Calls.Load())
			}
		})
	}
}

func subtree(prefix string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(prefix, h)
		return mux
	}
}

func strip(prefix string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return http.StripPrefix(prefix, h) }
}

// usersJSON returns n users as a JSON array.
func usersJSON(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"userName":"u%d","name":"User %d","orgCode":"o","role":"user","enable":"true"}`, i, i)
	}
	b.WriteByte(']')
	return b.String()
}

func TestKitDecode(t *testing.T) {
	t.Parallel()
	syncTime := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	users := `[{"userName":"zhang.san","name":"张三","orgCode":"rd","position":"engineer","employeeCode":1001,"employeeType":2,` +
		`"role":"admin","enable":"true","mobile":"13800138000","email":"z@acme.example.com","workPlace":"Shenzhen","entryDate":"2024-03-7",` +
		`"extension":{"ledger":["A01","B02"]},"unknown":1},{"userName":"li.si","name":"李四","orgCode":"rd","role":"user","enable":false}]`
	wantUsers := []kit.User{
		{UserName: "zhang.san", Name: "张三", OrgCode: "rd", Position: "engineer", EmployeeCode: "1001", EmployeeType: kit.EmployeeIntern,
			Role: kit.RoleAdmin, Enable: true, Mobile: "13800138000", Email: "z@acme.example.com", WorkPlace: "Shenzhen",
			EntryDate: "2024-03-7", Extension: json.RawMessage(`{"ledger":["A01","B02"]}`)},
		{UserName: "li.si", Name: "李四", OrgCode: "rd", Role: kit.RoleUser},
	}
	orgsV1 := `[{"orgCode":"root","name":"ACME","parentCode":""},{"orgCode":"rd","name":"R&D","parentCode":"root"}]`
	orgsV2 := `[{"orgCode":"root","orgName":"ACME"},{"orgCode":"rd","orgName":"R&D","parentCode":"root"}]`
	wantOrgs := []kit.Org{{OrgCode: "root", OrgName: "ACME"}, {OrgCode: "rd", OrgName: "R&D", ParentCode: "root"}}

	tests := []struct {
		name    string
		version kit.Version
		iface   string
		body    map[string]any
		want    any
	}{
		{"tenantSync V2 modify, debug call without instance or order", kit.V2, "tenantSync",
			map[string]any{"tenantId": "t", "tenantCode": "acme", "name": "ACME 2", "domainName": "https://acme2", "flag": 2, "testFlag": 1, "instanceId": "", "timeStamp": "20261127163000123"},
			&kit.TenantSyncRequest{Version: kit.V2, TenantID: "t", TenantCode: "acme", Name: "ACME 2", DomainName: "https://acme2", Flag: kit.FlagModify,
				TestFlag: true, TimeStamp: specKitTime.UTC()}},
		{"tenantSync V1 delete, strings for numbers", kit.V1, "tenantSync",
			map[string]any{"tenantId": "t", "tenantCode": "c", "name": "n", "domainName": "d", "flag": "0", "testFlag": "0", "instanceId": "i", "orderId": "o"},
			&kit.TenantSyncRequest{Version: kit.V1, InstanceID: "i", OrderID: "o", TenantID: "t", TenantCode: "c", Name: "n", DomainName: "d", Flag: kit.FlagDelete}},
		{"applicationSync without a private key", kit.V2, "applicationSync",
			map[string]any{"tenantId": "t", "appId": "a", "clientId": "c", "clientSecret": "Q0lQSEVS", "flag": 1},
			&kit.ApplicationSyncRequest{Version: kit.V2, TenantID: "t", AppID: "a", ClientID: "c", EncryptedClientSecret: "Q0lQSEVS", Flag: kit.FlagAdd}},
		{"authSync V1, userList as a string", kit.V1, "authSync",
			map[string]any{"tenantId": "t", "appId": "a", "userList": users, "currentSyncTime": "20261127163000000", "flag": 1},
			&kit.AuthSyncRequest{Version: kit.V1, TenantID: "t", AppID: "a", Users: wantUsers, CurrentSyncTime: syncTime, Flag: kit.FlagAdd}},
		{"authSync V2 revoke, userList as an array", kit.V2, "authSync",
			map[string]any{"tenantId": "t", "appId": "a", "userList": json.RawMessage(users), "currentSyncTime": "20261127163000000", "flag": 3},
			&kit.AuthSyncRequest{Version: kit.V2, TenantID: "t", AppID: "a", Users: wantUsers, CurrentSyncTime: syncTime, Flag: kit.FlagRevoke}},
		{"authSync exactly 500 users", kit.V2, "authSync",
			map[string]any{"tenantId": "t", "appId": "a", "userList": json.RawMessage(usersJSON(500)), "currentSyncTime": "20261127163000000", "flag": 1}, nil},
		{"authSync unknown flag passed through", kit.V2, "authSync",
			map[string]any{"tenantId": "t", "appId": "a", "userList": json.RawMessage("[]"), "currentSyncTime": "20261127163000000", "flag": 9},
			&kit.AuthSyncRequest{Version: kit.V2, TenantID: "t", AppID: "a", Users: []kit.User{}, CurrentSyncTime: syncTime, Flag: 9}},
		{"singleOrgSync V2", kit.V2, "singleOrgSync",
			map[string]any{"tenantId": "t", "orgCode": "rd", "orgName": "R&D", "parentCode": "root", "flag": 1},
			&kit.SingleOrgSyncRequest{Version: kit.V2, TenantID: "t", OrgCode: "rd", OrgName: "R&D", ParentCode: "root", Flag: kit.FlagAdd}},
		{"singleOrgSync V1 with name", kit.V1, "singleOrgSync",
			map[string]any{"tenantId": "t", "orgCode": "rd", "name": "R&D", "flag": 2},
			&kit.SingleOrgSyncRequest{Version: kit.V1, TenantID: "t", OrgCode: "rd", OrgName: "R&D", Flag: kit.FlagModify}},
		{"allOrgSync V1 orgInfo string", kit.V1, "allOrgSync",
			map[string]any{"tenantId": "t", "orgInfo": orgsV1},
			&kit.AllOrgSyncRequest{Version: kit.V1, TenantID: "t", Orgs: wantOrgs}},
		{"allOrgSync V2 orgInfoList array", kit.V2, "allOrgSync",
			map[string]any{"tenantId": "t", "orgInfoList": json.RawMessage(orgsV2), "testFlag": 1},
			&kit.AllOrgSyncRequest{Version: kit.V2, TenantID: "t", Orgs: wantOrgs, TestFlag: true}},
		{"allOrgSync V2 orgInfoList quoted, as the doc example shows it [GAP]", kit.V2, "allOrgSync",
			map[string]any{"tenantId": "t", "orgInfoList": orgsV2},
			&kit.AllOrgSyncRequest{Version: kit.V2, TenantID: "t", Orgs: wantOrgs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &kitProvider{}
			clk := koogallerytest.NewClock(specKitTime)
			e := newKitEnv(t, p, nil, callback.WithClock(clk.Now))
			e.useClock(clk)
			var code string
			if tt.version == kit.V1 {
				code = e.sendV1(t, tt.iface, tt.body).ResultCode
			} else {
				code = e.sendV2(t, tt.iface, tt.body).ResultCode
			}
			require.Equal(t, "000000", code)
			got := withoutRaw(p.Last())
			if tt.version == kit.V1 {
				// The V1 sender stamped the body; compare the rest.
				clearTimeStamp(got)
			}
			if tt.want == nil {
				assert.Len(t, callbacktest.As[*kit.AuthSyncRequest](t, got).Users, kit.MaxUsers)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func clearTimeStamp(req any) {
	switch r := req.(type) {
	case *kit.TenantSyncRequest:
		r.TimeStamp = time.Time{}
	case *kit.ApplicationSyncRequest:
		r.TimeStamp = time.Time{}
	case *kit.AuthSyncRequest:
		r.TimeStamp = time.Time{}
	case *kit.SingleOrgSyncRequest:
		r.TimeStamp = time.Time{}
	case *kit.AllOrgSyncRequest:
		r.TimeStamp = time.Time{}
	}
}

func TestKitInvalidRequestsNeverReachProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		iface string
		body  string
		msg   string
	}{
		{"501 users", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":` + usersJSON(501) + `}`, "too many users in userList (at most 500)"},
		{"501 users in a string", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":` + strconv.Quote(usersJSON(501)) + `}`, "too many users in userList (at most 500)"},
		{"missing tenantId", "tenantSync", `{"flag":1}`, "missing tenantId"},
		{"missing flag", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d"}`, "missing flag"},
		{"flag not a number", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":"add"}`, "invalid flag"},
		{"flag an object", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":{"v":1}}`, "invalid flag"},
		{"bad testFlag", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":1,"testFlag":"yes"}`, "invalid testFlag"},
		{"bad timeStamp", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":1,"timeStamp":"yesterday"}`, "invalid timeStamp"},
		{"missing appId", "applicationSync", `{"tenantId":"t","flag":1}`, "missing appId"},
		{"userList an object", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":{"userName":"u"}}`, "invalid userList: not a JSON array"},
		{"userList string of garbage", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":"[{"}`, "invalid userList: not a JSON array"},
		{"userList of strings", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":["u"]}`, "invalid userList: not an array of objects"},
		{"user without userName", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"name":"n"}]}`, "missing userName in userList"},
		{"user with a null", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[null]}`, "invalid userList: not an array of objects"},
		{"bad enable", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"userName":"u","enable":"yes"}]}`, "invalid enable in userList"},
		{"bad employeeType", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"userName":"u","employeeType":"boss"}]}`, "invalid employeeType in userList"},
		{"object userName", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"userName":{"x":1}}]}`, "invalid userName in userList"},
		{"bad currentSyncTime", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"now"}`, "invalid currentSyncTime"},
		{"missing orgCode", "singleOrgSync", `{"tenantId":"t","flag":1}`, "missing orgCode"},
		{"missing orgName", "singleOrgSync", `{"tenantId":"t","orgCode":"o","flag":1}`, "missing orgName"},
		{"blank orgName", "singleOrgSync", `{"tenantId":"t","orgCode":"o","orgName":" ","flag":1}`, "missing orgName"},
		{"missing tenantCode", "tenantSync", `{"tenantId":"t","name":"n","domainName":"d","flag":1}`, "missing tenantCode"},
		{"missing name", "tenantSync", `{"tenantId":"t","tenantCode":"c","domainName":"d","flag":1}`, "missing name"},
		{"missing domainName", "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","flag":1}`, "missing domainName"},
		{"missing clientId", "applicationSync", `{"tenantId":"t","appId":"a","flag":1}`, "missing clientId"},
		{"missing currentSyncTime", "authSync", `{"tenantId":"t","appId":"a","flag":1,"userList":[]}`, "missing currentSyncTime"},
		{"missing userList", "authSync", `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000"}`, "missing userList"},
		{"empty userList", "authSync", `{"tenantId":"t","appId":"a","flag":0,"userList":"","currentSyncTime":"20261127163000000"}`, "missing userList"},
		{"missing org list", "allOrgSync", `{"tenantId":"t"}`, "missing orgInfoList"},
		{"org without orgCode", "allOrgSync", `{"tenantId":"t","orgInfoList":[{"orgName":"x"}]}`, "missing orgCode in orgInfoList"},
		{"orgInfo not an array", "allOrgSync", `{"tenantId":"t","orgInfo":"root"}`, "invalid orgInfo: not a JSON array"},
		{"orgInfoList of numbers", "allOrgSync", `{"tenantId":"t","orgInfoList":[1,2]}`, "invalid orgInfoList: not an array of objects"},
	}
	for _, tt := range tests {
		for _, version := range []kit.Version{kit.V1, kit.V2} {
			t.Run(tt.name+" V"+strconv.Itoa(int(version)), func(t *testing.T) {
				t.Parallel()
				p := &kitProvider{}
				e := newKitEnv(t, p, nil)
				var res *koogallerytest.Answer
				if version == kit.V1 {
					if strings.Contains(tt.body, `"timeStamp"`) {
						// With a window an unreadable V1 timeStamp is a
						// refusal (TestKitV1Window); without, it is invalid.
						e = newKitEnv(t, p, nil, callback.WithV1Window(0))
					}
					res = &e.sendV1(t, tt.iface, tt.body).Answer
				} else {
					res = e.sendV2(t, tt.iface, tt.body)
				}
				assert.Equal(t, "000002", res.ResultCode)
				assert.Equal(t, tt.msg, res.ResultMsg)
				assert.Zero(t, p.Calls.Load(), "provider must not be called")
			})
		}
	}

	t.Run("V2 body that is not a JSON object", func(t *testing.T) {
		t.Parallel()
		p := &kitProvider{}
		e := newKitEnv(t, p, nil)
		res := e.sendV2(t, "tenantSync", `[{"tenantId":"t"}]`)
		assert.Equal(t, "request body is not a JSON object", res.ResultMsg)
		assert.Zero(t, p.Calls.Load())
	})
}

func TestKitV1Window(t *testing.T) {
	t.Parallel()
	p := &kitProvider{}
	e := newKitEnv(t, p, nil)
	body := map[string]any{"tenantId": "t", "tenantCode": "c", "name": "n", "domainName": "d", "flag": 1}
	assert.Equal(t, "000001", e.sendV1(t, "tenantSync", body, koogallerytest.V1Stale()).ResultCode)
	assert.Equal(t, "000001", e.sendV1(t, "tenantSync", body, koogallerytest.V1At(time.Now().Add(25*time.Hour))).ResultCode)
	assert.Equal(t, "000001", e.sendV1(t, "tenantSync", `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":1,"timeStamp":"yesterday"}`).ResultCode)
	assert.Equal(t, "000001", e.sendV1(t, "tenantSync", body, koogallerytest.V1ForgedKey("guess")).ResultCode)
	assert.Equal(t, "000001", e.sendV1(t, "tenantSync", body, koogallerytest.V1Tampered()).ResultCode)
	assert.Equal(t, "000001", e.sendV2(t, "tenantSync", body, koogallerytest.Stale()).ResultCode)
	assert.Zero(t, p.Calls.Load())
	assert.Equal(t, "000000", e.sendV1(t, "tenantSync", body, koogallerytest.V1At(time.Now().Add(-23*time.Hour))).ResultCode)
}

func TestKitProviderErrors(t *testing.T) {
	t.Parallel()
	leak := "pq: password authentication failed for user \"billing\""
	for _, tt := range []struct {
		name      string
		err       error
		panics    bool
		code, msg string
	}{
		{"invalid parameter", kit.ErrInvalidParameter, false, "000002", "invalid parameter"},
		{"business code", kit.NewResultError("000107", "domain exists"), false, "000107", "domain exists"},
		{"plain error", errors.New(leak), false, "000005", "internal error"},
		{"panic", nil, true, "000005", "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &kitProvider{err: func(any) error {
				if tt.panics {
					panic(leak)
				}
				return tt.err
			}}
			e := newKitEnv(t, p, nil)
			body := map[string]any{"tenantId": "t", "tenantCode": "c", "name": "n", "domainName": "d", "flag": 1}
			r1 := e.sendV1(t, "tenantSync", body)
			r2 := e.sendV2(t, "tenantSync", body)
			for _, r := range []*koogallerytest.Answer{&r1.Answer, r2} {
				assert.Equal(t, tt.code, r.ResultCode)
				assert.Equal(t, tt.msg, r.ResultMsg)
				assert.NotContains(t, string(r.Body), "billing")
			}
			assert.NoError(t, r1.BodySignErr)
		})
	}
}

// Identical deliveries that succeeded are answered without calling the
// provider again; failures, and V2 bodies without timeStamp, are not.
func TestKitIdenticalDeliveries(t *testing.T) {
	t.Parallel()
	t.Run("V2 same body, new nonce", func(t *testing.T) {
		t.Parallel()
		p := &kitProvider{}
		e := newKitEnv(t, p, nil)
		body := `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":0,"timeStamp":"20261127163000123"}`
		for range 3 {
			assert.Equal(t, "000000", e.sendV2(t, "tenantSync", body).ResultCode)
		}
		assert.Equal(t, int64(1), p.Calls.Load())
		// The same body at another interface is another call.
		assert.Equal(t, "000000", e.sendV2(t, "singleOrgSync", `{"tenantId":"t","flag":0,"orgCode":"o","orgName":"O","timeStamp":"20261127163000123"}`).ResultCode)
		assert.Equal(t, int64(2), p.Calls.Load())
	})
	t.Run("V2 body without timeStamp: add, delete, add", func(t *testing.T) {
		t.Parallel()
		p := &kitProvider{}
		e := newKitEnv(t, p, nil)
		for _, body := range []string{`{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":1}`, `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":0}`, `{"tenantId":"t","tenantCode":"c","name":"n","domainName":"d","flag":1}`} {
			assert.Equal(t, "000000", e.sendV2(t, "tenantSync", body).ResultCode)
		}
		assert.Equal(t, int64(3), p.Calls.Load(), "the second add is a new event")
	})
	t.Run("V1 same signed call", func(t *testing.T) {
		t.Parallel()
		var attempts atomic.Int64
		p := &kitProvider{err: func(any) error {
			if attempts.Add(1) == 1 {
				return errors.New("database down")
			}
			return nil
		}}
		e := newKitEnv(t, p, nil)
		call, err := e.v1.SignKit(e.base+"/produceAPI/authSync", map[string]any{"tenantId": "t", "appId": "a", "flag": 0, "userList": "[]", "currentSyncTime": "20261127163000000"})
		require.NoError(t, err)
		for i, want := range []string{"000005", "000000", "000000"} {
			res, err := call.Send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, want, res.ResultCode, "delivery %d", i)
		}
		assert.Equal(t, int64(2), attempts.Load())
	})
	t.Run("V2 concurrent identical deliveries", func(t *testing.T) {
		t.Parallel()
		p := &kitProvider{err: func(any) error { time.Sleep(50 * time.Millisecond); return nil }}
		e := newKitEnv(t, p, nil)
		body := `{"tenantId":"t","appId":"a","flag":1,"currentSyncTime":"20261127163000000","userList":[{"userName":"u","role":"admin","enable":"true"}],"timeStamp":"20261127163000123"}`
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				call, err := e.v2.SignKit(e.base+"/produceAPI/v2/authSync", body)
				if !assert.NoError(t, err) {
					return
				}
				res, err := call.Send(context.Background())
				if assert.NoError(t, err) {
					assert.Equal(t, "000000", res.ResultCode)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(1), p.Calls.Load())
	})
}

var (
	kitKeyOnce sync.Once
	kitKey     *rsa.PrivateKey
)

// testKitKey is an RSA key shared by the tests (2048 bits for speed; the
// handler does not depend on the size).
func testKitKey(testing.TB) *rsa.PrivateKey {
	kitKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		kitKey = k
	})
	return kitKey
}

func TestKitClientSecret(t *testing.T) {
	t.Parallel()
	key := testKitKey(t)
	const secret = "cs-9f8e7d6c5b4a"
	sha256Secret, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, []byte(secret), nil)
	require.NoError(t, err)
	sha1Secret, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, []byte(secret), nil)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	foreign, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &other.PublicKey, []byte(secret), nil)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString

	for _, tt := range []struct {
		name, ciphertext string
		flag             int
		code             string
		want             string
	}{
		{"SHA-256 OAEP, Base64", b64(sha256Secret), 1, "000000", secret},
		{"SHA-1 OAEP, URL-safe Base64", base64.RawURLEncoding.EncodeToString(sha1Secret), 2, "000000", secret},
		{"another key's ciphertext, add", b64(foreign), 1, "000002", ""},
		{"another key's ciphertext, delete", b64(foreign), 0, "000000", ""},
		{"garbage, add", "not-a-ciphertext", 1, "000002", ""},
		{"absent, delete", "", 0, "000000", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &kitProvider{}
			e := newKitEnv(t, p, []string{secret}, kit.WithPrivateKey(key))
			body := map[string]any{"tenantId": "t", "appId": "a", "clientId": "c", "clientSecret": tt.ciphertext, "flag": tt.flag}
			for _, version := range []kit.Version{kit.V1, kit.V2} {
				p.Calls.Store(0)
				var res *koogallerytest.Answer
				if version == kit.V1 {
					res = &e.sendV1(t, "applicationSync", body).Answer
				} else {
					res = e.sendV2(t, "applicationSync", body)
				}
				require.Equal(t, tt.code, res.ResultCode, "V%d", version)
				assert.NotContains(t, string(res.Body), secret)
				if tt.code != "000000" {
					assert.Equal(t, "clientSecret cannot be decrypted", res.ResultMsg)
					assert.Zero(t, p.Calls.Load())
					continue
				}
				req := callbacktest.LastAs[*kit.ApplicationSyncRequest](t, &p.Recorder)
				assert.Equal(t, tt.want, req.ClientSecret)
				assert.Equal(t, tt.ciphertext, req.EncryptedClientSecret)
			}
			if tt.flag == 0 && tt.ciphertext != "" {
				assert.Contains(t, e.logs.String(), "clientSecret of a delete cannot be decrypted")
			}
		})
	}
}

func TestKitSecretHelpers(t *testing.T) {
	t.Parallel()
	key := testKitKey(t)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, []byte("s3cret"), nil)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	for _, data := range [][]byte{
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		[]byte(base64.StdEncoding.EncodeToString(der)),
	} {
		parsed, err := kit.ParsePrivateKey(data)
		require.NoError(t, err)
		got, err := kit.DecryptClientSecret(parsed, base64.StdEncoding.EncodeToString(ct))
		require.NoError(t, err)
		assert.Equal(t, "s3cret", got)
	}
	_, err = kit.ParsePrivateKey([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	assert.ErrorContains(t, err, "kit: parse private key")
	_, err = kit.DecryptClientSecret(key, "AAAA")
	assert.ErrorContains(t, err, "kit: decrypt clientSecret")
	assert.NotContains(t, err.Error(), "AAAA")
}

func TestNewKitHandlerMisuse(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "kit: nil Provider", func() { kit.NewHandler(accessKey, nil) })
	assert.PanicsWithValue(t, "kit: empty key", func() { kit.NewHandler("", &kitProvider{}) })
}

func TestKitFlagString(t *testing.T) {
	t.Parallel()
	for f, want := range map[kit.Flag]string{kit.FlagDelete: "delete", kit.FlagAdd: "add", kit.FlagModify: "modify",
		kit.FlagRevoke: "revoke", 9: "9"} {
		assert.Equal(t, want, f.String())
	}
}
