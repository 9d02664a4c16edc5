package license_test

import (
	"encoding/json"
	"testing"

	"github.com/isvkit/koogallery/license"
)

// FuzzCodeInfo decodes arbitrary license_code_info values: never a panic,
// and whatever decodes is a JSON object that decodes to the same fields
// again, both as the object and wrapped in a string as the wire sends it.
func FuzzCodeInfo(f *testing.F) {
	for _, s := range []string{
		`"{\"status\":\"ALIVE\",\"expire_time\":\"20230726121646\",\"product_id\":\"12345\",\"amount\":2,\"order_id\":\"CS123\"}"`,
		`{"status":"RELEASED","amount":"7"}`,
		`"{\"status\":\"EXPIRED\",\"amount\":2.5,\"expire_time\":\"1700000000000\"}"`,
		`"\"x\""`, `""`, `null`, `"{"`, `"{}"`, `{"amount":-9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := license.ParseCodeInfo(data)
		if err != nil {
			return
		}
		if !json.Valid(ci.Raw) || ci.Raw[0] != '{' {
			t.Fatalf("Raw is not a JSON object: %q", ci.Raw)
		}
		wrapped, err := json.Marshal(string(ci.Raw))
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range [][]byte{ci.Raw, wrapped} {
			again, err := license.ParseCodeInfo(form)
			if err != nil {
				t.Fatalf("re-decoding %q: %v", form, err)
			}
			if again.Status != ci.Status || !again.ExpireTime.Equal(ci.ExpireTime) || again.Amount != ci.Amount ||
				again.ProductID != ci.ProductID || again.OrderID != ci.OrderID {
				t.Fatalf("re-decoding changed the fields: %+v vs %+v", again, ci)
			}
		}
	})
}

// FuzzLicenseInfo decodes arbitrary licence entries (heartbeat data and
// batch entries): never a panic, Raw valid, Err consistent with the code.
func FuzzLicenseInfo(f *testing.F) {
	for _, s := range []string{
		`{"license_code":"PL1","status":"ALIVE","activate_time":"20240101000000","expire_time":"20250101000000"}`,
		`{"license":"A","error_code":"92020005","error_msg":"license code not exist.","license_code_info":"{\"status\":\"ALIVE\"}"}`,
		`{"licenseCode":7,"activateTime":1700000000000,"license_code_info":{"amount":"x"}}`, `[]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var li license.LicenseInfo
		if json.Unmarshal(data, &li) != nil {
			return
		}
		if !json.Valid(li.Raw) {
			t.Fatalf("Raw is not valid JSON: %q", li.Raw)
		}
		if ok := li.ResultCode == "" || li.ResultCode == "92020000" || li.ResultCode == "MKT.0000" || li.ResultCode == "CBC.0000"; ok != (li.Err() == nil) {
			t.Fatalf("Err %v for code %q", li.Err(), li.ResultCode)
		}
	})
}
