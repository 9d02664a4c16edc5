package exchange

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// Check is the outcome of one probe or callback check.
type Check struct {
	Name       string `json:"name"`
	Activity   string `json:"activity,omitempty"`
	Pass       bool   `json:"pass"`
	Skipped    bool   `json:"skipped,omitempty"`
	ResultCode string `json:"resultCode,omitempty"`
	DurationMS int64  `json:"durationMs"`
	Reason     string `json:"reason,omitempty"`
	Hint       string `json:"hint,omitempty"`
}

// Problem is why an answer fails, and what to do about it.
type Problem struct{ Reason, Hint string }

// HintEnvelope is the fix for an answer KooGallery cannot read.
const HintEnvelope = `answer HTTP 200 with a JSON object such as {"resultCode":"000000","resultMsg":"success"}; the SDK's handlers always do`

// AnswerProblem returns what is wrong with an answer as KooGallery reads it,
// whatever the call: no answer in time, not HTTP 200, not a JSON result, a
// missing or undocumented result code, a V1 answer without a valid Body-Sign
// or with credentials KooGallery cannot decrypt.
func AnswerProblem(t *Target, x *Exchange) *Problem {
	switch {
	case x.Err != nil:
		if strings.HasPrefix(x.Err.Error(), "no answer within") {
			return &Problem{x.Err.Error(), slowHint(t, x.Activity)}
		}
		return &Problem{"no answer: " + x.Err.Error(), "check that the URL is reachable from the internet over HTTPS with a CA-issued certificate"}
	case x.Duration > t.Timeout:
		return &Problem{fmt.Sprintf("answered in %v; KooGallery waits %v", x.Duration.Round(time.Millisecond), t.Timeout), slowHint(t, x.Activity)}
	case x.Status != 200:
		return &Problem{fmt.Sprintf("HTTP %d", x.Status), "KooGallery expects HTTP 200 for every call, refusals included; " + HintEnvelope}
	case x.NotJSON != nil:
		return &Problem{x.NotJSON.Error() + ": " + snippet(x.Answer), HintEnvelope}
	case x.ResultCode == "" && x.CodeRaw != "":
		return &Problem{"resultCode is " + x.CodeRaw + ", not a JSON string", `send the code as a six-digit string: "resultCode":"000000"`}
	case x.ResultCode == "":
		return &Problem{"the answer has no resultCode", HintEnvelope}
	case t.Fam.Scheme.V1() && x.BodySignErr != nil:
		return &Problem{"Body-Sign: " + strings.TrimPrefix(x.BodySignErr.Error(), "koogallerytest: "),
			`sign every V1 answer, failures included: Body-Sign: sign_type="HMAC-SHA256", signature="<Base64(HMAC-SHA256(Key, the exact body bytes sent))>" (saas.NewV1Handler and kit.NewHandler do)`}
	}
	if allowed := family.AllowedCodes(t.Fam, x.Activity); !allowed[x.ResultCode] {
		return &Problem{fmt.Sprintf("resultCode %q is not one the documentation lists for %s (%s)", x.ResultCode, x.Activity, family.CodeList(allowed)),
			"answer 000000 for success; see the result-code table of the production-interface documentation"}
	}
	if t.Fam.Scheme.V1() && x.AppInfoErr != nil {
		return &Problem{"appInfo: " + strings.ReplaceAll(x.AppInfoErr.Error(), "koogallerytest: ", ""),
			"encrypt appInfo userName and password with the Key and the answer's encryptType (saas.EncryptField; saas.NewV1Handler does it); KooGallery shows the buyer nothing it cannot decrypt"}
	}
	if utf8.RuneCountInString(x.ResultMsg) > 255 {
		return &Problem{"resultMsg is longer than 255 characters", "keep resultMsg short"}
	}
	return nil
}

func slowHint(t *Target, activity string) string {
	if activity == "newInstance" && t.Fam.Scheme == family.SchemeV2 {
		return "answer within the timeout: provision asynchronously and answer 000004 (saas.NewInstanceResponse{Pending: true}); KooGallery then polls queryInstance"
	}
	return "answer within the timeout: do slow work after answering, or in the background"
}

func snippet(b []byte) string {
	s := string(b)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return fmt.Sprintf("%q", s)
}

// Result turns an exchange and an expectation into a check: the answer must
// be acceptable (AnswerProblem) and its code one of want.
func Result(t *Target, name string, x *Exchange, want []string, hint string) Check {
	c := Check{Name: name, Activity: x.Activity, ResultCode: x.ResultCode, DurationMS: x.Duration.Milliseconds()}
	if p := AnswerProblem(t, x); p != nil {
		// A refusal answered with a code outside the activity's list is
		// still reported as the wrong code for a refusal.
		c.Reason, c.Hint = p.Reason, p.Hint
		return c
	}
	for _, w := range want {
		if x.ResultCode == w {
			c.Pass = true
			return c
		}
	}
	c.Reason = fmt.Sprintf("answered %s %s, want %s", x.ResultCode, QuoteMsg(x.ResultMsg), strings.Join(want, " or "))
	c.Hint = hint
	return c
}

// QuoteMsg is a result message quoted in parentheses, or "".
func QuoteMsg(m string) string {
	if m == "" {
		return ""
	}
	return fmt.Sprintf("(%q)", m)
}

// PrintChecks writes a PASS, FAIL or SKIP line per check, with the fix of
// each failure, and returns how many failed.
func PrintChecks(w io.Writer, checks []Check) (failed int) {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	for _, c := range checks {
		status := "PASS"
		switch {
		case c.Skipped:
			status = "SKIP"
		case !c.Pass:
			status = "FAIL"
			failed++
		}
		code := c.ResultCode
		if code == "" {
			code = "------"
		}
		fmt.Fprintf(w, "%s  %-*s  %s  %5dms", status, width, c.Name, code, c.DurationMS)
		if c.Reason != "" {
			fmt.Fprintf(w, "  %s", c.Reason)
		}
		fmt.Fprintln(w)
		if c.Hint != "" && !c.Pass && !c.Skipped {
			fmt.Fprintf(w, "      fix: %s\n", c.Hint)
		}
	}
	return failed
}
