package exchange

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Exchange is one call and its answer.
type Exchange struct {
	Activity string
	Method   string
	URL      string
	Header   http.Header
	Body     []byte // request body; nil for V1 GET

	// The answer. Err is set when none arrived in time.
	Err         error
	Status      int
	RespHeader  http.Header
	Answer      []byte
	Duration    time.Duration
	ResultCode  string // "" when absent or not a string
	CodeRaw     string // resultCode as sent, for messages
	ResultMsg   string
	InstanceID  string
	Info        []string // queryInstance: the instance IDs listed
	BodySignErr error    // V1: nil iff Body-Sign verifies
	AppInfoErr  error    // V1: nil iff the credentials decrypt
	NotJSON     error
}

// decode reads the answer's members tolerantly, for the checks.
func (x *Exchange) decode() {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(x.Answer, &m); err != nil || m == nil {
		x.NotJSON = errors.New("the answer is not a JSON object")
		return
	}
	if raw, ok := m["resultCode"]; ok {
		x.CodeRaw = string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			x.ResultCode, x.CodeRaw = s, s
		}
	}
	_ = json.Unmarshal(m["resultMsg"], &x.ResultMsg)
	_ = json.Unmarshal(m["instanceId"], &x.InstanceID)
	var info []struct {
		InstanceID string `json:"instanceId"`
	}
	if json.Unmarshal(m["info"], &info) == nil {
		for _, i := range info {
			x.Info = append(x.Info, i.InstanceID)
		}
	}
}
