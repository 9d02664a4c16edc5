package koogallerytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery/internal/wire"
	"github.com/isvkit/koogallery/license"
)

var errTrailing = errors.New("trailing data after the JSON document")

// LicenseCode is a licence code the fake knows, as the seller console's
// test codes (测试授权码) would be.
type LicenseCode struct {
	// Code is the licence code, e.g. "PL0001".
	Code string
	// Status is reported by activation and heartbeat (default ALIVE).
	Status     license.CodeStatus
	ProductID  string
	OrderID    string
	Amount     int64
	ExpireTime time.Time
	// NotReceived makes activation fail with 92020004 ("can not active
	// before user received"), as before the buyer has received the code.
	NotReceived bool

	// Filled in by the fake.

	// ActivateTime is when the code was first activated (zero before).
	ActivateTime time.Time
	// RealEffectTime is the real_effect_time of the first activation that
	// sent one.
	RealEffectTime time.Time
	// Heartbeats counts the heartbeat (query) calls for the code.
	Heartbeats int
	// HeartbeatAccounts lists the thirdPartyAccount of heartbeats that
	// sent heartbeatInfo.
	HeartbeatAccounts []string
	// Usage lists the software_usage_Info entries reported for the code.
	Usage []license.UsageEntry
}

type codeState struct{ LicenseCode }

// AddLicenseCode adds (or replaces) a licence code the licence APIs know;
// any other code is answered with 92020005 ("license code not exist.").
func (s *Server) AddLicenseCode(c LicenseCode) {
	if c.Status == "" {
		c.Status = license.CodeStatusAlive
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open.codes[c.Code] = &codeState{c}
}

// LicenseCode returns the fake's view of a licence code: what was added,
// plus activation, heartbeats and usage reports received.
func (s *Server) LicenseCode(code string) (LicenseCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.open.codes[code]
	if !ok {
		return LicenseCode{}, false
	}
	out := c.LicenseCode
	out.HeartbeatAccounts = append([]string(nil), c.HeartbeatAccounts...)
	out.Usage = append([]license.UsageEntry(nil), c.Usage...)
	return out, true
}

// Licence result codes, as the licence API reference lists them.
const (
	codeOK          = "92020000"
	codeBadParam    = "92020002"
	codeNotReceived = "92020004"
	codeNotExist    = "92020005"
)

var codeMessages = map[string]string{
	codeOK:          "success",
	codeBadParam:    "invalid param",
	codeNotReceived: "can not active before user received.",
	codeNotExist:    "license code not exist.",
}

func badParam(w http.ResponseWriter, detail string) {
	writeEnvelope(w, http.StatusBadRequest, codeBadParam, codeMessages[codeBadParam]+": "+detail, nil)
}

// decodeStrict decodes a JSON object refusing unknown members (the
// service's "undefined extra params").
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

func validCode(code string) bool {
	return code != "" && utf8.ValidString(code) && utf8.RuneCountInString(code) <= 64
}

// parseEffect reads real_effect_time (yyyyMMddHHmmss, UTC).
func parseEffect(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(wire.LayoutSeconds, s)
	return t, err == nil && len(s) == 14
}

// activateOne activates a code under the lock and returns its result code.
func (s *Server) activateOne(code string, effect time.Time) (string, *codeState) {
	c, ok := s.open.codes[code]
	switch {
	case !ok:
		return codeNotExist, nil
	case c.NotReceived:
		return codeNotReceived, c
	}
	if c.ActivateTime.IsZero() {
		c.ActivateTime = s.now().UTC().Truncate(time.Second)
	}
	if c.RealEffectTime.IsZero() && !effect.IsZero() {
		c.RealEffectTime = effect
	}
	return codeOK, c
}

// codeInfo is license_code_info: a JSON string holding a JSON object.
func codeInfo(c *codeState) string {
	b, _ := json.Marshal(struct {
		Status     license.CodeStatus `json:"status"`
		ExpireTime string             `json:"expire_time"`
		ProductID  string             `json:"product_id"`
		Amount     int64              `json:"amount"`
		OrderID    string             `json:"order_id"`
	}{c.Status, wire.FormatSeconds(c.ExpireTime), c.ProductID, c.Amount, c.OrderID})
	return string(b)
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		License        string `json:"license"`
		RealEffectTime string `json:"real_effect_time"`
	}
	if err := decodeStrict(recordedBody(w, r), &req); err != nil || !validCode(req.License) {
		badParam(w, "license is required, at most 64 characters, and the only other member is real_effect_time")
		return
	}
	effect, ok := parseEffect(req.RealEffectTime)
	if !ok {
		badParam(w, "real_effect_time is not yyyyMMddHHmmss")
		return
	}
	s.mu.Lock()
	code, c := s.activateOne(req.License, effect)
	var info string
	if code == codeOK {
		info = codeInfo(c)
	}
	s.mu.Unlock()
	if code != codeOK {
		writeEnvelope(w, http.StatusOK, code, codeMessages[code], nil)
		return
	}
	writeEnvelope(w, http.StatusOK, codeOK, "success", map[string]string{"license_code_info": info})
}

// batchEntry is one code's result in the fake's v2 answers. The v2 answer
// schema is not documented: this shape (a list in data, one object per
// code with its own error_code) is the fake's choice, which the client
// decodes among others.
type batchEntry struct {
	License         string             `json:"license"`
	ErrorCode       string             `json:"error_code"`
	ErrorMsg        string             `json:"error_msg"`
	LicenseCodeInfo string             `json:"license_code_info,omitempty"`
	Status          license.CodeStatus `json:"status,omitempty"`
	ActivateTime    string             `json:"activate_time,omitempty"`
	ExpireTime      string             `json:"expire_time,omitempty"`
}

func decodeList(w http.ResponseWriter, body []byte, v any, list func() []string) bool {
	if err := decodeStrict(body, v); err != nil {
		badParam(w, "license_list is required and real_effect_time the only other member")
		return false
	}
	codes := list()
	if len(codes) == 0 || len(codes) > license.MaxBatch {
		badParam(w, "license_list holds 1 to 100 codes")
		return false
	}
	for _, c := range codes {
		if !validCode(c) {
			badParam(w, "a licence code is empty or longer than 64 characters")
			return false
		}
	}
	return true
}

func (s *Server) activateV2(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LicenseList    []string `json:"license_list"`
		RealEffectTime string   `json:"real_effect_time"`
	}
	if !decodeList(w, recordedBody(w, r), &req, func() []string { return req.LicenseList }) {
		return
	}
	effect, ok := parseEffect(req.RealEffectTime)
	if !ok {
		badParam(w, "real_effect_time is not yyyyMMddHHmmss")
		return
	}
	out := make([]batchEntry, len(req.LicenseList))
	s.mu.Lock()
	for i, lc := range req.LicenseList {
		code, c := s.activateOne(lc, effect)
		out[i] = batchEntry{License: lc, ErrorCode: code, ErrorMsg: codeMessages[code]}
		if code == codeOK {
			out[i].LicenseCodeInfo = codeInfo(c)
		}
	}
	s.mu.Unlock()
	writeEnvelope(w, http.StatusOK, codeOK, "success", out)
}

// licenseInfo is the heartbeat's data (LicenseInfo).
func licenseInfo(c *codeState) batchEntry {
	e := batchEntry{License: c.Code, Status: c.Status, ExpireTime: wire.FormatSeconds(c.ExpireTime)}
	e.ActivateTime = wire.FormatSeconds(c.ActivateTime)
	return e
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	var req struct {
		License       string `json:"license"`
		HeartbeatInfo *struct {
			ThirdPartyAccount string `json:"thirdPartyAccount"`
			IP                string `json:"ip"`
		} `json:"heartbeatInfo"`
	}
	if err := decodeStrict(recordedBody(w, r), &req); err != nil || !validCode(req.License) {
		badParam(w, "license is required and heartbeatInfo the only other member")
		return
	}
	if hb := req.HeartbeatInfo; hb != nil && (hb.ThirdPartyAccount == "" || utf8.RuneCountInString(hb.ThirdPartyAccount) > 256 || len(hb.IP) > 32) {
		badParam(w, "heartbeatInfo.thirdPartyAccount is required (at most 256 characters), ip at most 32")
		return
	}
	s.mu.Lock()
	c, ok := s.open.codes[req.License]
	var data struct {
		LicenseCode  string             `json:"license_code"`
		Status       license.CodeStatus `json:"status"`
		ActivateTime string             `json:"activate_time"`
		ExpireTime   string             `json:"expire_time,omitempty"`
	}
	if ok {
		c.Heartbeats++
		if req.HeartbeatInfo != nil {
			c.HeartbeatAccounts = append(c.HeartbeatAccounts, req.HeartbeatInfo.ThirdPartyAccount)
		}
		data.LicenseCode, data.Status = c.Code, c.Status
		data.ActivateTime, data.ExpireTime = wire.FormatSeconds(c.ActivateTime), wire.FormatSeconds(c.ExpireTime)
	}
	s.mu.Unlock()
	if !ok {
		writeEnvelope(w, http.StatusOK, codeNotExist, codeMessages[codeNotExist], nil)
		return
	}
	writeEnvelope(w, http.StatusOK, codeOK, "success", data)
}

func (s *Server) heartbeatV2(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LicenseList []string `json:"license_list"`
	}
	if !decodeList(w, recordedBody(w, r), &req, func() []string { return req.LicenseList }) {
		return
	}
	out := make([]batchEntry, len(req.LicenseList))
	s.mu.Lock()
	for i, lc := range req.LicenseList {
		c, ok := s.open.codes[lc]
		if !ok {
			out[i] = batchEntry{License: lc, ErrorCode: codeNotExist, ErrorMsg: codeMessages[codeNotExist]}
			continue
		}
		c.Heartbeats++
		out[i] = licenseInfo(c)
		out[i].ErrorCode, out[i].ErrorMsg = codeOK, "success"
	}
	s.mu.Unlock()
	writeEnvelope(w, http.StatusOK, codeOK, "success", out)
}

func (s *Server) softwareUsage(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID        *string `json:"id"`
		ActiveNum *int64  `json:"active_num"`
	}
	var req struct {
		UsageInfo []struct {
			License string  `json:"license"`
			Entries []entry `json:"software_usage_Info"`
		} `json:"usage_info"`
	}
	if err := decodeStrict(recordedBody(w, r), &req); err != nil || len(req.UsageInfo) == 0 || len(req.UsageInfo) > license.MaxBatch {
		badParam(w, "usage_info holds 1 to 100 entries of license and software_usage_Info")
		return
	}
	for _, u := range req.UsageInfo {
		if !validCode(u.License) || len(u.Entries) == 0 || len(u.Entries) > license.MaxBatch {
			badParam(w, "each usage_info has a license and 1 to 100 software_usage_Info entries")
			return
		}
		for _, e := range u.Entries {
			if (e.ID == nil) == (e.ActiveNum == nil) {
				badParam(w, "each software_usage_Info entry has exactly one of id and active_num")
				return
			}
			if e.ID != nil && (*e.ID == "" || utf8.RuneCountInString(*e.ID) > 256) ||
				e.ActiveNum != nil && (*e.ActiveNum < 0 || *e.ActiveNum > 999_999_999) {
				badParam(w, "id is 1 to 256 characters, active_num at most 9 digits")
				return
			}
		}
	}
	failed := []string{}
	s.mu.Lock()
	for _, u := range req.UsageInfo {
		c, ok := s.open.codes[u.License]
		if !ok || c.ActivateTime.IsZero() {
			failed = append(failed, u.License)
			continue
		}
		for _, e := range u.Entries {
			if e.ID != nil {
				c.Usage = append(c.Usage, license.ActiveClientID(*e.ID))
			} else {
				c.Usage = append(c.Usage, license.ActiveClientCount(*e.ActiveNum))
			}
		}
	}
	s.mu.Unlock()
	// The member's name is documented only as "check_fail_…"; this one is
	// the fake's choice.
	writeEnvelope(w, http.StatusOK, codeOK, "success", map[string][]string{"check_fail_license_list": failed})
}
