package verify

// This file is the only one of kgctl that imports the core module's internal
// packages: the signature forms a callback may be signed over, for kgctl
// verify to say which form a signature covers (or which mistake it matches).
// When the core exports verification of a request's parts, the candidate
// forms below should come from there.

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/url"
	"strings"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// form is one reading of a request a signature may cover.
type form struct {
	name     string
	accepted bool // a form the SDK's handlers (and KooGallery) accept; else a known mistake
	payload  string
	matches  bool
	hint     string // for a mistake: what to fix
}

// v2Forms tries the V2 signature (kit: x-sign) over every form of body the
// handlers accept, and over known mistakes.
func v2Forms(key string, kit bool, sig, nonce, ts string, body []byte) []form {
	k := callback.NewKey(key)
	sign := func(kitScheme bool, p []byte) string {
		if kitScheme {
			return k.SignKit(nonce, ts, p)
		}
		return k.SignV2(nonce, ts, p)
	}
	var forms []form
	add := func(name string, accepted, kitScheme bool, p []byte, hint string) {
		for _, f := range forms {
			if f.payload == string(p) && f.accepted == accepted && !strings.Contains(name, "scheme") {
				return // the same bytes were tried already
			}
		}
		forms = append(forms, form{name: name, accepted: accepted, payload: string(p), hint: hint,
			matches: strings.EqualFold(sign(kitScheme, p), sig)})
	}
	canonical, cerr := canonjson.Append(nil, body)
	// The Jackson form is what Huawei's demo re-serialises the body to
	// (escapes decoded, numbers as Java writes them). It is tried last: when
	// it equals an earlier form, that form's name is the clearer one.
	jackson := func(kitScheme bool, mode canonjson.Mode) {
		if j, err := canonjson.AppendJackson(nil, body, mode); err == nil {
			add("the Jackson form of Huawei's demo (escapes decoded, numbers as Java writes them)", true, kitScheme, j, "")
		}
	}
	if kit {
		if cerr == nil {
			add("the canonical form (top-level keys sorted, nulls dropped, compact)", true, true, canonical, "")
		}
		add("the body as received", true, true, body, "")
		jackson(true, canonjson.KitForm)
	} else {
		add("the body as received", true, false, body, "")
		if cerr == nil {
			add("the canonical form (top-level keys sorted, nulls dropped, compact)", true, false, canonical, "")
			if q, err := canonjson.AppendQuotedScalars(nil, body); err == nil {
				add("the canonical form with numbers quoted (Map<String,String>)", true, false, q, "")
			}
		}
		jackson(false, canonjson.BasicForm)
	}
	// A known mistake: the other scheme's formula.
	other := "the V2 two-stage formula (SaaS V2, License, orderNotify)"
	hint := "this call was signed with the basic interface's scheme but arrived as a kit call: check which key and URL the console binds to the kit"
	if !kit {
		other = "the kit's one-stage formula"
		hint = "this call was signed with the kit scheme but arrived at a basic interface (SaaS V2, License, orderNotify)"
	}
	if cerr == nil {
		add(other+" over the canonical form", false, !kit, canonical, hint)
	}
	add(other+" over the body as received", false, !kit, body, hint)
	return forms
}

// v1QueryForms tries a V1 GET authToken over the readings of the raw query.
func v1QueryForms(key, rawQuery, token string) (forms []form, ts string) {
	want, ok := v1sign.TokenMAC(token)
	join := v1sign.QueryStringToSign
	mac := func(k, s string) bool {
		h := hmac.New(sha256.New, []byte(k))
		h.Write([]byte(s))
		return ok && hmac.Equal(h.Sum(nil), want[:])
	}
	decoded, _ := readQuery(rawQuery, url.QueryUnescape)
	literal, _ := readQuery(rawQuery, url.PathUnescape)
	raw, _ := readQuery(rawQuery, func(s string) (string, error) { return s, nil })
	ts = decoded.Get(v1sign.ParamTimeStamp)
	s := join(decoded)
	forms = append(forms, form{name: "the decoded parameters ('+' read as a space), sorted", accepted: true, payload: s, matches: mac(key+ts, s)})
	if l := join(literal); l != s {
		forms = append(forms, form{name: "the decoded parameters with '+' kept literal", accepted: true, payload: l, matches: mac(key+ts, l)})
	}
	if r := join(raw); r != s {
		forms = append(forms, form{name: "the still-encoded parameters", payload: r, matches: mac(key+ts, r),
			hint: "the signer hashed the URL-encoded values: decode every value before signing (Huawei's FAQ names this the usual cause)"})
	}
	forms = append(forms, form{name: "the decoded parameters, keyed with the Key alone (no timeStamp)", payload: s, matches: mac(key, s),
		hint: "the HMAC key is the Key followed by the request's timeStamp"})
	return forms, ts
}

// readQuery splits a raw query the way the V1 servlet does: '&' only, first
// value wins.
func readQuery(raw string, unescape func(string) (string, error)) (url.Values, error) {
	v := url.Values{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		n, val, _ := strings.Cut(pair, "=")
		dn, err := unescape(n)
		if err != nil {
			return v, err
		}
		dv, err := unescape(val)
		if err != nil {
			return v, err
		}
		if _, seen := v[dn]; !seen && dn != "" {
			v.Set(dn, dv)
		}
	}
	return v, nil
}

// v1KitForms tries a V1 kit authToken over the body's sorted fields.
func v1KitForms(key string, body []byte, token string) []form {
	want, ok := v1sign.TokenMAC(token)
	mac := func(k, s string) bool {
		h := hmac.New(sha256.New, []byte(k))
		h.Write([]byte(s))
		return ok && hmac.Equal(h.Sum(nil), want[:])
	}
	s, err := v1sign.KitStringToSign(body)
	if err != nil {
		return nil
	}
	ts := kitTimeStamp(body)
	forms := []form{{name: "the sorted top-level fields, blank ones skipped", accepted: true, payload: s, matches: mac(key+ts, s)}}
	forms = append(forms, form{name: "the sorted fields, keyed with the Key alone (no timeStamp)", payload: s, matches: mac(key, s),
		hint: "the HMAC key is the Key followed by the body's timeStamp"})
	return forms
}

func kitTimeStamp(body []byte) string {
	var ts string
	_ = canonjson.Scan(body, func(k, v []byte) error {
		if string(k) == v1sign.ParamTimeStamp {
			ts, _ = callback.Scalar(v)
		}
		return nil
	})
	return ts
}

// tokenWellFormed reports whether a V1 token is the Base64 of a MAC.
func tokenWellFormed(token string) bool {
	_, ok := v1sign.TokenMAC(token)
	return ok
}

// hexWellFormed reports whether s is 64 hex digits.
func hexWellFormed(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
