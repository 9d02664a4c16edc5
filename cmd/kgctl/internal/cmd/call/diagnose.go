package call

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/isvkit/koogallery/auth"
)

// diagnose explains an APIGW.0301: it compares the canonical request the
// gateway echoed, if any, with the one signed.
func diagnose(req *http.Request, d auth.Debug, resp *http.Response, msg string, now time.Time) string {
	var b strings.Builder
	b.WriteString("The gateway refused the signature (" + msg + ").\n")
	lower := strings.ToLower(msg)
	signedAt, _ := time.Parse(auth.DateLayout, req.Header.Get(auth.HeaderDate))
	skew := clockSkew(resp, signedAt)
	switch {
	case strings.Contains(lower, "reach the limit") || strings.Contains(lower, "forbidden"):
		b.WriteString("Likely cause: the AK is locked after five signature failures in a row. Wait five minutes, fix the cause, and send once.\n")
		return b.String()
	case strings.Contains(lower, "ak not exist") || strings.Contains(lower, "secretkey failed"):
		b.WriteString("Likely cause: the gateway does not know this access key: a typo, a deleted key, or the wrong site (--site).\n")
		return b.String()
	case strings.Contains(lower, "expired"):
		fmt.Fprintf(&b, "Likely cause: clock skew. X-Sdk-Date was %s", req.Header.Get(auth.HeaderDate))
		if skew != 0 {
			fmt.Fprintf(&b, "; the gateway's clock reads %v %s", abs(skew).Round(time.Second), aheadBehind(skew))
		}
		b.WriteString(". The gateway allows 15 minutes: synchronise this machine's clock (NTP).\n")
		return b.String()
	}
	echo, found := echoedCanonical(msg)
	if !found {
		b.WriteString("The gateway did not echo its canonical request, so kgctl cannot diff it. What was signed:\n\n")
		b.WriteString(indent(d.CanonicalRequest))
		b.WriteString("\n\n")
		if abs(skew) > 5*time.Minute {
			fmt.Fprintf(&b, "The gateway's clock reads %v %s: check this machine's clock.\n", abs(skew).Round(time.Second), aheadBehind(skew))
		}
		b.WriteString("Likely causes, most common first: a wrong secret key (HUAWEICLOUD_SDK_SK); a proxy that changed a signed header\n" +
			"(" + strings.ReplaceAll(d.SignedHeaders, ";", ", ") + ") or the body; a path or query encoded differently on the way.\n" +
			"kgctl call --dry-run prints the canonical request and a curl command to try the same request from another machine.\n")
		return b.String()
	}
	ours := strings.Split(d.CanonicalRequest, "\n")
	theirs := strings.Split(echo, "|")
	b.WriteString("\nCanonical request, line by line (- signed by kgctl, + computed by the gateway):\n")
	diffs := lineDiff(&b, ours, theirs)
	b.WriteString("\n")
	b.WriteString(cause(ours, theirs, diffs, skew))
	return b.String()
}

// echoedCanonical finds the "canonicalRequest:" echo in a gateway message.
func echoedCanonical(msg string) (string, bool) {
	i := strings.Index(strings.ToLower(msg), "canonicalrequest:")
	if i < 0 {
		return "", false
	}
	s := strings.TrimSpace(msg[i+len("canonicalrequest:"):])
	s = strings.Trim(s, `"`)
	return s, s != ""
}

// lineDiff writes both canonical requests aligned by line and returns the
// indexes of the lines that differ.
func lineDiff(b *strings.Builder, ours, theirs []string) []int {
	var diffs []int
	n := max(len(ours), len(theirs))
	for i := 0; i < n; i++ {
		var o, t string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			t = theirs[i]
		}
		if o == t && i < len(ours) && i < len(theirs) {
			fmt.Fprintf(b, "    %s\n", o)
			continue
		}
		diffs = append(diffs, i)
		if i < len(ours) {
			fmt.Fprintf(b, "  - %s\n", o)
		}
		if i < len(theirs) {
			fmt.Fprintf(b, "  + %s\n", t)
		}
	}
	return diffs
}

// cause names the likely cause from which lines of the canonical request
// differ: 0 method, 1 URI, 2 query, then the header lines, an empty line,
// the signed-header list and the payload hash.
func cause(ours, theirs []string, diffs []int, skew time.Duration) string {
	if len(diffs) == 0 {
		return "Likely cause: a wrong secret key. The gateway computed the same canonical request, so the difference is the key the\n" +
			"HMAC was computed with: check HUAWEICLOUD_SDK_SK (and that it belongs to this AK).\n"
	}
	var causes []string
	for _, i := range diffs {
		var o, t string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			t = theirs[i]
		}
		name, _, _ := strings.Cut(o, ":")
		tname, _, _ := strings.Cut(t, ":")
		switch {
		case i == 0:
			causes = append(causes, "the method changed on the way (a proxy or redirect turned "+o+" into "+t+")")
		case i == 1 || i == 2:
			what := "path"
			if i == 2 {
				what = "query"
			}
			if decodedEqual(o, t, i == 2) {
				causes = append(causes, "an encoding difference in the "+what+": both decode to the same text but are escaped differently; send the canonical form (auth.EncodeQuery), with %20 for a space and %2B for '+'")
			} else {
				causes = append(causes, "the "+what+" changed on the way (a proxy or gateway rewrote it, or the URL was re-encoded)")
			}
		case name == "x-sdk-date" || tname == "x-sdk-date":
			c := "clock skew: the gateway read another X-Sdk-Date"
			if skew != 0 {
				c += fmt.Sprintf(" (its clock reads %v %s)", abs(skew).Round(time.Second), aheadBehind(skew))
			}
			causes = append(causes, c)
		case name == "host" || tname == "host":
			causes = append(causes, "the Host header was changed by a proxy or load balancer (or the request went to another host than signed)")
		case i == len(ours)-1 && i == len(theirs)-1:
			causes = append(causes, "the body changed on the way (a proxy re-encoded or compressed it, or a newline was added): its SHA-256 differs")
		case strings.Contains(o, ";") || strings.Contains(t, ";"):
			causes = append(causes, "the gateway signs another header set ("+t+" instead of "+o+"): a header was dropped on the way (names with '_' are dropped by many proxies)")
		case o != "" || t != "":
			hdr := name
			if hdr == "" {
				hdr = tname
			}
			causes = append(causes, "a header changed by a proxy: "+hdr+" (sign fewer headers, or keep proxies from rewriting it)")
		}
	}
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString("Likely cause:\n")
	for _, c := range causes {
		if !seen[c] {
			seen[c] = true
			b.WriteString("  - " + c + "\n")
		}
	}
	return b.String()
}

func decodedEqual(a, b string, query bool) bool {
	if query {
		qa, err1 := url.ParseQuery(a)
		qb, err2 := url.ParseQuery(b)
		if err1 != nil || err2 != nil {
			return false
		}
		return auth.EncodeQuery(qa) == auth.EncodeQuery(qb)
	}
	da, err1 := url.PathUnescape(a)
	db, err2 := url.PathUnescape(b)
	return err1 == nil && err2 == nil && strings.TrimSuffix(da, "/") == strings.TrimSuffix(db, "/")
}

func clockSkew(resp *http.Response, signedAt time.Time) time.Duration {
	if signedAt.IsZero() {
		return 0
	}
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0
	}
	return d.Sub(signedAt)
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "later than X-Sdk-Date (this machine's clock is behind)"
	}
	return "earlier than X-Sdk-Date (this machine's clock is ahead)"
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
