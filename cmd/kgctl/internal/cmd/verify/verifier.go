package verify

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// verifier checks each part of a captured call the signature depends on.
type verifier struct {
	c        *captured
	fam      *family.Family
	key      string
	at       time.Time
	skew     time.Duration
	v1window time.Duration
	checks   []exchange.Check
}

func (v *verifier) add(name string, pass bool, reason, hint string) {
	v.checks = append(v.checks, exchange.Check{Name: name, Pass: pass, Reason: reason, Hint: hint})
}

// verifies is true when every part the signature depends on passed.
func (v *verifier) verifies() bool {
	for _, c := range v.checks {
		if !c.Pass && !c.Skipped && c.Name != "SDK handler" {
			return false
		}
	}
	return len(v.checks) > 0
}

func (v *verifier) run() {
	switch v.fam.Scheme {
	case family.SchemeV2, family.SchemeKitV2:
		v.runV2()
	case family.SchemeV1:
		v.runV1Query()
	case family.SchemeKitV1:
		v.runV1Kit()
	}
	v.handler()
}

func firstValue(q url.Values, name string) (string, int) { return q.Get(name), len(q[name]) }

func (v *verifier) runV2() {
	kit := v.fam.Scheme == family.SchemeKitV2
	var sig, ts, nonce string
	where := "query parameters signature, timestamp, nonce"
	if kit {
		sig, ts, nonce = v.c.Header.Get("x-sign"), v.c.Header.Get("x-timestamp"), v.c.Header.Get("x-nonce")
		where = "headers x-sign, x-timestamp, x-nonce"
	} else {
		q := v.c.URL.Query()
		var n int
		sig, n = firstValue(q, "signature")
		ts, _ = firstValue(q, "timestamp")
		nonce, _ = firstValue(q, "nonce")
		if n > 1 {
			v.add("signature parameters", true, "signature appears more than once; the first is used", "")
		}
	}
	if v.c.Method != http.MethodPost {
		v.add("method", false, v.c.Method+"; KooGallery POSTs these callbacks", "the handlers answer 000002 to any other method")
	}
	if sig == "" || ts == "" || nonce == "" {
		var missing []string
		for _, p := range [][2]string{{"signature", sig}, {"timestamp", ts}, {"nonce", nonce}} {
			if p[1] == "" {
				missing = append(missing, p[0])
			}
		}
		v.add("signature parameters", false, "missing "+strings.Join(missing, ", ")+" ("+where+")",
			"a proxy or router may have dropped the query string or the headers on the way to the handler")
		return
	}
	v.add("signature parameters", true, "", "")

	stamp, tsOK := v.timestampForm(ts)
	v.nonceForm(nonce)
	if tsOK {
		d := time.UnixMilli(stamp).Sub(v.at)
		limit := 60*time.Second + v.skew
		if abs(d) <= limit {
			v.add("freshness window", true, fmt.Sprintf("timestamp is %v %s --at", abs(d).Round(time.Millisecond), beforeAfter(d)), "")
		} else {
			v.add("freshness window", false, fmt.Sprintf("timestamp %s is %v %s the time judged at; the handlers allow 60 s + %v",
				time.UnixMilli(stamp).UTC().Format(time.RFC3339Nano), abs(d).Round(time.Second), beforeAfter(d), v.skew),
				"for an old capture pass --at with the time it was received; otherwise the server's clock is off (use NTP) or the call was replayed")
		}
	}
	if !hexWellFormed(sig) {
		v.add("signature", false, "not 64 hex digits", "the signature was cut or re-encoded on the way")
		return
	}
	v.signature(v2Forms(v.key, kit, sig, nonce, ts, v.c.Body))
}

func beforeAfter(d time.Duration) string {
	if d < 0 {
		return "before"
	}
	return "after"
}

func (v *verifier) timestampForm(ts string) (int64, bool) {
	bad := func(reason string) (int64, bool) {
		v.add("timestamp form", false, reason, "KooGallery sends Unix time in milliseconds, 13 decimal digits")
		return 0, false
	}
	if len(ts) > 18 || strings.TrimLeft(ts, "0123456789") != "" {
		return bad(fmt.Sprintf("%q is not decimal digits", ts))
	}
	if ts[0] == '0' {
		return bad(fmt.Sprintf("%q has a leading zero: the signature covers nonce and timestamp joined, so a leading zero can be moved from the nonce; the handlers refuse it", ts))
	}
	n, _ := strconv.ParseInt(ts, 10, 64)
	if len(ts) <= 10 {
		return bad(fmt.Sprintf("%q looks like seconds", ts))
	}
	v.add("timestamp form", true, time.UnixMilli(n).UTC().Format(time.RFC3339Nano), "")
	return n, true
}

func (v *verifier) nonceForm(nonce string) {
	switch {
	case len(nonce) > 256:
		v.add("nonce form", false, fmt.Sprintf("%d characters; the handlers accept at most 256", len(nonce)), "")
	case strings.Trim(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "":
		v.add("nonce form", true, fmt.Sprintf("%q has characters other than letters and digits (KooGallery sends alphanumerics)", nonce), "")
	default:
		v.add("nonce form", true, fmt.Sprintf("%d alphanumerics", len(nonce)), "")
	}
}

// signature reports which form the signature covers.
func (v *verifier) signature(forms []form) {
	var tried []string
	for _, f := range forms {
		if f.matches && f.accepted {
			v.add("signature", true, "verifies over "+f.name, "")
			return
		}
	}
	for _, f := range forms {
		if f.matches {
			v.add("signature", false, "matches only "+f.name, f.hint)
			return
		}
		if f.accepted {
			tried = append(tried, f.name)
		}
	}
	reason := "matches no form (tried " + strings.Join(tried, "; ") + ")"
	hint := "the wrong key (check which key the console shows for this interface), or the body, nonce or timestamp changed after signing"
	for _, f := range forms {
		if f.accepted && strings.HasPrefix(f.name, "the canonical") && f.payload != string(v.c.Body) {
			hint += "; the canonical form signed is " + snippetN(f.payload, 200)
			break
		}
	}
	v.add("signature", false, reason, hint)
}

func snippetN(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func (v *verifier) v1Stamp(ts string, loc *time.Location, zone string) {
	t, err := time.ParseInLocation("20060102150405.000", ts[:min(14, len(ts))]+"."+ts[min(14, len(ts)):], loc)
	if len(ts) != 17 || strings.TrimLeft(ts, "0123456789") != "" || err != nil {
		v.add("timeStamp form", false, fmt.Sprintf("%q is not yyyyMMddHHmmssSSS", ts), "KooGallery sends 17 digits, "+zone)
		return
	}
	v.add("timeStamp form", true, t.UTC().Format(time.RFC3339Nano)+" ("+zone+")", "")
	if v.v1window <= 0 {
		return
	}
	d := t.Sub(v.at)
	if abs(d) <= v.v1window+v.skew {
		v.add("freshness window", true, fmt.Sprintf("timeStamp is %v %s --at (window %v)", abs(d).Round(time.Second), beforeAfter(d), v.v1window), "")
		return
	}
	v.add("freshness window", false, fmt.Sprintf("timeStamp is %v %s the time judged at; the V1 handlers allow %v", abs(d).Round(time.Second), beforeAfter(d), v.v1window),
		"for an old capture pass --at; a window mismatch of 8 h means UTC and GMT+8 were mixed up (the basic interface's timeStamp is UTC, the kit's GMT+8)")
}

func (v *verifier) runV1Query() {
	q := v.c.URL.Query()
	token := q.Get("authToken")
	if token == "" || q.Get("timeStamp") == "" {
		v.add("signature parameters", false, "missing authToken or timeStamp in the query", "a proxy may have dropped the query string")
		return
	}
	v.add("signature parameters", true, "", "")
	forms, ts := v1QueryForms(v.key, v.c.URL.RawQuery, token)
	v.v1Stamp(ts, time.UTC, "UTC")
	if !tokenWellFormed(token) {
		v.add("signature", false, "authToken is not the Base64 of an HMAC-SHA256", "the token was cut or re-encoded on the way")
		return
	}
	v.signature(forms)
}

func (v *verifier) runV1Kit() {
	token := v.c.Header.Get("authToken")
	if token == "" {
		v.add("signature parameters", false, "missing the authToken header", "a proxy may have dropped it (some drop headers they do not know)")
		return
	}
	ts := kitTimeStamp(v.c.Body)
	if ts == "" {
		v.add("signature parameters", false, "the body has no timeStamp", "")
		return
	}
	v.add("signature parameters", true, "", "")
	v.v1Stamp(ts, family.GMT8, "GMT+8")
	if !tokenWellFormed(token) {
		v.add("signature", false, "authToken is not the Base64 of an HMAC-SHA256", "")
		return
	}
	forms := v1KitForms(v.key, v.c.Body, token)
	if forms == nil {
		v.add("signature", false, "the body is not a JSON object", "")
		return
	}
	v.signature(forms)
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
