package license

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/isvkit/koogallery"
)

// SoftwareUsage is one usage_info entry of ReportSoftwareUsage: the day's
// use of the software under one licence code.
type SoftwareUsage struct {
	// License is the licence code.
	License string
	// Entries are the day's reports (1 to 100), each either a client
	// identity or a count of active clients; build them with ActiveClientID
	// and ActiveClientCount.
	Entries []UsageEntry
}

// UsageEntry is one software_usage_Info report: exactly one of ID and
// ActiveNum is set.
type UsageEntry struct {
	// ID is the identity of a client that used the software (an account ID,
	// a device code; at most 256 characters), for counting active clients.
	ID string
	// ActiveNum is the day's total of active clients (1 to 999,999,999).
	ActiveNum int64
}

// ActiveClientID reports one client by its identity.
func ActiveClientID(id string) UsageEntry { return UsageEntry{ID: id} }

// ActiveClientCount reports the day's number of active clients.
func ActiveClientCount(n int64) UsageEntry { return UsageEntry{ActiveNum: n} }

// MarshalJSON writes {"id":…} or {"active_num":…}.
func (e UsageEntry) MarshalJSON() ([]byte, error) {
	if e.ID != "" {
		return json.Marshal(struct {
			ID string `json:"id"`
		}{e.ID})
	}
	return json.Marshal(struct {
		ActiveNum int64 `json:"active_num"`
	}{e.ActiveNum})
}

// MarshalJSON writes the entry with the wire's member names, including its
// spelling software_usage_Info.
func (u SoftwareUsage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		License string       `json:"license"`
		Entries []UsageEntry `json:"software_usage_Info"`
	}{u.License, u.Entries})
}

const maxActiveNum = 999_999_999

// SoftwareUsageResult is the answer of ReportSoftwareUsage.
type SoftwareUsageResult struct {
	// Failed lists the licence codes KooGallery reported as failing its
	// checks. The member is documented only as data.check_fail_… (the
	// software-usage API reference): the decoder takes the first member of data
	// whose name starts with "check_fail" (or "checkFail"), as a list of
	// codes or of objects naming a code.
	Failed []string
	// Raw is data as received.
	Raw json.RawMessage
}

// ReportSoftwareUsage reports the day's use of the software (授权码软件使用
// 统计), for up to MaxBatch licence codes: call it on the first use each
// day after activation. It is mandatory for joint-operation licence
// products sold on the public cloud.
func (c *Client) ReportSoftwareUsage(ctx context.Context, usage []SoftwareUsage) (*SoftwareUsageResult, error) {
	if err := checkUsage(usage); err != nil {
		return nil, fmt.Errorf("license: report software usage: %w", err)
	}
	body := struct {
		UsageInfo []SoftwareUsage `json:"usage_info"`
	}{usage}
	var env envelope
	if err := c.call(ctx, SoftwareUsagePath, body, &env); err != nil {
		return nil, fmt.Errorf("license: report software usage for %d codes: %w", len(usage), err)
	}
	return decodeUsageResult(env.Data), nil
}

func checkUsage(usage []SoftwareUsage) error {
	if len(usage) == 0 {
		return fmt.Errorf("%w: no usage_info", koogallery.ErrInvalidRequest)
	}
	if len(usage) > MaxBatch {
		return fmt.Errorf("%w: %d usage_info entries, at most %d per call", koogallery.ErrInvalidRequest, len(usage), MaxBatch)
	}
	for i, u := range usage {
		if err := checkCode(u.License); err != nil {
			return fmt.Errorf("usage_info %d: %w", i, err)
		}
		if len(u.Entries) == 0 || len(u.Entries) > MaxBatch {
			return fmt.Errorf("%w: usage_info %d (%s) has %d entries, want 1 to %d",
				koogallery.ErrInvalidRequest, i, u.License, len(u.Entries), MaxBatch)
		}
		for j, e := range u.Entries {
			switch {
			case e.ID != "" && e.ActiveNum != 0:
				return fmt.Errorf("%w: usage_info %d entry %d sets both id and active_num", koogallery.ErrInvalidRequest, i, j)
			case e.ID != "":
				if err := checkText("id", e.ID, true, 256); err != nil {
					return fmt.Errorf("usage_info %d entry %d: %w", i, j, err)
				}
			case e.ActiveNum < 1 || e.ActiveNum > maxActiveNum:
				return fmt.Errorf("%w: usage_info %d entry %d: set id, or active_num between 1 and %d",
					koogallery.ErrInvalidRequest, i, j, maxActiveNum)
			}
		}
	}
	return nil
}

func decodeUsageResult(data json.RawMessage) *SoftwareUsageResult {
	res := &SoftwareUsageResult{Raw: data}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return res
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if n := strings.ToLower(strings.ReplaceAll(k, "_", "")); strings.HasPrefix(n, "checkfail") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := bytes.TrimSpace(obj[k])
		if len(v) == 0 || v[0] != '[' {
			continue
		}
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			continue
		}
		for _, it := range items {
			if code := text(it); code != "" {
				res.Failed = append(res.Failed, code)
				continue
			}
			var li LicenseInfo
			if li.UnmarshalJSON(it) == nil && li.License != "" {
				res.Failed = append(res.Failed, li.License)
			}
		}
		if len(res.Failed) > 0 {
			break
		}
	}
	return res
}
