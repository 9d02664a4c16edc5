package v1sign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode"
)

// HeaderAuthToken is the request header that carries a V1 kit authToken.
const HeaderAuthToken = "authToken"

// KitStringToSign returns the string a V1 kit authToken signs for a JSON
// body (spec §3.2). Huawei's demo binds the body to a DTO, turns it into a
// map with BeanUtils.describe and skips blank values, so each top-level field
// becomes name=value, sorted in Java String order and joined with '&':
//
//   - a string is used verbatim (JSON-string fields such as userList and
//     orgInfo included) and skipped if blank in the sense of Java's
//     StringUtils.isBlank (empty or only Character.isWhitespace);
//   - a number or boolean is its JSON literal as received ("flag":1 → flag=1);
//   - null is skipped;
//   - an array or object (V2-style userList or orgInfoList arriving on V1) is
//     its compact JSON text with members in received order. [GAP] The demo's
//     String-typed DTO cannot even bind such a value, so this is the most
//     plausible reading, not a verified one.
//
// A repeated name keeps its last value, as Jackson does. Values are not
// URL-decoded: in a JSON body that would corrupt a literal '+' or '%'. It is
// exposed for debugging signature mismatches; it contains no secret.
func KitStringToSign(body []byte) (string, error) {
	params, err := kitParams(body)
	if err != nil {
		return "", fmt.Errorf("v1sign: kit string to sign: %w", err)
	}
	return string(appendStringToSign(nil, params)), nil
}

// SignKit returns the authToken header KooGallery sends with a V1 kit body:
// Base64(HMAC-SHA256(Key + the body's timeStamp, KitStringToSign(body))).
func SignKit(key string, body []byte) (string, error) {
	mac, err := kitMAC(key, body)
	if err != nil {
		return "", fmt.Errorf("v1sign: sign kit body: %w", err)
	}
	return encodeToken(&mac), nil
}

// VerifyKit checks the authToken header of a V1 kit body, in constant time.
// A ' ' in token is read as '+'.
func VerifyKit(key string, body []byte, token string) error {
	if token == "" {
		return fmt.Errorf("v1sign: verify kit body: %w", ErrMissingToken)
	}
	mac, err := kitMAC(key, body)
	if err != nil {
		return fmt.Errorf("v1sign: verify kit body: %w", err)
	}
	if !tokenMatches(&mac, token) {
		return fmt.Errorf("v1sign: verify kit body authToken: %w", ErrMismatch)
	}
	return nil
}

func kitMAC(key string, body []byte) ([macSize]byte, error) {
	params, err := kitParams(body)
	if err != nil {
		return [macSize]byte{}, err
	}
	ts, ok := lookup(params, ParamTimeStamp)
	if !ok {
		return [macSize]byte{}, ErrMissingTimeStamp
	}
	return sum(key, ts, appendStringToSign(nil, params)), nil
}

// kitParams stringifies the top-level fields of body as KitStringToSign
// describes and returns them in Java order, blanks and nulls left out.
func kitParams(body []byte) ([]param, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("%w: kit body is not a JSON object: %w", ErrMalformed, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%w: kit body is null, not a JSON object", ErrMalformed)
	}
	params := make([]param, 0, len(fields))
	for name, raw := range fields {
		value, ok, err := describeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: kit body field %q: %w", ErrMalformed, name, err)
		}
		if ok {
			params = append(params, param{name, value})
		}
	}
	return sortParams(params), nil
}

// KitCovers reports whether a V1 kit authToken covers a top-level member
// whose JSON value (as received) is value: every member but null and blank
// strings, which the token skips (see KitStringToSign). A member the token
// does not cover was never signed: a decoder must treat it as absent, so
// that adding "name":" " or "list":null to a signed body changes nothing.
// For a repeated member only the last one counts, covered or not.
func KitCovers(value []byte) bool {
	_, ok, err := describeValue(value)
	return ok && err == nil
}

// describeValue stringifies one JSON value like BeanUtils.describe on the
// demo's DTO; ok is false for values the demo skips as blank.
func describeValue(raw json.RawMessage) (value string, ok bool, err error) {
	switch raw[0] {
	case 'n':
		return "", false, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, err
		}
		return s, !javaBlank(s), nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", false, err
		}
		return b.String(), true, nil
	}
	return string(raw), true, nil
}

// javaBlank is commons-lang StringUtils.isBlank: every UTF-16 unit is
// Character.isWhitespace, which is a Unicode space separator other than the
// no-break spaces, or one of \t \n \v \f \r and U+001C–U+001F.
func javaBlank(s string) bool {
	for _, r := range s {
		switch {
		case r == '\u00A0' || r == '\u2007' || r == '\u202F':
			return false
		case r >= '\t' && r <= '\r', r >= 0x1C && r <= 0x1F:
		case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		default:
			return false
		}
	}
	return true
}
