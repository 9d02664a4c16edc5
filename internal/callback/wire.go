package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/isvkit/koogallery/internal/canonjson"
)

var errNotScalar = errors.New("not a JSON scalar")

// Fields are the top-level members of a SaaS V2 basic, License 2.0 or
// orderNotify body, as received. One struct serves the three families: the
// decoder needs no per-family callback (which would cost an allocation per
// call), and a member a family does not use simply stays unread.
type Fields struct {
	Activity, OrderID, OrderLineID, BusinessID, InstanceID, License string
	Scene, Status, ProductID, ExpireTime, TestFlag                  string
}

// Decode decodes body, a JSON object, into f. Each member is read as a
// scalar (see Scalar); unknown members, nested ones included, are ignored;
// for a repeated member the last wins, as in the signed canonical form.
// Failures are 000002 errors.
func (f *Fields) Decode(body []byte) error {
	// The fields of a small body are cut from one copy of it: one allocation
	// instead of one per field. A large body's fields are copied one by one,
	// so that a kept field never keeps a large body alive.
	var whole string
	err := canonjson.Scan(body, func(name, value []byte) error {
		var dst *string
		switch string(name) {
		case "activity":
			dst = &f.Activity
		case "orderId":
			dst = &f.OrderID
		case "orderLineId":
			dst = &f.OrderLineID
		case "businessId":
			dst = &f.BusinessID
		case "instanceId":
			dst = &f.InstanceID
		case "license":
			dst = &f.License
		case "scene":
			dst = &f.Scene
		case "status":
			dst = &f.Status
		case "productId":
			dst = &f.ProductID
		case "expireTime":
			dst = &f.ExpireTime
		case "testFlag":
			dst = &f.TestFlag
		default:
			return nil
		}
		if len(body) <= sharedBodyMax && len(value) > 1 && value[0] == '"' && bytes.IndexByte(value, '\\') < 0 {
			if whole == "" {
				whole = string(body)
			}
			off := cap(body) - cap(value) // value is a slice of body
			*dst = whole[off+1 : off+len(value)-1]
			return nil
		}
		s, err := Scalar(value)
		if err != nil {
			return Invalid("invalid " + string(name))
		}
		*dst = s
		return nil
	})
	if err == nil {
		return nil
	}
	if e := (*Error)(nil); !errors.As(err, &e) {
		return Invalid("request body is not a JSON object")
	}
	return err
}

// sharedBodyMax is the largest body whose fields Decode cuts from one copy.
const sharedBodyMax = 1 << 10

// DecodeRequest decodes body (see Fields.Decode), names the call in resp
// for the logs, and parses its testFlag: the common start of every V2-family
// Serve.
func DecodeRequest(body []byte, resp *Response) (f Fields, testFlag bool, err error) {
	if err = f.Decode(body); err != nil {
		return f, false, err
	}
	resp.Activity = f.Activity
	testFlag, err = ParseTestFlag(f.TestFlag)
	return f, testFlag, err
}

// Require returns the 000002 error for a missing mandatory field, or nil.
func Require(name, value string) error {
	if value == "" {
		return Invalid("missing " + name)
	}
	return nil
}

// ParseTestFlag parses a testFlag field (see parseFlag) into a 000002 error.
func ParseTestFlag(s string) (bool, error) {
	v, err := parseFlag(s)
	if err != nil {
		return false, Invalid("invalid testFlag")
	}
	return v, nil
}

// RequireTime parses a mandatory time field (see Time) into a 000002 error.
func RequireTime(name, value string) (time.Time, error) {
	if err := Require(name, value); err != nil {
		return time.Time{}, err
	}
	t, err := Time(value)
	if err != nil {
		return time.Time{}, Invalid("invalid " + name)
	}
	return t, nil
}

// Scalar returns the text of a top-level JSON value as a string: a string's
// decoded contents, a number's or boolean's literal, "" for null. The docs
// type every V2 field as String, yet the live service sends some as numbers
// (testFlag 0), so both are accepted. Objects and arrays are an error. v is
// a value as canonjson.Scan yields it.
func Scalar(v []byte) (string, error) {
	if len(v) == 0 {
		return "", errNotScalar
	}
	switch v[0] {
	case '"':
		raw := v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw), nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", errNotScalar
	case 'n':
		return "", nil
	default:
		return string(v), nil
	}
}

// parseFlag parses testFlag: "1" (or "true") marks a debugging call from the
// seller console, "0", "false" or absent a real one. Anything else is
// refused rather than guessed: treating a debug call as real could touch a
// buyer's data.
func parseFlag(s string) (bool, error) {
	switch s {
	case "1", "true":
		return true, nil
	case "", "0", "false":
		return false, nil
	}
	return false, errors.New("not 0 or 1")
}

// Time parses the callbacks' UTC times: yyyyMMddHHmmss (documented),
// yyyyMMddHHmmssSSS (what the doc examples actually carry, KooGallery's V2
// refreshInstance page, zh-cn_topic_0070649429) and, for tolerance,
// yyyyMMdd'T'HHmmss'Z'.
func Time(s string) (time.Time, error) {
	var ms int
	switch {
	case len(s) == 14:
	case len(s) == 17:
		v, ok := digits(s[14:17])
		if !ok {
			return time.Time{}, errBadTime
		}
		ms = v
	case len(s) == 16 && s[8] == 'T' && s[15] == 'Z':
		s = s[:8] + s[9:15]
	default:
		return time.Time{}, errBadTime
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[4:6])
	d, ok3 := digits(s[6:8])
	h, ok4 := digits(s[8:10])
	mi, ok5 := digits(s[10:12])
	sec, ok6 := digits(s[12:14])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, errBadTime
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*int(time.Millisecond), time.UTC)
	// time.Date normalises out-of-range fields (month 13, Feb 30); refuse them.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, errBadTime
	}
	return t, nil
}

var errBadTime = errors.New("not yyyyMMddHHmmss[SSS]")

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// AppendTime appends t in UTC as yyyyMMddHHmmssSSS, the form responses use
// (statisticalTime, KooGallery's V1 queryInstance page, zh-cn_topic_0070649185).
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	dst = appendDigits(dst, t.Year(), 4)
	dst = appendDigits(dst, int(t.Month()), 2)
	dst = appendDigits(dst, t.Day(), 2)
	dst = appendDigits(dst, t.Hour(), 2)
	dst = appendDigits(dst, t.Minute(), 2)
	dst = appendDigits(dst, t.Second(), 2)
	return appendDigits(dst, t.Nanosecond()/int(time.Millisecond), 3)
}

func appendDigits(dst []byte, v, width int) []byte {
	var b [8]byte
	i := len(b)
	for ; width > 0 || v > 0; width-- {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[i:]...)
}
