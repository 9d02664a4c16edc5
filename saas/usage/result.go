package usage

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/isvkit/koogallery/internal/wire"
)

// Result is KooGallery's answer to a usage push.
type Result struct {
	// Code and Message are error_code and error_msg (MKT.0000 on success).
	Code, Message string
	// Abnormal lists the records KooGallery reported as failed, when it
	// reported any; they must be corrected and pushed again.
	Abnormal []Abnormal
	// Raw is the answer's JSON as received (for a failure: its extra_info).
	Raw json.RawMessage
}

// Abnormal is one record KooGallery reported as failed.
//
// The AbnormalUsageData table is documented only in part (the usage-push API
// reference says only "a record-level error description, String 255"), and
// where it sits in the answer is not documented at all. The decoder is
// therefore tolerant: it takes the first list of JSON objects found in the
// answer's data member or any other member (preferring names containing
// "abnormal"), at most two levels deep, and reads each object's fields
// under the usual spellings (metering_sn or meteringSn, instance_id or
// instanceId, error_code or code, error_msg, error_description, message,
// reason, ...). Raw keeps each object as received.
type Abnormal struct {
	MeteringSN string
	InstanceID string
	// Code is the record's error code, when one was given.
	Code string
	// Message is the record's error description.
	Message string
	// Raw is the object as received.
	Raw json.RawMessage
}

// UnmarshalJSON decodes an answer of the usage push tolerantly.
func (r *Result) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	*r = Result{Raw: append(json.RawMessage(nil), b...)}
	r.Code = wire.Text(top["error_code"])
	r.Message = wire.Text(top["error_msg"])
	delete(top, "error_code")
	delete(top, "error_msg")
	delete(top, "request_id")
	r.Abnormal = findAbnormalIn(top, 0)
	return nil
}

// maxAbnormalDepth bounds how deep findAbnormal looks for the list.
const maxAbnormalDepth = 2

// findAbnormal returns the records of the first list of objects in raw.
func findAbnormal(raw json.RawMessage, depth int) []Abnormal {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		var out []Abnormal
		for _, it := range items {
			if a, ok := decodeAbnormal(it); ok {
				out = append(out, a)
			}
		}
		return out
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		if a, ok := decodeAbnormal(raw); ok && depth > 0 && isRecordLike(obj) {
			return []Abnormal{a} // a single failed record, not in a list
		}
		if depth >= maxAbnormalDepth {
			return nil
		}
		return findAbnormalIn(obj, depth)
	}
	return nil
}

// findAbnormalIn looks through an object's members: data first, then
// names containing "abnormal", then the rest in name order.
func findAbnormalIn(obj map[string]json.RawMessage, depth int) []Abnormal {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	rank := func(k string) int {
		switch l := strings.ToLower(k); {
		case l == "data":
			return 0
		case strings.Contains(l, "abnormal"):
			return 1
		}
		return 2
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	for _, k := range names {
		if out := findAbnormal(obj[k], depth+1); len(out) > 0 {
			return out
		}
	}
	return nil
}

// abnormalFields maps a normalised member name (lower case, no '_' or '-')
// to the Abnormal field it fills; earlier spellings win.
var abnormalFields = []struct {
	names []string
	set   func(*Abnormal, string)
}{
	{[]string{"meteringsn", "meteringno"}, func(a *Abnormal, v string) { a.MeteringSN = v }},
	{[]string{"instanceid"}, func(a *Abnormal, v string) { a.InstanceID = v }},
	{[]string{"errorcode", "code"}, func(a *Abnormal, v string) { a.Code = v }},
	{[]string{"errormsg", "errormessage", "errordescription", "errordesc", "errorinfo", "error", "message", "msg",
		"description", "desc", "reason", "failreason", "failedreason"}, func(a *Abnormal, v string) { a.Message = v }},
}

func normName(k string) string {
	k = strings.ToLower(k)
	return strings.NewReplacer("_", "", "-", "").Replace(k)
}

// decodeAbnormal reads one object; ok is false when it is not an object or
// carries none of the known fields.
func decodeAbnormal(raw json.RawMessage) (Abnormal, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return Abnormal{}, false
	}
	// Sorted, so that of two spellings of one name the same one always wins.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	norm := make(map[string]string, len(obj))
	for _, k := range keys {
		if n := normName(k); norm[n] == "" {
			norm[n] = wire.Text(obj[k])
		}
	}
	a := Abnormal{Raw: append(json.RawMessage(nil), bytes.TrimSpace(raw)...)}
	found := false
	for _, f := range abnormalFields {
		for _, n := range f.names {
			if v, ok := norm[n]; ok && v != "" {
				f.set(&a, v)
				found = true
				break
			}
		}
	}
	return a, found
}

// isRecordLike reports whether an object names a record.
func isRecordLike(obj map[string]json.RawMessage) bool {
	for k := range obj {
		switch normName(k) {
		case "meteringsn", "meteringno", "instanceid":
			return true
		}
	}
	return false
}
