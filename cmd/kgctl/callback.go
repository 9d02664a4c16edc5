package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// callFlags are the flags callback and probe share.
type callFlags struct {
	url          string
	key          secretFlags
	timeout      time.Duration
	json         bool
	kitPublicKey string
}

func (f *callFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "url", "", "the production URL configured in the seller console (required)")
	f.key.register(cmd, "key", "key", "the family's environment variable")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultTimeout, "how long KooGallery waits for an answer")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&f.kitPublicKey, "kit-public-key", "", "kit: the RSA public key uploaded at 应用凭证申请 (PEM), to encrypt applicationSync's clientSecret")
}

func (f *callFlags) target(fam *family) (*target, error) {
	if f.url == "" {
		return nil, usageErr("--url is required")
	}
	key, err := f.key.resolve(fam.env)
	if err != nil {
		return nil, err
	}
	t, err := newTarget(fam, f.url, key, f.timeout)
	if err != nil {
		return nil, err
	}
	return t, t.loadKitPublicKey(f.kitPublicKey)
}

func newCallbackCmd() *cobra.Command {
	var (
		cf                                    callFlags
		fieldSpecs                            []string
		body                                  string
		replay, staleF, tamper, wrong, nosign bool
	)
	cmd := &cobra.Command{
		Use:   "callback FAMILY ACTIVITY --url URL",
		Short: "Send one correctly signed KooGallery callback and check the answer",
		Long: `callback sends one call exactly as KooGallery signs it to your production interface, prints the
answer and checks it the way KooGallery reads it: HTTP 200, a JSON result whose resultCode is one
the documentation lists for the activity, an instanceId for newInstance, and for V1 a Body-Sign
that verifies and appInfo credentials that decrypt.

Families and activities (the kit's are interface names):
  saas      newInstance queryInstance refreshInstance updateInstanceStatus upgradeInstance releaseInstance
  saas-v1   newInstance queryInstance refreshInstance expireInstance instanceStatus upgrade releaseInstance
  kit       tenantSync applicationSync authSync singleOrgSync allOrgSync   (POST <url>/produceAPI/v2/<name>)
  kit-v1    tenantSync applicationSync authSync singleOrgSync allOrgSync   (POST <url>/produceAPI/<name>)
  license   refreshLicenseCode updateLicenseCodeStatus releaseLicenseCode
  order     orderNotify

The call carries testFlag=1 and made-up IDs; --field NAME=VALUE sets or adds a member (a V1
parameter), --field 'NAME:=JSON' a JSON value (kit), and --body replaces the whole body (@file
reads it from a file; for saas-v1 it is a query string).

--replay sends the same signed call twice; --stale, --tamper, --wrong-key and --unsigned send a call
signed outside the freshness window, changed after signing, signed with another key, or not signed.
Each must be refused with 000001.

The key comes from --key-file, --key, or the family's variable: KOOGALLERY_ACCESS_KEY (saas,
license, order), KOOGALLERY_V1_KEY (saas-v1), KOOGALLERY_KIT_KEY (kit, kit-v1).`,
		Example: `  export KOOGALLERY_ACCESS_KEY=...   # 卖家中心 › 应用工具 › 密钥管理
  kgctl callback saas newInstance --url https://seller.example.com/isv/produce
  kgctl callback saas updateInstanceStatus --url https://seller.example.com/isv/produce --field instanceId=i-1 --field status=UNFREEZE
  kgctl callback order orderNotify --url https://seller.example.com/isv/order --replay
  kgctl callback kit tenantSync --url https://seller.example.com/isv/produce --key-file kit.key --field 'flag:=0'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("callback takes FAMILY and ACTIVITY (families: %s)", familyNames())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fam, err := lookupFamily(args[0])
			if err != nil {
				return err
			}
			activity, err := fam.activity(args[1])
			if err != nil {
				return err
			}
			md := genuine
			n := 0
			for _, f := range []struct {
				set bool
				m   mode
			}{{staleF, stale}, {tamper, tampered}, {wrong, forged}, {nosign, unsigned}} {
				if f.set {
					md = f.m
					n++
				}
			}
			if n > 1 || (n == 1 && replay) {
				return usageErr("--replay, --stale, --tamper, --wrong-key and --unsigned exclude each other")
			}
			t, err := cf.target(fam)
			if err != nil {
				return err
			}
			var raw []byte
			if body != "" {
				if raw, err = readArg(body); err != nil {
					return err
				}
			}
			id := newIDs()
			if activity == "orderNotify" {
				// The documented mock order: a handler that queries it gets one.
				id.OrderID, id.OrderLineID = "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001"
			}
			m := fields(fam, activity, id, time.Now())
			if activity == "applicationSync" {
				m["clientSecret"] = t.encryptSecret("kgctl-client-secret")
			}
			for _, s := range fieldSpecs {
				if err := setField(m, s, fam.scheme.kit()); err != nil {
					return err
				}
			}
			p, err := t.prepare(activity, m, raw, md)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			first := p.send(ctx)
			sent := []*exchange{first}
			var checks []check
			switch {
			case replay:
				second := p.send(ctx)
				sent = append(sent, second)
				checks = append(checks, genuineCheck(t, "answer", first))
				if fam.scheme.v1() {
					c := result(t, "replayed call", second, []string{"000001", "000000"}, "")
					if c.Pass {
						c.Reason = "V1 has no nonce: an identical re-send may be answered from memory (the SDK answers it 000000 without running it again)"
					}
					checks = append(checks, c)
				} else {
					checks = append(checks, result(t, "replayed call refused", second, []string{"000001"}, hintReplay))
				}
			case md == genuine:
				checks = append(checks, genuineCheck(t, "answer", first))
			default:
				checks = append(checks, result(t, md.String()+" call refused", first, []string{"000001"}, refusalHint(md)))
			}
			return reportExchanges(cmd.OutOrStdout(), cf.json, sent, checks)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringArrayVar(&fieldSpecs, "field", nil, "set a member: NAME=VALUE, or NAME:=JSON (repeatable)")
	cmd.Flags().StringVar(&body, "body", "", "the whole body instead of the generated one (@file reads a file)")
	cmd.Flags().BoolVar(&replay, "replay", false, "send the same signed call twice; the second must be refused")
	cmd.Flags().BoolVar(&staleF, "stale", false, "sign outside the freshness window (V2: 2 minutes old; V1: 25 hours)")
	cmd.Flags().BoolVar(&tamper, "tamper", false, "change the call after signing it")
	cmd.Flags().BoolVar(&wrong, "wrong-key", false, "sign with a key that is not yours")
	cmd.Flags().BoolVar(&nosign, "unsigned", false, "send the call without a signature")
	return cmd
}

const hintReplay = "remember each verified nonce for the freshness window and refuse a second use with 000001 (the SDK's handlers do)"

func refusalHint(m mode) string {
	switch m {
	case stale:
		return "refuse a timestamp more than 60 s away (V1: a timeStamp outside your window) with 000001"
	case forged, unsigned:
		return "verify the signature with your key, in constant time, before anything else, and refuse with 000001"
	case tampered:
		return "verify the signature over the body (or parameters) as received and refuse a mismatch with 000001"
	}
	return ""
}

// genuineCheck accepts any documented answer to a genuine call, and requires
// the instance ID a successful newInstance must carry.
func genuineCheck(t *target, name string, x *exchange) check {
	c := result(t, name, x, codeSlice(allowedCodes(t.fam, x.Activity)), "")
	if c.Pass && x.Activity == "newInstance" && (x.ResultCode == "000000" || x.ResultCode == "000004") {
		if p := instanceIDProblem(x); p != nil {
			c.Pass, c.Reason, c.Hint = false, p.reason, p.hint
		}
	}
	if c.Pass && x.ResultCode != "000000" {
		c.Reason = "documented, but not success: " + codeMeaning[x.ResultCode]
	}
	return c
}

func instanceIDProblem(x *exchange) *problem {
	switch {
	case x.InstanceID == "":
		return &problem{"newInstance answered " + x.ResultCode + " without an instanceId", `answer "instanceId" (at most 64 characters; the first call's businessId is a good choice)`}
	case len([]rune(x.InstanceID)) > 64:
		return &problem{"instanceId is longer than 64 characters", "keep instance IDs at most 64 characters"}
	}
	return nil
}

var codeMeaning = map[string]string{
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

func codeSlice(m map[string]bool) []string {
	s := make([]string, 0, len(m))
	for c := range m {
		s = append(s, c)
	}
	sort.Strings(s)
	return s
}

// readArg reads a flag value that may name a file with @file.
func readArg(v string) ([]byte, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, runErr(fmt.Errorf("read %s: %w", name, err))
		}
		return b, nil
	}
	return []byte(v), nil
}

type exchangeJSON struct {
	Request struct {
		Method string      `json:"method"`
		URL    string      `json:"url"`
		Header http.Header `json:"header,omitempty"`
		Body   string      `json:"body,omitempty"`
	} `json:"request"`
	Answer struct {
		Error      string      `json:"error,omitempty"`
		Status     int         `json:"status,omitempty"`
		Header     http.Header `json:"header,omitempty"`
		Body       string      `json:"body,omitempty"`
		DurationMS int64       `json:"durationMs"`
	} `json:"answer"`
}

func reportExchanges(w io.Writer, asJSON bool, xs []*exchange, checks []check) error {
	failed := 0
	for _, c := range checks {
		if !c.Pass && !c.Skipped {
			failed++
		}
	}
	if asJSON {
		out := struct {
			Exchanges []exchangeJSON `json:"exchanges"`
			Checks    []check        `json:"checks"`
			Passed    bool           `json:"passed"`
		}{Checks: checks, Passed: failed == 0}
		for _, x := range xs {
			var e exchangeJSON
			e.Request.Method, e.Request.URL, e.Request.Header, e.Request.Body = x.Method, x.URL, x.Header, string(x.Body)
			if x.Err != nil {
				e.Answer.Error = x.Err.Error()
			}
			e.Answer.Status, e.Answer.Header, e.Answer.Body, e.Answer.DurationMS = x.Status, x.RespHeader, string(x.Answer), x.Duration.Milliseconds()
			out.Exchanges = append(out.Exchanges, e)
		}
		if err := writeJSON(w, out); err != nil {
			return runErr(err)
		}
	} else {
		for _, x := range xs {
			printExchange(w, x)
		}
		printChecks(w, checks)
	}
	if failed > 0 {
		return errFailed
	}
	return nil
}

func printExchange(w io.Writer, x *exchange) {
	fmt.Fprintf(w, "> %s %s\n", x.Method, x.URL)
	printHeader(w, "> ", x.Header)
	if len(x.Body) > 0 {
		fmt.Fprintf(w, "> \n> %s\n", x.Body)
	}
	if x.Err != nil {
		fmt.Fprintf(w, "< (no answer after %v) %v\n\n", x.Duration.Round(time.Millisecond), x.Err)
		return
	}
	fmt.Fprintf(w, "< HTTP %d %s (%v)\n", x.Status, http.StatusText(x.Status), x.Duration.Round(time.Millisecond))
	h := http.Header{}
	for _, k := range []string{"Content-Type", "Body-Sign"} {
		if v := x.RespHeader.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	printHeader(w, "< ", h)
	fmt.Fprintf(w, "< \n< %s\n\n", x.Answer)
}

func printHeader(w io.Writer, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}
