package koogallerytest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery/internal/wire"
	"github.com/isvkit/koogallery/saas/usage"
)

// AddInstances makes the usage APIs know these pay-per-use instances.
// Until the first call they accept any instance ID; from then on a record
// for an unknown instance is refused with MKT.9001.
func (s *Server) AddInstances(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open.instances == nil {
		s.open.instances = map[string]bool{}
	}
	for _, id := range ids {
		s.open.instances[id] = true
	}
}

// FailUsageRecord makes the fake report the record with this metering_sn
// as abnormal, with reason, instead of accepting it. The report's shape is
// the fake's own (the AbnormalUsageData table is only partly documented):
// HTTP 200, MKT.0000, and data.abnormal_usage_data, a list of
// {metering_sn, instance_id, error_msg}.
func (s *Server) FailUsageRecord(meteringSN, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open.failing[meteringSN] = reason
}

// UsageRecords returns the usage records accepted so far by both usage
// APIs, in arrival order. A record of the current API re-sent with a
// metering_sn already accepted is acknowledged but not recorded again, as
// KooGallery's idempotency promises.
func (s *Server) UsageRecords() []usage.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]usage.Record(nil), s.open.usage...)
}

// usageMaxAge is how old a record's begin_time may be (MKT.9004 beyond).
const usageMaxAge = 21 * 24 * time.Hour

func (s *Server) usageData(w http.ResponseWriter, r *http.Request) {
	body := recordedBody(w, r)
	sig, ts, nonce := r.Header.Get("signature"), r.Header.Get("ts"), r.Header.Get("nonce")
	switch {
	case sig == "":
		writeEnvelope(w, http.StatusBadRequest, "MKT.0102", "Invalid body sign", nil)
		return
	case ts == "" || len(ts) > 20 || !wire.Digits(ts) || nonce == "" || len(nonce) > 64:
		writeEnvelope(w, http.StatusBadRequest, "MKT.0101", "Invalid parameter: ts and nonce are required", nil)
		return
	}
	// The body signature is checked over the body's canonical form (keys
	// sorted at every level, compact), which must also be the body as
	// sent: this accepts exactly what a service that signs the received
	// bytes and one that re-sorts them before signing would both accept.
	s.mu.Lock()
	key := s.open.sellerKey
	s.mu.Unlock()
	canon, err := canonicalJSON(body)
	if err != nil {
		writeEnvelope(w, http.StatusBadRequest, "MKT.0101", "Invalid parameter: the body is not JSON", nil)
		return
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("ts=" + ts + "&nonce=" + nonce + "&body="))
	mac.Write(canon)
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) || !bytes.Equal(canon, body) {
		writeEnvelope(w, http.StatusBadRequest, "MKT.0102", "Invalid body sign", nil)
		return
	}
	s.acceptUsage(w, body, false)
}

func (s *Server) legacyUsageData(w http.ResponseWriter, r *http.Request) {
	s.acceptUsage(w, recordedBody(w, r), true)
}

// usageRecordFields are the members a record of each API may carry.
var usageRecordFields = map[bool]map[string]bool{
	false: {"instance_id": true, "metering_sn": true, "record_time": true, "begin_time": true, "end_time": true, "usage_value": true, "relate_pkg_instance": true},
	true:  {"instance_id": true, "product_id": true, "record_time": true, "begin_time": true, "end_time": true, "usage_value": true, "relate_pkg_instance": true},
}

// usageFault is a refusal of a usage push: the HTTP status and the
// envelope's error_code and error_msg.
type usageFault struct {
	status    int
	code, msg string
}

func badParameter(msg string) *usageFault {
	return &usageFault{http.StatusBadRequest, "MKT.0101", "Invalid parameter: " + msg}
}

func inputFailure(msg string) *usageFault {
	return &usageFault{http.StatusInternalServerError, "MKT.0100", "Failure of input parameter: " + msg}
}

// abnormalUsage is one entry of the answer's data.abnormal_usage_data.
type abnormalUsage struct {
	MeteringSN string `json:"metering_sn"`
	InstanceID string `json:"instance_id"`
	ErrorMsg   string `json:"error_msg"`
}

// acceptUsage serves a push of either usage API (legacy: the old one, with
// product_id and without metering_sn) whose signature, if any, was
// checked: it parses and validates the records, lets the chaos decide, and
// records and answers.
func (s *Server) acceptUsage(w http.ResponseWriter, body []byte, legacy bool) {
	records, now, fault := s.parseUsage(body, legacy)
	if fault != nil {
		writeEnvelope(w, fault.status, fault.code, fault.msg, nil)
		return
	}
	outcome := chaosNone
	if !legacy {
		s.mu.Lock()
		outcome = s.open.ledger.arrive(records, now)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.open.ledger.leave(records)
			s.mu.Unlock()
		}()
		if outcome == chaosThrottle || outcome == chaosFail {
			s.answerChaos(w, outcome)
			return
		}
	}
	failed := s.recordUsage(records, legacy)
	if outcome == chaosLose {
		panic(http.ErrAbortHandler) // accepted, but the answer is lost
	}
	var data any
	if len(failed) > 0 {
		data = map[string]any{"abnormal_usage_data": failed}
	}
	writeEnvelope(w, http.StatusOK, "MKT.0000", "success", data)
}

// parseUsage parses and validates a push's body as KooGallery does, record
// after record, and returns the records and the time they were checked
// against, or the first fault.
func (s *Server) parseUsage(body []byte, legacy bool) (records []usage.Record, now time.Time, fault *usageFault) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil, now, badParameter("the body is not a JSON object")
	}
	var raws []json.RawMessage
	if json.Unmarshal(doc["usage_records"], &raws) != nil || len(raws) == 0 || len(doc) != 1 {
		return nil, now, badParameter("usage_records is required and is the only member")
	}
	if len(raws) > usage.MaxRecords {
		return nil, now, &usageFault{http.StatusInternalServerError, "MKT.9003", "Usage records extends size limit."}
	}
	now = s.now()
	records = make([]usage.Record, len(raws))
	inBatch := map[string]bool{}
	for i, raw := range raws {
		rec, bad := parseUsageRecord(raw, legacy)
		if bad != nil {
			return nil, now, bad
		}
		if sn := rec.MeteringSN; !legacy {
			if inBatch[sn] {
				return nil, now, inputFailure("metering_sn " + sn + " repeats")
			}
			inBatch[sn] = true
		}
		if now.Sub(rec.BeginTime) > usageMaxAge {
			return nil, now, &usageFault{http.StatusInternalServerError, "MKT.9004", "Record beginTime extends Limit."}
		}
		s.mu.Lock()
		unknown := s.open.instances != nil && !s.open.instances[rec.InstanceID]
		s.mu.Unlock()
		if unknown {
			return nil, now, &usageFault{http.StatusInternalServerError, "MKT.9001", "Instance ID not found."}
		}
		records[i] = rec
	}
	return records, now, nil
}

// parseUsageRecord parses and validates one record on its own: its members,
// their lengths, times and value.
func parseUsageRecord(raw json.RawMessage, legacy bool) (usage.Record, *usageFault) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return usage.Record{}, badParameter("a usage record is not an object")
	}
	text := map[string]string{}
	for name, v := range fields {
		if !usageRecordFields[legacy][name] {
			return usage.Record{}, badParameter("undefined parameter " + name)
		}
		var str wire.String
		if json.Unmarshal(v, &str) != nil {
			return usage.Record{}, inputFailure(name + " is not a scalar")
		}
		text[name] = string(str)
	}
	required := []string{"instance_id", "record_time", "begin_time", "end_time", "usage_value", "metering_sn"}
	if legacy {
		required[5] = "product_id"
	}
	for _, name := range required {
		if text[name] == "" {
			return usage.Record{}, badParameter(name + " is missing")
		}
	}
	for _, name := range []string{"instance_id", "metering_sn", "product_id", "relate_pkg_instance"} {
		if !utf8.ValidString(text[name]) || utf8.RuneCountInString(text[name]) > 64 {
			return usage.Record{}, inputFailure(name + " is longer than 64")
		}
	}
	var times [3]time.Time
	for j, name := range []string{"record_time", "begin_time", "end_time"} {
		t, err := time.Parse(wire.LayoutISO, text[name])
		if err != nil || len(text[name]) != 16 {
			return usage.Record{}, inputFailure(name + " is not yyyyMMdd'T'HHmmss'Z'")
		}
		times[j] = t
	}
	value, err := usage.ParseDecimal(text["usage_value"])
	if err != nil {
		return usage.Record{}, inputFailure("usage_value must be > 0 with at most 4 decimals")
	}
	if times[1].After(times[2]) {
		return usage.Record{}, inputFailure("begin_time is after end_time")
	}
	return usage.Record{InstanceID: text["instance_id"], MeteringSN: text["metering_sn"], ProductID: text["product_id"],
		RecordTime: times[0], BeginTime: times[1], EndTime: times[2], UsageValue: value, RelatePkgInstance: text["relate_pkg_instance"]}, nil
}

// recordUsage records the records of a push KooGallery takes and returns
// those reported abnormal (FailUsageRecord). Of the current API, a
// metering_sn already accepted is acknowledged, not recorded again, and
// the ledger is kept.
func (s *Server) recordUsage(records []usage.Record, legacy bool) []abnormalUsage {
	var failed []abnormalUsage
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range records {
		if reason, ok := s.open.failing[rec.MeteringSN]; ok && !legacy {
			failed = append(failed, abnormalUsage{rec.MeteringSN, rec.InstanceID, reason})
			s.open.ledger.entries[rec.MeteringSN].Abnormal = reason
			continue
		}
		if !legacy {
			e := s.open.ledger.entries[rec.MeteringSN]
			if s.open.sns[rec.MeteringSN] {
				e.Resends++
				continue // idempotent re-send
			}
			s.open.sns[rec.MeteringSN] = true
			e.Accepted = true
		}
		s.open.usage = append(s.open.usage, rec)
	}
	return failed
}

// recordedBody returns the request body serve already read and recorded.
func recordedBody(w http.ResponseWriter, r *http.Request) []byte {
	if rec, ok := w.(*recorder); ok && rec.rec.Body != nil {
		return rec.rec.Body
	}
	var b bytes.Buffer
	b.ReadFrom(http.MaxBytesReader(w, r.Body, maxRequestBody))
	return b.Bytes()
}

// canonicalJSON re-encodes a JSON document with the keys of every object
// sorted, no insignificant whitespace, no HTML escaping and numbers as
// written.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errTrailing
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}
