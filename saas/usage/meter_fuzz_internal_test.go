package usage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/isvkit/koogallery"
)

// FuzzAnswerToDeadLetters feeds arbitrary answers of the usage push, as a
// success and as a failure with an arbitrary code, to what the pusher does
// with them: never a panic; the records of the call are split into dead
// letters and the rest without losing or duplicating one, in order; every
// dead letter says why and keeps a JSON object as its raw answer; and a
// failure is refused for good only under a documented code.
func FuzzAnswerToDeadLetters(f *testing.F) {
	for _, s := range []struct{ body, code string }{
		{`{"error_code":"MKT.0000","data":{"abnormal_usage_data":[{"metering_sn":"b","error_msg":"frozen"}]}}`, "MKT.0000"},
		{`{"error_code":"94060004","extra_info":[{"meteringSn":"c","errorMsg":"bad value"},{"instanceId":"i2"}]}`, "94060004"},
		{`{"error_code":"MKT.9002","data":[{"metering_sn":"zzz"}]}`, "MKT.9002"},
		{`{"data":{"x":{"instance_id":"i1","code":"E1"}}}`, "CBC.0150"},
		{`{"error_code":"APIGW.0301"}`, "APIGW.0301"},
		{`[]`, ""}, {`{}`, "MKT.9004"},
	} {
		f.Add([]byte(s.body), s.code)
	}
	group := make([]Entry, 5)
	for i, sn := range []string{"a", "b", "c", "d", "e"} {
		group[i] = Entry{Record: Record{MeteringSN: sn, InstanceID: []string{"i1", "i2"}[i%2]}}
	}
	m := &Meter{}
	f.Fuzz(func(t *testing.T, body []byte, code string) {
		var res Result
		if json.Unmarshal(body, &res) != nil {
			return
		}
		apiErr := &koogallery.APIError{StatusCode: 400, Code: code, Body: body}
		for _, callErr := range []error{nil, apiErr} {
			dead, rest := m.named(group, &res, callErr)
			if len(dead)+len(rest) != len(group) {
				t.Fatalf("%d dead + %d rest of %d records", len(dead), len(rest), len(group))
			}
			i, j := 0, 0
			for _, e := range group {
				switch {
				case i < len(dead) && dead[i].Record.MeteringSN == e.Record.MeteringSN:
					d := dead[i]
					i++
					prefix := "abnormal: "
					if callErr != nil {
						prefix = "refused: "
					}
					if !strings.HasPrefix(d.Reason, prefix) || len(d.Reason) == len(prefix) {
						t.Fatalf("dead letter reason %q", d.Reason)
					}
					if !json.Valid(d.Raw) || d.Raw[0] != '{' {
						t.Fatalf("dead letter raw %q is not a JSON object", d.Raw)
					}
				case j < len(rest) && rest[j].Record.MeteringSN == e.Record.MeteringSN:
					j++
				default:
					t.Fatalf("record %s lost or out of order", e.Record.MeteringSN)
				}
			}
		}
		v := classify(t.Context(), apiErr)
		rest, market := cutMarketPrefix(code)
		documented := (market && recordRefusalCodes[rest]) || code == "94060004"
		if (v == refused) != documented {
			t.Fatalf("code %q classified %d", code, v)
		}
	})
}
