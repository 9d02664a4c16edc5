package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// scheme is how a family's calls are signed.
type scheme int

const (
	schemeV2    scheme = iota // ?signature=&timestamp=&nonce=, two-stage HMAC
	schemeKitV2               // x-sign, x-timestamp, x-nonce headers
	schemeV1                  // GET, authToken and timeStamp query parameters, Body-Sign
	schemeKitV1               // POST, authToken header, timeStamp in the body, Body-Sign
)

func (s scheme) v1() bool  { return s == schemeV1 || s == schemeKitV1 }
func (s scheme) kit() bool { return s == schemeKitV2 || s == schemeKitV1 }

// family is one kind of production interface.
type family struct {
	name       string
	title      string
	scheme     scheme
	env        string   // where its key is read from
	activities []string // every activity (kit: interface), in probe order
}

var families = []*family{
	{name: "saas", title: "SaaS V2 basic interface", scheme: schemeV2, env: envAccessKey,
		activities: []string{"newInstance", "queryInstance", "refreshInstance", "updateInstanceStatus", "upgradeInstance", "releaseInstance"}},
	{name: "saas-v1", title: "SaaS V1 basic interface", scheme: schemeV1, env: envV1Key,
		activities: []string{"newInstance", "queryInstance", "refreshInstance", "expireInstance", "instanceStatus", "upgrade", "releaseInstance"}},
	{name: "kit", title: "joint-operation kit V2", scheme: schemeKitV2, env: envKitKey,
		activities: kitInterfaces},
	{name: "kit-v1", title: "joint-operation kit V1", scheme: schemeKitV1, env: envKitKey,
		activities: kitInterfaces},
	{name: "license", title: "License 2.0", scheme: schemeV2, env: envAccessKey,
		activities: []string{"refreshLicenseCode", "updateLicenseCodeStatus", "releaseLicenseCode"}},
	{name: "order", title: "order notification", scheme: schemeV2, env: envAccessKey,
		activities: []string{"orderNotify"}},
}

var kitInterfaces = []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync"}

var familyAliases = map[string]string{
	"v2": "saas", "saas-v2": "saas", "v1": "saas-v1", "kit-v2": "kit", "ordernotify": "order", "orders": "order",
}

func familyNames() string {
	names := make([]string, len(families))
	for i, f := range families {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

func lookupFamily(name string) (*family, error) {
	n := strings.ToLower(name)
	if a, ok := familyAliases[n]; ok {
		n = a
	}
	for _, f := range families {
		if f.name == n {
			return f, nil
		}
	}
	return nil, usageErr("unknown family %q (one of %s)", name, familyNames())
}

func (f *family) activity(name string) (string, error) {
	for _, a := range f.activities {
		if strings.EqualFold(a, name) {
			return a, nil
		}
	}
	return "", usageErr("%s has no activity %q (one of %s)", f.name, name, strings.Join(f.activities, ", "))
}

// allowedCodes returns the result codes the documentation lists for an
// activity's answer: the general ones, 000003 where the call names an
// instance or licence code, and the business codes of purchases.
func allowedCodes(f *family, activity string) map[string]bool {
	codes := map[string]bool{"000000": true, "000001": true, "000002": true, "000004": true, "000005": true}
	switch {
	case f.scheme.kit(), activity == "orderNotify":
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

func codeList(codes map[string]bool) string {
	l := make([]string, 0, len(codes))
	for c := range codes {
		l = append(l, c)
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

// ids are the identifiers a sequence of calls shares.
type ids struct {
	OrderID, OrderLineID, InstanceID, License string
	TenantID, AppID, OrgCode                  string
}

func newIDs() *ids {
	o := "KGCTL" + strings.ToUpper(randomHex(6))
	return &ids{
		OrderID:     o,
		OrderLineID: o + "-000001",
		InstanceID:  "kgctl-instance-" + randomHex(4),
		License:     "KGCTL-LICENSE-" + strings.ToUpper(randomHex(4)),
		TenantID:    "kgctl-tenant-" + randomHex(4),
		AppID:       "kgctl-app-" + randomHex(4),
		OrgCode:     "kgctl-org-" + randomHex(4),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func businessID() string {
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
func fields(f *family, activity string, id *ids, now time.Time) map[string]any {
	utc14 := now.UTC().AddDate(1, 0, 0).Format("20060102150405")
	switch f.scheme {
	case schemeV2:
		m := map[string]any{"activity": activity, "testFlag": "1"}
		switch activity {
		case "newInstance":
			m["orderId"], m["orderLineId"], m["businessId"] = id.OrderID, id.OrderLineID, businessID()
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
	case schemeV1:
		m := map[string]any{"activity": activity, "testFlag": "1"}
		switch activity {
		case "newInstance":
			m["customerId"], m["customerName"] = "kgctl-customer", "kgctl"
			m["businessId"], m["orderId"] = businessID(), id.OrderID
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
	// The kit: instanceId and orderId are empty in the seller's own debugging
	// calls, and set for real orders; testFlag and flag are numbers.
	v1 := f.scheme == schemeKitV1
	m := map[string]any{"instanceId": "", "tenantId": id.TenantID, "testFlag": 1}
	if !v1 {
		m["timeStamp"] = now.In(gmt8).Format("20060102150405") + fmt.Sprintf("%03d", now.Nanosecond()/1e6)
	}
	switch activity {
	case "tenantSync":
		m["orderId"], m["tenantCode"], m["name"], m["domainName"], m["flag"] = "", "kgctl", "kgctl probe", "https://kgctl.example.com", 1
	case "applicationSync":
		m["appId"], m["clientId"], m["clientSecret"], m["flag"] = id.AppID, "kgctl-client", "", 1
	case "authSync":
		users := []map[string]any{{"userName": "kgctl-user", "name": "kgctl", "orgCode": id.OrgCode, "role": "admin", "enable": "true"}}
		m["appId"], m["userList"], m["flag"] = id.AppID, jsonValue(users, v1), 1
		m["currentSyncTime"] = now.In(gmt8).Format("20060102150405") + "000"
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

var gmt8 = time.FixedZone("GMT+8", 8*3600)

// jsonValue is v itself (V2 kit: arrays) or its JSON text (V1 kit: strings).
func jsonValue(v any, asString bool) any {
	if !asString {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// setField applies one --field: k=v sets a string (a number where the
// default value is one), k:=JSON sets any JSON value.
func setField(m map[string]any, spec string, typed bool) error {
	if k, v, ok := strings.Cut(spec, ":="); ok && !strings.Contains(k, "=") {
		var raw json.RawMessage
		if !json.Valid([]byte(v)) {
			return usageErr("--field %s: the value after := is not JSON", k)
		}
		raw = json.RawMessage(v)
		if !typed {
			// V1 parameters and V2 basic bodies carry strings only.
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return usageErr("--field %s: this family sends strings only; use %s=VALUE", k, k)
			}
			m[k] = s
			return nil
		}
		m[k] = raw
		return nil
	}
	k, v, ok := strings.Cut(spec, "=")
	if !ok || k == "" {
		return usageErr("--field %q: want NAME=VALUE or NAME:=JSON", spec)
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
func params(m map[string]any) map[string]string {
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
