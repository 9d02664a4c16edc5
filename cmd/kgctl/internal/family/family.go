// Package family describes the kinds of production interface KooGallery
// calls (SaaS V2 and V1, the joint-operation kit V2 and V1, License,
// orderNotify): how each is signed, its activities, the result codes it may
// answer, and the testFlag=1 calls KooGallery's probing sends.
package family

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// Scheme is how a family's calls are signed.
type Scheme int

const (
	SchemeV2    Scheme = iota // ?signature=&timestamp=&nonce=, two-stage HMAC
	SchemeKitV2               // x-sign, x-timestamp, x-nonce headers
	SchemeV1                  // GET, authToken and timeStamp query parameters, Body-Sign
	SchemeKitV1               // POST, authToken header, timeStamp in the body, Body-Sign
)

// V1 and Kit say which of the kinds s is.
func (s Scheme) V1() bool { return s == SchemeV1 || s == SchemeKitV1 }

// Kit reports whether s is one of the joint-operation kit's schemes.
func (s Scheme) Kit() bool { return s == SchemeKitV2 || s == SchemeKitV1 }

// family is one kind of production interface.
type Family struct {
	Name       string
	Title      string
	Scheme     Scheme
	Env        string   // where its key is read from
	Activities []string // every activity (kit: interface), in probe order
}

// All are the families, in the order help lists them.
var All = []*Family{
	{Name: "saas", Title: "SaaS V2 basic interface", Scheme: SchemeV2, Env: cmdutil.EnvAccessKey,
		Activities: []string{"newInstance", "queryInstance", "refreshInstance", "updateInstanceStatus", "upgradeInstance", "releaseInstance"}},
	{Name: "saas-v1", Title: "SaaS V1 basic interface", Scheme: SchemeV1, Env: cmdutil.EnvV1Key,
		Activities: []string{"newInstance", "queryInstance", "refreshInstance", "expireInstance", "instanceStatus", "upgrade", "releaseInstance"}},
	{Name: "kit", Title: "joint-operation kit V2", Scheme: SchemeKitV2, Env: cmdutil.EnvKitKey,
		Activities: KitInterfaces},
	{Name: "kit-v1", Title: "joint-operation kit V1", Scheme: SchemeKitV1, Env: cmdutil.EnvKitKey,
		Activities: KitInterfaces},
	{Name: "license", Title: "License 2.0", Scheme: SchemeV2, Env: cmdutil.EnvAccessKey,
		Activities: []string{"refreshLicenseCode", "updateLicenseCodeStatus", "releaseLicenseCode"}},
	{Name: "order", Title: "order notification", Scheme: SchemeV2, Env: cmdutil.EnvAccessKey,
		Activities: []string{"orderNotify"}},
}

// KitInterfaces are the kit's interfaces, in probe order.
var KitInterfaces = []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync"}

var aliases = map[string]string{
	"v2": "saas", "saas-v2": "saas", "v1": "saas-v1", "kit-v2": "kit", "ordernotify": "order", "orders": "order",
}

// Names lists the families' names, for messages.
func Names() string {
	names := make([]string, len(All))
	for i, f := range All {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// Lookup finds a family by name or alias, case-insensitively.
func Lookup(name string) (*Family, error) {
	n := strings.ToLower(name)
	if a, ok := aliases[n]; ok {
		n = a
	}
	for _, f := range All {
		if f.Name == n {
			return f, nil
		}
	}
	return nil, cmdutil.UsageErr("unknown family %q (one of %s)", name, Names())
}

// Activity returns the activity of f spelled name, case-insensitively.
func (f *Family) Activity(name string) (string, error) {
	for _, a := range f.Activities {
		if strings.EqualFold(a, name) {
			return a, nil
		}
	}
	return "", cmdutil.UsageErr("%s has no activity %q (one of %s)", f.Name, name, strings.Join(f.Activities, ", "))
}

// AllowedCodes returns the result codes the documentation lists for an
// activity's answer: the general ones, 000003 where the call names an
// instance or licence code, and the business codes of purchases.
func AllowedCodes(f *Family, activity string) map[string]bool {
	codes := map[string]bool{"000000": true, "000001": true, "000002": true, "000004": true, "000005": true}
	switch {
	case f.Scheme.Kit(), activity == "orderNotify":
	case activity == "newInstance" || activity == "upgradeInstance" || activity == "upgrade":
		for c := 100; c <= 107; c++ {
			codes[fmt.Sprintf("000%d", c)] = true
		}
		if activity != "newInstance" {
			codes["000003"] = true
		}
	default:
		codes["000003"] = true
	}
	return codes
}

// CodeList returns the codes sorted, space-separated.
func CodeList(codes map[string]bool) string {
	l := make([]string, 0, len(codes))
	for c := range codes {
		l = append(l, c)
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

// IDs are the identifiers a sequence of calls shares.
type IDs struct {
	OrderID, OrderLineID, InstanceID, License string
	TenantID, AppID, OrgCode                  string
}

// NewIDs makes up a fresh set of identifiers.
func NewIDs() *IDs {
	o := "KGCTL" + strings.ToUpper(RandomHex(6))
	return &IDs{
		OrderID:     o,
		OrderLineID: o + "-000001",
		InstanceID:  "kgctl-instance-" + RandomHex(4),
		License:     "KGCTL-LICENSE-" + strings.ToUpper(RandomHex(4)),
		TenantID:    "kgctl-tenant-" + RandomHex(4),
		AppID:       "kgctl-app-" + RandomHex(4),
		OrgCode:     "kgctl-org-" + RandomHex(4),
	}
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// BusinessID returns a random UUID, as KooGallery's businessId.
func BusinessID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// fields builds the body (V2, kit) or parameters (V1) of a testFlag=1 call
// of activity, the way KooGallery's probing sends it. Values are strings
// except for the kit's numbers.
func Fields(f *Family, activity string, id *IDs, now time.Time) map[string]any {
	utc14 := now.UTC().AddDate(1, 0, 0).Format("20060102150405")
	switch f.Scheme {
	case SchemeV2:
		return v2Fields(activity, id, utc14)
	case SchemeV1:
		return v1Fields(activity, id, utc14)
	}
	return kitFields(f.Scheme == SchemeKitV1, activity, id, now)
}

// v2Fields is the body of a V2 basic-interface call (SaaS, License,
// orderNotify).
func v2Fields(activity string, id *IDs, utc14 string) map[string]any {
	m := map[string]any{"activity": activity, "testFlag": "1"}
	switch activity {
	case "newInstance":
		m["orderId"], m["orderLineId"], m["businessId"] = id.OrderID, id.OrderLineID, BusinessID()
	case "queryInstance", "updateInstanceStatus", "releaseInstance":
		m["instanceId"] = id.InstanceID
		if activity == "updateInstanceStatus" {
			m["status"] = "FREEZE"
		}
	case "refreshInstance":
		m["scene"], m["orderId"], m["orderLineId"], m["instanceId"], m["expireTime"] = "RENEWAL", id.OrderID+"R", id.OrderID+"R-000001", id.InstanceID, utc14
	case "upgradeInstance":
		m["orderId"], m["orderLineId"], m["instanceId"] = id.OrderID+"U", id.OrderID+"U-000001", id.InstanceID
	case "refreshLicenseCode":
		m["scene"], m["orderId"], m["orderLineId"], m["license"], m["expireTime"] = "RENEWAL", id.OrderID+"R", id.OrderID+"R-000001", id.License, utc14
	case "updateLicenseCodeStatus":
		m["license"], m["status"] = id.License, "FREEZE"
	case "releaseLicenseCode":
		m["license"] = id.License
	case "orderNotify":
		m["orderId"], m["orderLineId"] = id.OrderID, id.OrderLineID
	}
	return m
}

// v1Fields are the query parameters of a SaaS V1 call.
func v1Fields(activity string, id *IDs, utc14 string) map[string]any {
	m := map[string]any{"activity": activity, "testFlag": "1"}
	switch activity {
	case "newInstance":
		m["customerId"], m["customerName"] = "kgctl-customer", "kgctl"
		m["businessId"], m["orderId"] = BusinessID(), id.OrderID
		m["skuCode"], m["productId"] = "kgctl-sku", "OFFIKGCTL0001"
		m["chargingMode"], m["periodType"], m["periodNumber"], m["expireTime"] = "1", "year", "1", utc14
	case "queryInstance", "releaseInstance", "expireInstance":
		m["instanceId"] = id.InstanceID
		if activity != "queryInstance" {
			m["orderId"] = id.OrderID
		}
	case "refreshInstance":
		m["orderId"], m["instanceId"], m["productId"], m["expireTime"] = id.OrderID+"R", id.InstanceID, "OFFIKGCTL0001", utc14
		m["periodType"], m["periodNumber"] = "year", "1"
	case "instanceStatus":
		m["instanceId"], m["instanceStatus"] = id.InstanceID, "FREEZE"
	case "upgrade":
		m["orderId"], m["instanceId"], m["skuCode"], m["productId"] = id.OrderID+"U", id.InstanceID, "kgctl-sku-2", "OFFIKGCTL0002"
	}
	return m
}

// kitFields is the body of a kit call, V1 or V2.
func kitFields(v1 bool, activity string, id *IDs, now time.Time) map[string]any {
	// The kit: instanceId and orderId are empty in the seller's own debugging
	// calls, and set for real orders; testFlag and flag are numbers.
	m := map[string]any{"instanceId": "", "tenantId": id.TenantID, "testFlag": 1}
	if !v1 {
		m["timeStamp"] = now.In(GMT8).Format("20060102150405") + fmt.Sprintf("%03d", now.Nanosecond()/1e6)
	}
	switch activity {
	case "tenantSync":
		m["orderId"], m["tenantCode"], m["name"], m["domainName"], m["flag"] = "", "kgctl", "kgctl probe", "https://kgctl.example.com", 1
	case "applicationSync":
		m["appId"], m["clientId"], m["clientSecret"], m["flag"] = id.AppID, "kgctl-client", "", 1
	case "authSync":
		users := []map[string]any{{"userName": "kgctl-user", "name": "kgctl", "orgCode": id.OrgCode, "role": "admin", "enable": "true"}}
		m["appId"], m["userList"], m["flag"] = id.AppID, jsonValue(users, v1), 1
		m["currentSyncTime"] = now.In(GMT8).Format("20060102150405") + "000"
	case "singleOrgSync":
		m["orgCode"], m["orgName"], m["parentCode"], m["flag"] = id.OrgCode, "kgctl", "", 1
	case "allOrgSync":
		if v1 {
			m["orgInfo"] = jsonValue([]map[string]string{{"orgCode": id.OrgCode, "name": "kgctl", "parentCode": ""}}, true)
		} else {
			m["orgInfoList"] = []map[string]string{{"orgCode": id.OrgCode, "orgName": "kgctl", "parentCode": ""}}
		}
	}
	return m
}

// GMT8 is the zone of the kit's timestamps.
var GMT8 = time.FixedZone("GMT+8", 8*3600)

// jsonValue is v itself (V2 kit: arrays) or its JSON text (V1 kit: strings).
func jsonValue(v any, asString bool) any {
	if !asString {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// SetField applies one --field: k=v sets a string (a number where the
// default value is one), k:=JSON sets any JSON value.
func SetField(m map[string]any, spec string, typed bool) error {
	if k, v, ok := strings.Cut(spec, ":="); ok && !strings.Contains(k, "=") {
		var raw json.RawMessage
		if !json.Valid([]byte(v)) {
			return cmdutil.UsageErr("--field %s: the value after := is not JSON", k)
		}
		raw = json.RawMessage(v)
		if !typed {
			// V1 parameters and V2 basic bodies carry strings only.
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return cmdutil.UsageErr("--field %s: this family sends strings only; use %s=VALUE", k, k)
			}
			m[k] = s
			return nil
		}
		m[k] = raw
		return nil
	}
	k, v, ok := strings.Cut(spec, "=")
	if !ok || k == "" {
		return cmdutil.UsageErr("--field %q: want NAME=VALUE or NAME:=JSON", spec)
	}
	if typed {
		if _, isNum := m[k].(int); isNum {
			if n, err := strconv.Atoi(v); err == nil {
				m[k] = n
				return nil
			}
		}
	}
	m[k] = v
	return nil
}

// params turns V1 fields into query parameters.
func Params(m map[string]any) map[string]string {
	p := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			p[k] = v
		default:
			b, _ := json.Marshal(v)
			p[k] = string(b)
		}
	}
	return p
}

// CodeSlice returns the codes sorted.
func CodeSlice(m map[string]bool) []string {
	s := make([]string, 0, len(m))
	for c := range m {
		s = append(s, c)
	}
	sort.Strings(s)
	return s
}
