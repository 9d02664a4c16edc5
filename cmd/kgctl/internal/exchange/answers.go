package exchange

import (
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// CallFlags are the flags callback and probe share.
type CallFlags struct {
	URL          string
	Key          cmdutil.SecretFlags
	Timeout      time.Duration
	JSON         bool
	KitPublicKey string
}

// Register adds the flags to cmd.
func (f *CallFlags) Register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.URL, "url", "", "the production URL configured in the seller console (required)")
	f.Key.Register(cmd, "key", "key", "the family's environment variable")
	cmd.Flags().DurationVar(&f.Timeout, "timeout", DefaultTimeout, "how long KooGallery waits for an answer")
	cmd.Flags().BoolVar(&f.JSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&f.KitPublicKey, "kit-public-key", "", "kit: the RSA public key uploaded at 应用凭证申请 (PEM), to encrypt applicationSync's clientSecret")
}

// Target resolves the family's key (looked up with getenv) and returns the
// target the flags name; client may be nil (see NewTarget).
func (f *CallFlags) Target(fam *family.Family, getenv func(string) string, client *http.Client) (*Target, error) {
	if f.URL == "" {
		return nil, cmdutil.UsageErr("--url is required")
	}
	key, err := f.Key.Resolve(getenv, fam.Env)
	if err != nil {
		return nil, err
	}
	t, err := NewTarget(fam, f.URL, key, f.Timeout, client)
	if err != nil {
		return nil, err
	}
	return t, t.LoadKitPublicKey(f.KitPublicKey)
}

// HintReplay is the fix for a replayed call that was accepted.
const HintReplay = "remember each verified nonce for the freshness window and refuse a second use with 000001 (the SDK's handlers do)"

// RefusalHint is the fix for a call of mode m that was accepted.
func RefusalHint(m Mode) string {
	switch m {
	case Stale:
		return "refuse a timestamp more than 60 s away (V1: a timeStamp outside your window) with 000001"
	case Forged, Unsigned:
		return "verify the signature with your key, in constant time, before anything else, and refuse with 000001"
	case Tampered:
		return "verify the signature over the body (or parameters) as received and refuse a mismatch with 000001"
	}
	return ""
}

// GenuineCheck accepts any documented answer to a genuine call, and requires
// the instance ID a successful newInstance must carry.
func GenuineCheck(t *Target, name string, x *Exchange) Check {
	c := Result(t, name, x, family.CodeSlice(family.AllowedCodes(t.Fam, x.Activity)), "")
	if c.Pass && x.Activity == "newInstance" && (x.ResultCode == "000000" || x.ResultCode == "000004") {
		if p := InstanceIDProblem(x); p != nil {
			c.Pass, c.Reason, c.Hint = false, p.Reason, p.Hint
		}
	}
	if c.Pass && x.ResultCode != "000000" {
		c.Reason = "documented, but not success: " + CodeMeaning[x.ResultCode]
	}
	return c
}

// InstanceIDProblem says what is wrong with a newInstance answer's
// instanceId, or nil.
func InstanceIDProblem(x *Exchange) *Problem {
	switch {
	case x.InstanceID == "":
		return &Problem{"newInstance answered " + x.ResultCode + " without an instanceId", `answer "instanceId" (at most 64 characters; the first call's businessId is a good choice)`}
	case len([]rune(x.InstanceID)) > 64:
		return &Problem{"instanceId is longer than 64 characters", "keep instance IDs at most 64 characters"}
	}
	return nil
}

// CodeMeaning is what each documented result code means.
var CodeMeaning = map[string]string{
	"000001": "authentication failed",
	"000002": "invalid request parameter",
	"000003": "instance (or licence code) does not exist",
	"000004": "being processed (V2 newInstance: provisioning asynchronously)",
	"000005": "internal error",
	"000100": "no instance resource available", "000101": "mobile number missing or duplicate",
	"000102": "e-mail missing or duplicate", "000103": "product cannot be purchased twice",
	"000104": "product internal service error", "000105": "account already subscribed to the benefit",
	"000106": "product resources sold out", "000107": "SaaS e-mail domain already exists",
}
