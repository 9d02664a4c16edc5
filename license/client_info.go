package license

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/internal/wire"
)

// CodeStatus is the state of a licence code as the open APIs report it.
// (Status, in this package, is what the updateLicenseCodeStatus callback
// asks for.) Unknown values are kept as they arrive.
type CodeStatus string

// Code statuses.
const (
	CodeStatusAlive    CodeStatus = "ALIVE"    // in use
	CodeStatusExpired  CodeStatus = "EXPIRED"  // past its expiry
	CodeStatusReleased CodeStatus = "RELEASED" // released (unsubscribed)
)

// CodeInfo is license_code_info, the code's details returned by activation.
// On the wire it is a JSON string whose content is a JSON object; it is
// decoded twice. An object sent directly, without the string wrapping, is
// accepted too.
type CodeInfo struct {
	Status CodeStatus
	// ExpireTime is the expected expiry, in UTC. The API calls it an
	// estimate: the heartbeat (Heartbeat) is authoritative.
	ExpireTime time.Time
	ProductID  string
	OrderID    string
	// Amount is the quantity attribute the code was priced with.
	Amount int64
	// Raw is the decoded object as received (after the string unwrapping),
	// for fields this type does not know.
	Raw json.RawMessage
}

// errNotInfo is the decoding failure of a license_code_info that holds no
// JSON object.
var errNotInfo = errors.New("license: license_code_info is not a JSON object or a string holding one")

// UnmarshalJSON decodes license_code_info: a string holding a JSON object,
// or the object itself. Each known member is read tolerantly (numbers as
// strings and the reverse, any compact time layout); a member of an
// unexpected type is left at its zero value rather than failing the whole
// answer, and stays visible in Raw.
func (ci *CodeInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var inner string
		if err := json.Unmarshal(b, &inner); err != nil {
			return err
		}
		b = bytes.TrimSpace([]byte(inner))
	}
	var obj map[string]json.RawMessage
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &obj) != nil {
		return errNotInfo
	}
	*ci = CodeInfo{Raw: append(json.RawMessage(nil), b...)}
	ci.Status = CodeStatus(text(obj["status"]))
	ci.ExpireTime = timeOf(obj["expire_time"])
	ci.ProductID = text(obj["product_id"])
	ci.OrderID = text(obj["order_id"])
	var amount wire.Int
	if raw, ok := obj["amount"]; ok && json.Unmarshal(raw, &amount) == nil {
		ci.Amount = int64(amount)
	}
	return nil
}

// ParseCodeInfo decodes a license_code_info value as it appears in an
// answer: the JSON string (quotes included) or the object.
func ParseCodeInfo(raw []byte) (*CodeInfo, error) {
	var ci CodeInfo
	if err := ci.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return &ci, nil
}

// LicenseInfo is what KooGallery reports about one licence code: the data
// of the heartbeat (query) API, and one entry of a batch (v2) answer.
//
// Only license_code, status and activate_time are documented for the
// heartbeat by the licence API reference, and the batch answers are not
// documented at all. The decoder reads the code
// under license_code, license or licenseCode, the expiry under expire_time
// or expireTime, a per-code result under error_code/error_msg, and a nested
// license_code_info; Raw keeps the object as received.
type LicenseInfo struct {
	// License is the licence code.
	License string
	Status  CodeStatus
	// ActivateTime is when the code was activated, in UTC. Its format is
	// not documented; any compact layout KooGallery uses (yyyyMMddHHmmss,
	// with milliseconds, ISO basic, epoch milliseconds) is read, and an
	// unreadable one leaves it zero (see Raw).
	ActivateTime time.Time
	// ExpireTime is when the code expires, in UTC, when the answer says.
	ExpireTime time.Time
	// CodeInfo is the nested license_code_info, when the answer has one.
	CodeInfo *CodeInfo
	// ResultCode and ResultMessage are the code's own result in a batch
	// answer (empty when the answer gives none); see Err.
	ResultCode    string
	ResultMessage string
	// Raw is the object as received.
	Raw json.RawMessage
}

// Err returns nil when the entry carries no result code or a success code,
// else a *koogallery.APIError for the code, so that errors.Is works against
// the koogallery sentinels (92020005 is koogallery.ErrNotFound, 92020004
// koogallery.ErrInvalidRequest).
func (li *LicenseInfo) Err() error {
	switch li.ResultCode {
	case "", "92020000", "MKT.0000", "CBC.0000":
		return nil
	}
	return &koogallery.APIError{StatusCode: http.StatusOK, Code: li.ResultCode, Message: li.ResultMessage}
}

// UnmarshalJSON decodes one licence entry tolerantly.
func (li *LicenseInfo) UnmarshalJSON(b []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	if obj == nil {
		return errors.New("license: licence entry is null")
	}
	*li = LicenseInfo{Raw: append(json.RawMessage(nil), bytes.TrimSpace(b)...)}
	li.License = first(obj, "license_code", "license", "licenseCode")
	li.Status = CodeStatus(first(obj, "status", "license_status"))
	li.ActivateTime = timeOf(firstRaw(obj, "activate_time", "activateTime", "active_time"))
	li.ExpireTime = timeOf(firstRaw(obj, "expire_time", "expireTime"))
	li.ResultCode = first(obj, "error_code", "errorCode", "result_code")
	li.ResultMessage = first(obj, "error_msg", "errorMsg", "result_msg", "error_message")
	if raw := firstRaw(obj, "license_code_info", "licenseCodeInfo"); raw != nil {
		if ci, err := ParseCodeInfo(raw); err == nil {
			li.CodeInfo = ci
			if li.Status == "" {
				li.Status = ci.Status
			}
			if li.ExpireTime.IsZero() {
				li.ExpireTime = ci.ExpireTime
			}
		}
	}
	return nil
}

// BatchResult is the answer of a batch (v2) call.
type BatchResult struct {
	// Licenses holds the per-code entries the answer lists, in its order.
	// The v2 answer schema is not documented: the
	// decoder takes data when it is a list, the first list member of data
	// when it is an object, a single entry when data is one, or an object
	// keyed by licence code. Licenses is empty when it finds none.
	Licenses []LicenseInfo
	// Raw is data as received.
	Raw json.RawMessage
}

// Find returns the entry for a licence code, or nil.
func (r *BatchResult) Find(license string) *LicenseInfo {
	for i := range r.Licenses {
		if r.Licenses[i].License == license {
			return &r.Licenses[i]
		}
	}
	return nil
}

// decodeBatch reads a v2 answer's data member.
func decodeBatch(data json.RawMessage) *BatchResult {
	res := &BatchResult{Raw: data}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return res
	}
	res.Licenses = entries(data, 0)
	return res
}

func entries(data json.RawMessage, depth int) []LicenseInfo {
	switch data[0] {
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil
		}
		var out []LicenseInfo
		for _, it := range items {
			var li LicenseInfo
			if t := bytes.TrimSpace(it); len(t) > 0 && t[0] == '"' {
				// A bare list of codes: keep them, the rest unknown.
				li.License, li.Raw = text(t), append(json.RawMessage(nil), t...)
				out = append(out, li)
				continue
			}
			if li.UnmarshalJSON(it) == nil {
				out = append(out, li)
			}
		}
		return out
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		if first(obj, "license_code", "license", "licenseCode") != "" {
			var li LicenseInfo
			if li.UnmarshalJSON(data) == nil {
				return []LicenseInfo{li}
			}
		}
		if depth > 0 {
			return nil
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v := bytes.TrimSpace(obj[k]); len(v) > 0 && v[0] == '[' {
				if out := entries(v, depth+1); len(out) > 0 {
					return out
				}
			}
		}
		// An object keyed by licence code.
		var out []LicenseInfo
		for _, k := range keys {
			v := bytes.TrimSpace(obj[k])
			if len(v) == 0 || v[0] != '{' {
				return nil
			}
			var li LicenseInfo
			if li.UnmarshalJSON(v) != nil {
				return nil
			}
			if li.License == "" {
				li.License = k
			}
			out = append(out, li)
		}
		return out
	}
	return nil
}

// first returns the text of the first member present with a scalar value.
func first(obj map[string]json.RawMessage, names ...string) string {
	for _, n := range names {
		if v := text(obj[n]); v != "" {
			return v
		}
	}
	return ""
}

func firstRaw(obj map[string]json.RawMessage, names ...string) json.RawMessage {
	for _, n := range names {
		if v, ok := obj[n]; ok && string(v) != "null" {
			return v
		}
	}
	return nil
}

// text returns a JSON scalar's text; "" for null, objects, arrays and
// invalid JSON.
func text(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s wire.String
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(string(s))
}

// timeOf parses a compact time; zero when absent or unreadable.
func timeOf(raw json.RawMessage) time.Time {
	var t wire.Time
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return time.Time{}
	}
	return time.Time(t)
}
