package usage_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/isvkit/koogallery/saas/usage"
)

// FuzzUsageResult decodes arbitrary answers of the usage push: never a
// panic; Raw is the answer; every abnormal record names something and keeps
// its object.
func FuzzUsageResult(f *testing.F) {
	for _, s := range []string{
		`{"error_code":"MKT.0000","error_msg":"success"}`,
		`{"error_code":"MKT.0000","data":{"abnormal_usage_data":[{"metering_sn":"a","instance_id":"i","error_msg":"m"}]}}`,
		`{"error_code":"94060004","data":[{"meteringSn":"a","errorCode":9406,"reason":"r"},"x",1,null]}`,
		`{"data":{"failed":{"metering_sn":"a"}},"x":{"y":[{"msg":"m"}]}}`,
		`{"data":{"a":{"b":{"c":[{"metering_sn":"deep"}]}}}}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r usage.Result
		if json.Unmarshal(data, &r) != nil {
			return
		}
		if !json.Valid(r.Raw) {
			t.Fatalf("Raw is not valid JSON: %q", r.Raw)
		}
		for _, a := range r.Abnormal {
			if a.MeteringSN == "" && a.InstanceID == "" && a.Code == "" && a.Message == "" {
				t.Fatalf("an abnormal record with nothing in it: %+v", a)
			}
			if !json.Valid(a.Raw) || a.Raw[0] != '{' {
				t.Fatalf("abnormal Raw is not an object: %q", a.Raw)
			}
		}
	})
}

// FuzzDecimal parses arbitrary text as a usage value: never a panic, and
// what parses is canonical (it parses to itself), positive and within the
// documented limits.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"99", "0.0001", "007.50", "1.23456", "0", "", "1e3", "99999999999999999999", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := usage.ParseDecimal(s)
		if err != nil {
			return
		}
		text := d.String()
		again, err := usage.ParseDecimal(text)
		if err != nil || again != d {
			t.Fatalf("%q parsed to %q, which re-parses to %q (%v)", s, text, again, err)
		}
		intPart, frac, _ := strings.Cut(text, ".")
		if len(frac) > usage.MaxDecimals || len(text) > 20 || d.Float64() <= 0 ||
			(len(intPart) > 1 && intPart[0] == '0') || strings.HasSuffix(frac, "0") {
			t.Fatalf("%q is not canonical or out of limits", text)
		}
	})
}
