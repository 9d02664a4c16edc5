package saas

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/order"
)

// parseExtendParams reads saasExtendParams: a JSON array of {name, value}
// objects, sent as a string (「新购商品」). One integration Base64-decodes the
// value before parsing it, and Huawei does not document the encoding: the
// Base64 of such an array (standard or URL alphabet, padded or not, ' ' read
// as '+') is accepted too. A value that is not a string is kept as its JSON
// text; elements without a name are skipped. ok is false when s is neither
// form.
func parseExtendParams(s string) (params []order.ExtendParam, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") {
		b, ok := decodeBase64Lenient(s)
		if !ok {
			return nil, false
		}
		s = strings.TrimSpace(string(b))
	}
	var elems []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		return nil, false
	}
	params = make([]order.ExtendParam, 0, len(elems))
	for _, e := range elems {
		name := jsonText(e["name"])
		if name == "" {
			continue
		}
		params = append(params, order.ExtendParam{Name: name, Value: jsonText(e["value"])})
	}
	return params, true
}

// jsonText returns a JSON string's contents, or any other value's compact
// text; null and absent are "".
func jsonText(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	if s, err := engine.Scalar(v); err == nil {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v) // unreachable: v came out of json.Unmarshal
	}
	return b.String()
}

// decodeBase64Lenient decodes s in any of the four Base64 forms, a ' '
// read as '+'.
func decodeBase64Lenient(s string) ([]byte, bool) {
	s = strings.ReplaceAll(s, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
