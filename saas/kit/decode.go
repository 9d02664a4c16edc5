package kit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// MaxUsers is the most users one authSync call may carry (「用户授权同步」); a
// call with more answers 000002.
const MaxUsers = 500

// kitFields reads the typed top-level members of a kit body, keeping the
// first error. Members are read as JSON scalars, numbers and strings alike
// ("flag":1 and "flag":"1"); a repeated member keeps its last value, as in
// the signed form; unknown members are ignored.
//
// Only members the signature covers are read; the others are absent: null
// members (neither the V2 canonical form nor the V1 token covers them) and,
// for V1, blank strings (the V1 token skips them). So a member added to a
// signed body without breaking its signature changes nothing.
type kitFields struct {
	m   map[string][]byte // member name → JSON value as received
	err error
}

func decodeKitFields(body []byte, v Version) (*kitFields, error) {
	f := &kitFields{m: make(map[string][]byte, 12)}
	err := canonjson.Scan(body, func(name, value []byte) error {
		f.m[string(name)] = value // the last wins, covered or not
		return nil
	})
	if err != nil {
		return nil, engine.Invalid("request body is not a JSON object")
	}
	for name, value := range f.m {
		if string(value) == "null" || (v == V1 && !v1sign.KitCovers(value)) {
			delete(f.m, name)
		}
	}
	return f, nil
}

func (f *kitFields) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

// str returns a scalar member's text; "" for absent or null.
func (f *kitFields) str(name string) string {
	v, ok := f.m[name]
	if !ok {
		return ""
	}
	s, err := engine.Scalar(v)
	if err != nil {
		f.fail(engine.Invalid("invalid " + name))
	}
	return s
}

// required returns a scalar member that must be present and not blank: the
// members that identify an interface (KooGallery's joint-operation kit
// interface pages, zh-cn_topic_0070649110 and zh-cn_topic_0070649434), so that
// a body signed for one interface cannot be served as another (no signature
// covers the path).
func (f *kitFields) required(name string) string {
	s := f.str(name)
	if strings.TrimSpace(s) == "" {
		f.fail(engine.Require(name, ""))
	}
	return s
}

// requiredOf is required for the first of names present: a member the
// interface names two ways (orgName or V1's name).
func (f *kitFields) requiredOf(names ...string) string {
	for _, name := range names {
		if _, ok := f.m[name]; ok {
			return f.required(name)
		}
	}
	return f.required(names[0])
}

// flag reads the mandatory flag member.
func (f *kitFields) flag() Flag {
	s := strings.TrimSpace(f.required("flag"))
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		f.fail(engine.Invalid("invalid flag"))
	}
	return Flag(v)
}

func (f *kitFields) testFlag() bool {
	v, err := engine.ParseTestFlag(strings.TrimSpace(f.str("testFlag")))
	if err != nil {
		f.fail(err)
	}
	return v
}

// time reads an optional GMT+8 yyyyMMddHHmmss[SSS] member into UTC.
func (f *kitFields) time(name string) time.Time {
	s := strings.TrimSpace(f.str(name))
	if s == "" {
		return time.Time{}
	}
	t, err := engine.TimeIn(s, engine.GMT8())
	if err != nil {
		f.fail(engine.Invalid("invalid " + name))
	}
	return t
}

// requiredTime is time for a member that must be present.
func (f *kitFields) requiredTime(name string) time.Time {
	if strings.TrimSpace(f.str(name)) == "" {
		f.fail(engine.Require(name, ""))
		return time.Time{}
	}
	return f.time(name)
}

// list returns the JSON array of the first of names present, which must
// be: V1 sends userList and orgInfo as JSON text inside a string, V2 as
// arrays, and the V2 doc example shows orgInfoList quoted too, so both forms
// are accepted for every list.
func (f *kitFields) list(names ...string) []byte {
	for _, name := range names {
		v, ok := f.m[name]
		if !ok {
			continue
		}
		if v[0] == '"' {
			s, err := engine.Scalar(v)
			if err != nil {
				f.fail(engine.Invalid("invalid " + name))
				return nil
			}
			v = bytes.TrimSpace([]byte(s))
			if len(v) == 0 {
				f.fail(engine.Require(name, ""))
				return nil
			}
		}
		switch v[0] {
		case '[':
			if json.Valid(v) {
				return v
			}
		}
		f.fail(engine.Invalid("invalid " + name + ": not a JSON array"))
		return nil
	}
	f.fail(engine.Require(names[0], ""))
	return nil
}

// raw copies the body: the engine reuses its buffer after the call.
func raw(body []byte) json.RawMessage { return append(json.RawMessage(nil), body...) }

// wireUser is a user as received; every member is read as a scalar.
type wireUser struct {
	UserName     json.RawMessage `json:"userName"`
	Name         json.RawMessage `json:"name"`
	OrgCode      json.RawMessage `json:"orgCode"`
	Position     json.RawMessage `json:"position"`
	EmployeeCode json.RawMessage `json:"employeeCode"`
	EmployeeType json.RawMessage `json:"employeeType"`
	Role         json.RawMessage `json:"role"`
	Enable       json.RawMessage `json:"enable"`
	Mobile       json.RawMessage `json:"mobile"`
	Email        json.RawMessage `json:"email"`
	WorkPlace    json.RawMessage `json:"workPlace"`
	EntryDate    json.RawMessage `json:"entryDate"`
	Extension    json.RawMessage `json:"extension"`
}

var (
	errTooManyUsers = engine.Invalid("too many users in userList (at most 500)")
	errBadUserList  = engine.Invalid("invalid userList: not an array of objects")
	errBadOrgList   = engine.Invalid("invalid orgInfoList: not an array of objects")
)

// users decodes userList: at most MaxUsers objects, each with a userName.
func decodeKitUsers(list []byte) ([]User, error) {
	if list == nil {
		return nil, nil
	}
	var wire []*wireUser
	if err := json.Unmarshal(list, &wire); err != nil {
		return nil, errBadUserList
	}
	if len(wire) > MaxUsers {
		return nil, errTooManyUsers
	}
	users := make([]User, len(wire))
	for i, w := range wire {
		if w == nil {
			return nil, errBadUserList
		}
		u := &users[i]
		var err error
		text := func(name string, v json.RawMessage) string {
			if err != nil || v == nil {
				return ""
			}
			s, e := engine.Scalar(v)
			if e != nil {
				err = engine.Invalid("invalid " + name + " in userList")
			}
			return s
		}
		u.UserName = text("userName", w.UserName)
		u.Name = text("name", w.Name)
		u.OrgCode = text("orgCode", w.OrgCode)
		u.Position = text("position", w.Position)
		u.EmployeeCode = text("employeeCode", w.EmployeeCode)
		u.Role = Role(strings.TrimSpace(text("role", w.Role)))
		u.Mobile = text("mobile", w.Mobile)
		u.Email = text("email", w.Email)
		u.WorkPlace = text("workPlace", w.WorkPlace)
		u.EntryDate = text("entryDate", w.EntryDate)
		if s := strings.TrimSpace(text("employeeType", w.EmployeeType)); s != "" && err == nil {
			n, e := strconv.Atoi(s)
			if e != nil {
				err = engine.Invalid("invalid employeeType in userList")
			}
			u.EmployeeType = EmployeeType(n)
		}
		switch s := strings.ToLower(strings.TrimSpace(text("enable", w.Enable))); s {
		case "true", "1":
			u.Enable = true
		case "false", "0", "":
		default:
			if err == nil {
				err = engine.Invalid("invalid enable in userList")
			}
		}
		if len(w.Extension) > 0 && string(w.Extension) != "null" {
			u.Extension = append(json.RawMessage(nil), w.Extension...)
		}
		if err != nil {
			return nil, err
		}
		if u.UserName == "" {
			return nil, engine.Invalid("missing userName in userList")
		}
	}
	return users, nil
}

// decodeKitOrgs decodes orgInfo (V1: {orgCode, name, parentCode}) or
// orgInfoList (V2: {orgCode, orgName, parentCode}); either name member is
// accepted in both. Every department needs an orgCode.
func decodeKitOrgs(list []byte) ([]Org, error) {
	if list == nil {
		return nil, nil
	}
	var wire []*struct {
		OrgCode    json.RawMessage `json:"orgCode"`
		OrgName    json.RawMessage `json:"orgName"`
		Name       json.RawMessage `json:"name"`
		ParentCode json.RawMessage `json:"parentCode"`
	}
	if err := json.Unmarshal(list, &wire); err != nil {
		return nil, errBadOrgList
	}
	orgs := make([]Org, len(wire))
	for i, w := range wire {
		if w == nil {
			return nil, errBadOrgList
		}
		var err error
		text := func(v json.RawMessage) string {
			if v == nil {
				return ""
			}
			s, e := engine.Scalar(v)
			if e != nil {
				err = errBadOrgList
			}
			return s
		}
		o := Org{OrgCode: text(w.OrgCode), OrgName: text(w.OrgName), ParentCode: text(w.ParentCode)}
		if o.OrgName == "" {
			o.OrgName = text(w.Name)
		}
		if err != nil {
			return nil, err
		}
		if o.OrgCode == "" {
			return nil, engine.Invalid("missing orgCode in orgInfoList")
		}
		orgs[i] = o
	}
	return orgs, nil
}

// errKitSecret answers an applicationSync whose clientSecret the
// configured private key cannot decrypt.
var errKitSecret = engine.Invalid("clientSecret cannot be decrypted")
